"""Segmentation domain: segments (CRUD), fetch with filters, streamed downloads, changes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains.segmentation_tracking import record_change
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.fields import optional, strings, text
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, JsonResponse, Request, Router, bad_request, not_found
from cargo_shell.sandbox.records import build_query, fetch_by_ids, fetch_page, iterate
from cargo_shell.sandbox.util import as_int, iso, new_uuid, require, slugify
from cargo_shell.sandbox.warehouse import ModelInfo, load_model

MAX_FETCH = 1000


def _optional_limit(value: Any) -> int | None:
    return None if value is None else as_int(value, "limit", minimum=0)


def segment_json(row: dict[str, Any], last_change: dict[str, Any] | None = None) -> dict[str, Any]:
    data = loads(row["data"], {})
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"],
        "modelUuid": row["model_uuid"],
        "slug": row["slug"],
        "name": row["name"],
        "filter": loads(row["filter"]),
        "sort": loads(row["sort"]),
        "limit": row["lim"],
        "recordsCount": row["records_count"],
        "fromPlay": bool(row["from_play"]),
        "trackingColumnSlugs": data.get("trackingColumnSlugs"),
        "columnSlugs": data.get("columnSlugs"),
        "syncedAt": row["synced_at"],
        "lastChange": last_change,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def change_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "segmentUuid": row["segment_uuid"],
        "slug": row["slug"],
        "totalRecordsCount": row["total"],
        "addedRecordsCount": row["added"],
        "updatedRecordsCount": row["updated"],
        "removedRecordsCount": row["removed"],
        "unchangedRecordsCount": row["unchanged"],
        "createdAt": row["created_at"],
    }


def _last_change(db: Database, segment_uuid: str) -> dict[str, Any] | None:
    row = db.one("SELECT * FROM changes WHERE segment_uuid = ? ORDER BY created_at DESC LIMIT 1", (segment_uuid,))
    if row is None:
        return None
    change = change_json(row)
    return {
        k: change[k]
        for k in (
            "uuid",
            "slug",
            "totalRecordsCount",
            "addedRecordsCount",
            "updatedRecordsCount",
            "removedRecordsCount",
            "unchangedRecordsCount",
            "createdAt",
        )
    }


def _segment(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM segments WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise not_found("Segment", "segmentNotFound")
    if row["deleted_at"]:
        raise ApiError(404, "Segment already removed", "segmentAlreadyRemoved")
    return row


def count_records(db: Database, model: ModelInfo, flt: Any, limit: int | None, now: float) -> int:
    query = build_query(db, model, flt, None, now=now, limit=limit)
    return fetch_page(db, model, query, 0, 0)[1]


def _linked_to_workflow(db: Database, segment_uuid: str) -> bool:
    if db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'wf_plays'") is None:
        return False
    return bool(db.scalar("SELECT 1 FROM wf_plays WHERE segment_uuid = ? AND deleted_at IS NULL", (segment_uuid,)))


# -- CRUD ----------------------------------------------------------------------------
def list_segments(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    sql, params = "SELECT * FROM segments WHERE workspace_uuid = ? AND deleted_at IS NULL", [ws]
    if isinstance(req.query.get("modelUuid"), str):
        sql += " AND model_uuid = ?"
        params.append(req.query["modelUuid"])
    rows = db.all(sql + " ORDER BY created_at, uuid", params)
    return {"segments": [segment_json(r, _last_change(db, r["uuid"])) for r in rows]}


def get_segment(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    row = _segment(db, req.ctx.workspace_uuid, req.path_params["uuid"])
    return {"segment": segment_json(row, _last_change(db, row["uuid"]))}


def _list_of_str(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise bad_request(f"{key} must be a list of column slugs")
    return value


def create_segment(req: Request) -> JsonResponse:
    db, ws, body, now = req.ctx.db, req.ctx.workspace_uuid, req.body(), req.ctx.clock()
    name = require(body, "name")
    model = load_model(db, ws, require(body, "modelUuid"))
    flt = require(body, "filter", dict)
    limit = _optional_limit(body.get("limit"))
    count = count_records(db, model, flt, limit, now)  # validates filter and sort columns
    build_query(db, model, flt, body.get("sort"), now=now)
    for key in ("trackingColumnSlugs", "columnSlugs"):
        for slug in _list_of_str(body, key) or []:
            model.column(slug)
    uuid, stamp = new_uuid(), iso(now)
    base = slugify(name)
    slug, n = base, 1
    while db.scalar("SELECT 1 FROM segments WHERE workspace_uuid = ? AND slug = ? AND deleted_at IS NULL", (ws, slug)):
        n += 1
        slug = f"{base}_{n}"
    data = {"trackingColumnSlugs": body.get("trackingColumnSlugs"), "columnSlugs": body.get("columnSlugs")}
    db.execute(
        "INSERT INTO segments (uuid, workspace_uuid, user_uuid, model_uuid, slug, name, filter, sort, lim, from_play,"
        " data, records_count, synced_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
        (
            uuid,
            ws,
            req.ctx.user_uuid,
            model.uuid,
            slug,
            name,
            dumps(flt),
            dumps(body.get("sort")),
            limit,
            dumps(data),
            count,
            stamp,
            stamp,
            stamp,
        ),
    )
    record_change(db, _segment(db, ws, uuid), now)
    row = _segment(db, ws, uuid)
    return JsonResponse({"segment": segment_json(row, _last_change(db, uuid))})


def update_segment(req: Request) -> dict[str, Any]:
    db, ws, body, now = req.ctx.db, req.ctx.workspace_uuid, req.body(), req.ctx.clock()
    row = _segment(db, ws, req.path_params["uuid"])
    if row["from_play"] or _linked_to_workflow(db, row["uuid"]):
        raise ApiError(400, "This segment belongs to a play; edit the play instead", "segmentLinkedToWorkflow")
    model = load_model(db, ws, row["model_uuid"])
    flt = body.get("filter", loads(row["filter"]))
    sort = body.get("sort", loads(row["sort"]))
    limit = _optional_limit(body.get("limit")) if "limit" in body else row["lim"]
    name = body.get("name", row["name"])
    if not isinstance(name, str) or not name:
        raise bad_request("name must be a non-empty string")
    count = count_records(db, model, flt, limit, now)
    build_query(db, model, flt, sort, now=now)
    data = loads(row["data"], {})
    for key in ("trackingColumnSlugs", "columnSlugs"):
        if key in body:
            for slug in _list_of_str(body, key) or []:
                model.column(slug)
            data[key] = body[key]
    db.execute(
        "UPDATE segments SET name = ?, filter = ?, sort = ?, lim = ?, data = ?, records_count = ?, synced_at = ?,"
        " updated_at = ? WHERE uuid = ?",
        (name, dumps(flt), dumps(sort), limit, dumps(data), count, iso(now), iso(now), row["uuid"]),
    )
    record_change(db, _segment(db, ws, row["uuid"]), now)
    new = _segment(db, ws, row["uuid"])
    return {"segment": segment_json(new, _last_change(db, row["uuid"]))}


def remove_segment(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _segment(db, ws, req.path_params["uuid"])
    if row["from_play"] or _linked_to_workflow(db, row["uuid"]):
        raise ApiError(400, "A play uses this segment; remove the play first", "segmentLinkedToWorkflow")
    now = iso(req.ctx.clock())
    db.execute("UPDATE segments SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
    return JsonResponse({})


# -- fetch / download ----------------------------------------------------------------
def fetch(req: Request) -> dict[str, Any]:
    db, body = req.ctx.db, req.body()
    model = load_model(db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    if body.get("enrich") or body.get("sync"):
        raise ApiError(
            UNAVAILABLE_STATUS,
            "enrich/sync refresh data from external integrations, which the sandbox cannot reach; fetch without them",
            "unavailableInSandbox",
        )
    flt = require(body, "filter", dict)
    page = as_int(body.get("fetchingLimit"), "fetchingLimit", 100, minimum=0, maximum=MAX_FETCH)
    offset = as_int(body.get("fetchingOffset"), "fetchingOffset", 0)
    query = build_query(db, model, flt, body.get("sort"), now=req.ctx.clock(), limit=_optional_limit(body.get("limit")))
    records, count = fetch_page(db, model, query, offset, page)
    return {"records": records, "count": count, "columns": columns_json(model, query.columns), "isRefreshing": False}


def columns_json(model: ModelInfo, columns: list[Any]) -> list[dict[str, Any]]:
    return [{"slug": c.slug, "type": c.type, "label": c.label, "modelUuid": model.uuid} for c in columns]


def fetch_records(req: Request) -> dict[str, Any]:
    """Records of a model by id, every column computed (ids that do not exist are left out)."""
    db, body = req.ctx.db, req.body()
    model = load_model(db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    ids = strings(body, "ids")
    if ids is None:
        raise bad_request("ids is required: the records' ids (their _id)", "missingField")
    if len(ids) > MAX_FETCH:
        raise bad_request(f"ids takes at most {MAX_FETCH} record ids", "invalidField")
    optional(body, "resetCache", bool)  # the sandbox's records are never cached: nothing to reset
    return {"records": fetch_by_ids(db, model, ids, now=req.ctx.clock())}


def download(req: Request) -> dict[str, Any]:
    db, body = req.ctx.db, req.body()
    model = load_model(db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    flt = require(body, "filter", dict)
    limit = _optional_limit(body.get("limit"))
    build_query(db, model, flt, body.get("sort"), now=req.ctx.clock(), limit=limit)  # validate now, not later
    spec = {"modelUuid": model.uuid, "filter": flt, "sort": body.get("sort"), "limit": limit, "now": req.ctx.clock()}
    return {"urls": [create_download(req.ctx, "segment", spec)]}


class _Buffer(io.StringIO):
    def pop(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def csv_chunks(header: list[str], rows: Iterable[dict[str, Any]], flush_every: int = 500) -> Iterator[bytes]:
    """CSV (objects/arrays as JSON text), yielded in chunks so memory stays flat."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n, record in enumerate(rows, 1):
        writer.writerow(
            [
                ""
                if (v := record.get(h)) is None
                else json.dumps(v)
                if isinstance(v, dict | list)
                else ("true" if v is True else "false" if v is False else v)
                for h in header
            ]
        )
        if n % flush_every == 0:
            yield buffer.pop().encode()
    yield buffer.pop().encode()


