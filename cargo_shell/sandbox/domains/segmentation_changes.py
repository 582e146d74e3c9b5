"""Segment changes one at a time: get a change, fetch or download the records of some of its kinds.

A change keeps the ids of its records per kind (``segmentation_tracking``); their values are read
from the model as it is now (a record removed from the model since is answered as its ``_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.domains.segmentation import change_json, columns_json, csv_chunks
from cargo_shell.sandbox.domains.segmentation_tracking import KINDS
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.fields import strings
from cargo_shell.sandbox.http import Request, Router, bad_request, not_found
from cargo_shell.sandbox.records import ID_CHUNK, build_query, fetch_by_ids
from cargo_shell.sandbox.util import as_int
from cargo_shell.sandbox.warehouse import ModelInfo, load_model

MAX_PAGE = 1000


def _change(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM changes WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise not_found("Change", "changeNotFound")
    return row


def _model_of(db: Database, ws: str, change: dict[str, Any]) -> ModelInfo:
    segment = db.one(
        "SELECT model_uuid FROM segments WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
        (change["segment_uuid"], ws),
    )
    if segment is None:
        raise not_found("The change's segment", "segmentNotFound")
    return load_model(db, ws, segment["model_uuid"])


def _kinds(body: dict[str, Any]) -> list[str]:
    kinds = strings(body, "kinds")
    if not kinds:
        raise bad_request(f"kinds is required: one or more of {', '.join(KINDS)}", "missingField")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise bad_request(f"kinds takes {', '.join(KINDS)}, not {', '.join(unknown)}", "invalidField")
    return sorted(set(kinds))


def _where(kinds: list[str]) -> str:
    return f"change_uuid = ? AND kind IN ({', '.join('?' for _ in kinds)})"


def _records(db: Database, model: ModelInfo, ids: list[str], now: float) -> list[dict[str, Any]]:
    found = {str(r["_id"]): r for r in fetch_by_ids(db, model, ids, now=now)}
    return [found.get(rid, {"_id": rid}) for rid in ids]


def get_change(req: Request) -> dict[str, Any]:
    return {"change": change_json(_change(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def fetch_change(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    change = _change(db, ws, req.path_params["uuid"])
    kinds = _kinds(body)
    limit = as_int(body.get("limit"), "limit", 100, minimum=0, maximum=MAX_PAGE)
    offset = as_int(body.get("offset"), "offset", 0)
    model = _model_of(db, ws, change)
    params = [change["uuid"], *kinds]
    count = int(db.scalar(f"SELECT COUNT(*) FROM change_records WHERE {_where(kinds)}", params))
    ids = [
        r["record_id"]
        for r in db.all(
            f"SELECT record_id FROM change_records WHERE {_where(kinds)} ORDER BY record_id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    ]
    columns = build_query(db, model, None, None, now=req.ctx.clock(), ids=[]).columns
    return {
        "records": _records(db, model, ids, req.ctx.clock()),
        "count": count,
        "columns": columns_json(model, columns),
    }


def download_change(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    change = _change(db, ws, req.path_params["uuid"])
    kinds = _kinds(body)
    _model_of(db, ws, change)  # 404 now, not when the URL is read
    spec = {"changeUuid": change["uuid"], "kinds": kinds, "now": req.ctx.clock()}
    return {"urls": [create_download(req.ctx, "change", spec)]}


@register_download_kind("change")
def _stream_change(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    change = _change(db, ws, spec["changeUuid"])
    model = _model_of(db, ws, change)
    kinds: list[str] = spec["kinds"]
    header = [c.slug for c in build_query(db, model, None, None, now=spec["now"], ids=[]).columns]

    def rows() -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = db.all(
                f"SELECT record_id FROM change_records WHERE {_where(kinds)} ORDER BY record_id LIMIT ? OFFSET ?",
                [change["uuid"], *kinds, ID_CHUNK, offset],
            )
            if not page:
                return
            yield from _records(db, model, [r["record_id"] for r in page], spec["now"])
            offset += len(page)

    return csv_chunks(header, rows()), "text/csv; charset=utf-8", f"{model.slug}-{change['slug']}.csv"


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/segmentation/changes/{uuid}")(get_change)
    r("POST", "/v1/segmentation/changes/{uuid}/fetch")(fetch_change)
    r("POST", "/v1/segmentation/changes/{uuid}/download")(download_change)
