"""Storage records: read one, create, update and remove rows of a model's real table.

A write lands in the model's SQLite table at once, so segment fetch, warehouse SQL and batches see
it. Values are checked against the column types; only stored columns the user owns (original and
custom) can be written, computed columns are recomputed for the rows written, metric and lookup
columns are computed when read. Bulk calls are all or nothing. Segment changes are not recorded
here: as on the platform, they are computed when the model syncs (``storage run create``).
"""

from __future__ import annotations

import sqlite3
import uuid as uuid_lib
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.domains.storage_columns import compute_values
from cargo_shell.sandbox.fields import objects, strings, uuid_ref
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request, not_found, unavailable
from cargo_shell.sandbox.records import ID_CHUNK, fetch_by_ids
from cargo_shell.sandbox.util import iso, parse_iso, require
from cargo_shell.sandbox.warehouse import SYSTEM_COLUMNS, Column, ModelInfo, encode_value, load_model, q

MAX_BULK = 5000
WRITABLE_KINDS = ("original", "custom")
_JSON_KINDS = {"object": dict, "array": list}


def _model(req: Request, model_uuid: Any) -> ModelInfo:
    return load_model(req.ctx.db, req.ctx.workspace_uuid, model_uuid)


def writable_model(db: Database, ws: str, model_uuid: Any) -> ModelInfo:
    """The model, when its records live in Cargo (a connector model's records live at the provider)."""
    model = load_model(db, ws, model_uuid)
    kind = db.scalar("SELECT kind FROM datasets WHERE uuid = ?", (model.dataset_uuid,))
    if kind == "connector":
        raise unavailable("Writing the records of a model synced from a connector (the write goes to the provider)")
    return model


def _check_value(column: Column, value: Any) -> Any:
    """The value as stored in the column; 400 naming the column when its type is not the column's."""
    if value is None or column.type == "any":
        return encode_value(value, column.type)
    expected = column.type
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, str),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "vector": isinstance(value, list)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value),
    }.get(expected, True)
    if not ok:
        raise bad_request(f"data.{column.slug} must be a {expected} (the column's type)", "invalidField")
    if expected == "date":
        parse_iso(value)  # 400 unless ISO 8601
    return encode_value(value, column.type)


def _row_values(model: ModelInfo, data: Any, where: str) -> dict[str, Any]:
    """Column slug → stored value for a ``data`` object; only columns the user may write."""
    if not isinstance(data, dict):
        raise bad_request(f"{where} must be an object of column slug to value", "invalidField")
    values: dict[str, Any] = {}
    for slug, value in data.items():
        if slug == "_id" and model.row["id_column_slug"] == "_id":
            if not isinstance(value, str) or not value:
                raise bad_request(f"{where}._id must be a non-empty string", "invalidField")
            values["_id"] = value
            continue
        if slug in SYSTEM_COLUMNS:
            raise bad_request(f"{where}.{slug} is a system column: it is set by Cargo", "invalidField")
        if not model.has_column(slug):
            raise ApiError(400, f"{where}.{slug}: model {model.slug} has no column {slug!r}", "columnNotFound")
        column = model.column(slug)
        if column.kind not in WRITABLE_KINDS:
            raise bad_request(f"{where}.{slug} is a {column.kind} column: Cargo computes its values", "invalidField")
        values[slug] = _check_value(column, value)
    return values


def _record_id(model: ModelInfo, values: dict[str, Any], where: str) -> str:
    id_column = model.row["id_column_slug"]
    if id_column == "_id":
        return str(values.pop("_id", None) or uuid_lib.uuid4())
    rid = values.get(id_column)
    if rid is None or rid == "":
        raise bad_request(f"{where}.{id_column} is required: it is the id column of model {model.slug}", "missingField")
    return str(rid)


def _title(model: ModelInfo, values: dict[str, Any], fallback: str) -> str:
    title = values.get(model.row["title_column_slug"])
    return fallback if title is None or title == "" else str(title)