@register_download_kind("segment")
def _stream_segment(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    model = load_model(db, ws, spec["modelUuid"])
    query = build_query(db, model, spec["filter"], spec.get("sort"), now=spec["now"], limit=spec.get("limit"))
    header = [c.slug for c in query.columns]
    return csv_chunks(header, iterate(db, model, query)), "text/csv; charset=utf-8", f"{model.slug}.csv"


# -- changes -------------------------------------------------------------------------
def list_changes(req: Request) -> dict[str, Any]:
    db, query = req.ctx.db, req.query
    sql, params = "SELECT * FROM changes WHERE workspace_uuid = ?", [req.ctx.workspace_uuid]
    if isinstance(query.get("segmentUuid"), str):
        sql += " AND segment_uuid = ?"
        params.append(query["segmentUuid"])
    if str(query.get("notEmpty", "")).lower() == "true":
        sql += " AND (added + updated + removed) > 0"
    has = text(query, "hasRecords")
    if has is not None:
        column = {"added": "added", "updated": "updated", "removed": "removed", "unchanged": "unchanged"}.get(has)
        if column is None:
            raise bad_request("hasRecords must be added|updated|removed|unchanged")
        sql += f" AND {column} > 0"
    limit = as_int(query.get("limit"), "limit", 50, minimum=1, maximum=1000)
    offset = as_int(query.get("offset"), "offset", 0)
    rows = db.all(sql + " ORDER BY created_at DESC, uuid LIMIT ? OFFSET ?", [*params, limit, offset])
    return {"changes": [change_json(r) for r in rows]}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/segmentation/segments/list")(list_segments)
    r("GET", "/v1/segmentation/segments/{uuid}")(get_segment)
    r("POST", "/v1/segmentation/segments")(create_segment)
    r("PUT", "/v1/segmentation/segments/{uuid}")(update_segment)
    r("DELETE", "/v1/segmentation/segments/{uuid}")(remove_segment)
    r("POST", "/v1/segmentation/segments/fetch")(fetch)
    r("POST", "/v1/segmentation/segments/download")(download)
    r("GET", "/v1/segmentation/changes/list")(list_changes)
    r("POST", "/v1/segmentation/records/fetch")(fetch_records)
