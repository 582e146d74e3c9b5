"""Checks before creating a model: is a slug free, and what would an extractor's config give.

A preview runs the native extractor without creating anything: ``custom`` answers its declared
columns and no records, ``file`` the columns of the CSV header and its first records. A
connector's extractor would read the provider: 422.
"""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.domains.storage_models import check_extractor, dataset_row, extracted
from cargo_shell.sandbox.fields import text, uuid_ref
from cargo_shell.sandbox.http import Request, Router, bad_request
from cargo_shell.sandbox.util import require

PREVIEW_RECORDS = 20


def _slug(src: dict[str, Any]) -> str:
    slug = text(src, "slug")
    if not slug:
        raise bad_request("slug is required", "missingField")
    return slug


def model_exists(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    dataset = dataset_row(db, ws, uuid_ref(req.query, "datasetUuid"))
    slug = _slug(req.query)
    found = db.scalar(
        "SELECT 1 FROM models WHERE dataset_uuid = ? AND slug = ? AND deleted_at IS NULL", (dataset["uuid"], slug)
    )
    return {"exists": found is not None}


def _preview(req: Request) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    dataset = dataset_row(db, ws, require(body, "datasetUuid"))
    extractor = _slug(body)
    config = body.get("config")
    if config is None:
        raise bad_request("config is required ({} when the extractor takes none)", "missingField")
    check_extractor(dataset, extractor, config, "Previewing a connector's extractor (it reads the provider)")
    columns, rows = extracted(db, ws, extractor, config)
    slugs = [c.slug for c in columns]
    records = [dict(zip(slugs, (row + [""] * len(slugs))[: len(slugs)], strict=True)) for row in rows]
    described = [{"slug": c.slug, "type": c.type, "label": c.label} for c in columns]
    return described, records, len(rows)


def preview(req: Request) -> dict[str, Any]:
    columns, records, count = _preview(req)
    return {"columns": columns, "records": records[:PREVIEW_RECORDS], "count": count}


def preview_count(req: Request) -> dict[str, Any]:
    return {"count": _preview(req)[2]}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/storage/models/existsBySlug")(model_exists)
    r("POST", "/v1/storage/models/preview")(preview)
    r("POST", "/v1/storage/models/previewCount")(preview_count)