def _existing(conn: sqlite3.Connection, model: ModelInfo, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for row in conn.execute(f"SELECT * FROM {q(model.table)} WHERE _id IN ({marks})", chunk):
            found[str(row["_id"])] = dict(row)
    return found


def _after_write(req: Request, model: ModelInfo, ids: list[str]) -> list[dict[str, Any]]:
    """Recompute the computed columns of the rows written, stamp the model, read the rows back."""
    db, now = req.ctx.db, req.ctx.clock()
    for column in model.columns:
        if column.kind == "computed" and ids:
            compute_values(db, model, column, ids)
    db.execute("UPDATE models SET last_emitted_at = ? WHERE uuid = ?", (iso(now), model.uuid))
    return fetch_by_ids(db, model, ids, now=now)


def _insert(req: Request, model: ModelInfo, items: list[tuple[str, dict[str, Any]]]) -> list[str]:
    conn = req.ctx.db.dataset_conn(model.dataset_uuid)
    ids = [rid for rid, _ in items]
    if len(set(ids)) != len(ids):
        raise bad_request("Two records of the request have the same id", "duplicateRecord")
    clash = sorted(_existing(conn, model, ids))
    if clash:
        raise ApiError(
            409, f"A record with id {clash[0]!r} already exists in {model.slug}: update it instead", "recordExists"
        )
    stamp = iso(req.ctx.clock())
    with conn:
        conn.execute("BEGIN")
        for rid, values in items:
            columns = ["_id", "_title", "_emitted_at", *values]
            marks = ", ".join("?" for _ in columns)
            conn.execute(
                f"INSERT INTO {q(model.table)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})",
                [rid, _title(model, values, rid), stamp, *values.values()],
            )
    return ids


def _update(req: Request, model: ModelInfo, items: list[tuple[str, dict[str, Any]]]) -> list[str]:
    conn = req.ctx.db.dataset_conn(model.dataset_uuid)
    ids = [rid for rid, _ in items]
    existing = _existing(conn, model, ids)
    missing = [rid for rid in ids if rid not in existing]
    if missing:
        raise not_found(f"Record {missing[0]!r} of model {model.slug}", "recordNotFound")
    id_column = model.row["id_column_slug"]
    for rid, values in items:
        if id_column in values and str(values[id_column]) != rid:
            raise bad_request(f"data.{id_column} is the record's id: it cannot change", "invalidField")
    stamp = iso(req.ctx.clock())
    with conn:
        conn.execute("BEGIN")
        for rid, values in items:
            title = _title(model, {**existing[rid], **values}, rid)
            sets = ", ".join(f"{q(c)} = ?" for c in ["_title", "_emitted_at", *values])
            conn.execute(f"UPDATE {q(model.table)} SET {sets} WHERE _id = ?", [title, stamp, *values.values(), rid])
    return ids


def _remove(req: Request, model: ModelInfo, ids: list[str]) -> None:
    conn = req.ctx.db.dataset_conn(model.dataset_uuid)
    existing = _existing(conn, model, ids)
    missing = [rid for rid in ids if rid not in existing]
    if missing:
        raise not_found(f"Record {missing[0]!r} of model {model.slug}", "recordNotFound")
    with conn:
        conn.execute("BEGIN")
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            conn.execute(f"DELETE FROM {q(model.table)} WHERE _id IN ({', '.join('?' for _ in chunk)})", chunk)
    req.ctx.db.execute("UPDATE models SET last_emitted_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), model.uuid))


def _bulk(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = objects(body, name)
    if items is None:
        raise bad_request(f"{name} is required", "missingField")
    if not items or len(items) > MAX_BULK:
        raise bad_request(f"{name} takes 1 to {MAX_BULK} records", "invalidField")
    return items


def _ids(body: dict[str, Any]) -> list[str]:
    ids = strings(body, "ids")
    if not ids or len(ids) > MAX_BULK or not all(ids):
        raise bad_request(f"ids takes 1 to {MAX_BULK} non-empty record ids", "invalidField")
    return list(dict.fromkeys(ids))


def _one_id(src: dict[str, Any]) -> str:
    rid = uuid_ref(src, "id")
    if rid is None:
        raise bad_request("id is required: the record's id (its _id)", "missingField")
    return rid


# -- handlers ----------------------------------------------------------------------------
def get_record(req: Request) -> dict[str, Any]:
    model = _model(req, uuid_ref(req.query, "modelUuid"))
    rid = _one_id(req.query)
    found = fetch_by_ids(req.ctx.db, model, [rid], now=req.ctx.clock())
    if not found:
        raise not_found(f"Record {rid!r} of model {model.slug}", "recordNotFound")
    return {"record": found[0], "isRefreshing": False}


def create_record(req: Request) -> dict[str, Any]:
    body = req.body()
    model = writable_model(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    values = _row_values(model, require(body, "data", dict), "data")
    ids = _insert(req, model, [(_record_id(model, values, "data"), values)])
    return {"record": _after_write(req, model, ids)[0]}


def create_records(req: Request) -> dict[str, Any]:
    body = req.body()
    model = writable_model(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    items = []
    for i, item in enumerate(_bulk(body, "records")):
        values = _row_values(model, item.get("data"), f"records[{i}].data")
        items.append((_record_id(model, values, f"records[{i}].data"), values))
    return {"records": _after_write(req, model, _insert(req, model, items))}


def update_record(req: Request) -> dict[str, Any]:
    body = req.body()
    model = writable_model(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    rid = _one_id(body)
    ids = _update(req, model, [(rid, _row_values(model, require(body, "data", dict), "data"))])
    return {"record": _after_write(req, model, ids)[0]}


def update_records(req: Request) -> dict[str, Any]:
    body = req.body()
    model = writable_model(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    items = []
    for i, item in enumerate(_bulk(body, "records")):
        rid = uuid_ref(item, "id")
        if rid is None:
            raise bad_request(f"records[{i}].id is required", "missingField")
        items.append((rid, _row_values(model, item.get("data"), f"records[{i}].data")))
    if len({rid for rid, _ in items}) != len(items):
        raise bad_request("Two records of the request have the same id", "duplicateRecord")
    return {"records": _after_write(req, model, _update(req, model, items))}


def remove_record(req: Request) -> JsonResponse:
    body = req.body()
    model = writable_model(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    _remove(req, model, [_one_id(body)])
    return JsonResponse({})


def remove_records(req: Request) -> JsonResponse:
    body = req.body()
    model = writable_model(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    _remove(req, model, _ids(body))
    return JsonResponse({})


def register(router: Router) -> None:
    r = router.route
    base = "/v1/storage/records"
    r("GET", f"{base}/get")(get_record)
    r("POST", f"{base}/create")(create_record)
    r("POST", f"{base}/createBulk")(create_records)
    r("PUT", f"{base}/update")(update_record)
    r("PUT", f"{base}/updateBulk")(update_records)
    r("DELETE", f"{base}/remove")(remove_record)
    r("DELETE", f"{base}/removeBulk")(remove_records)
