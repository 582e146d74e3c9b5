"""The engine's window on model data (owned by the storage domain).

Model rows live in one SQLite file per dataset, table ``models_<model slug>``, key
``_id``, title ``_title``, one column per column slug. Segment filters go through the
segmentation domain's filter compiler when it is available.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.engine.runner import NodeFailure

Record = dict[str, Any]


def model_row(conn: sqlite3.Connection, workspace_uuid: str, model_uuid: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT uuid, slug, dataset_uuid, id_column_slug, title_column_slug FROM models"
        " WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
        (model_uuid, workspace_uuid),
    ).fetchone()
    return row


def _table(model: sqlite3.Row) -> str:
    return f'"models_{model["slug"]}"'


def _columns(conn: sqlite3.Connection, model_uuid: str) -> list[str]:
    return [
        r[0] for r in conn.execute("SELECT slug FROM columns WHERE model_uuid = ? ORDER BY position", (model_uuid,))
    ]


def fetch(
    db: Database,
    workspace_uuid: str,
    model_uuid: str,
    *,
    ids: list[str] | None = None,
    filter_: Any = None,
    sort: Any = None,
    limit: int | None = None,
    now: float | None = None,
) -> list[Record]:
    """Records of a model: by ids, or through the segmentation filter compiler."""
    from cargo_shell.sandbox import records, warehouse

    if model_row(db.conn, workspace_uuid, model_uuid) is None:
        raise LookupError(f"Model {model_uuid} not found")
    model = warehouse.load_model(db, workspace_uuid, model_uuid)
    flt = None if ids is not None else filter_
    query = records.build_query(db, model, flt, sort, now=time.time() if now is None else now, limit=limit)
    rows = records.iterate(db, model, query)
    if ids is None:
        return list(rows)
    wanted = set(ids)  # the sandbox's models are small: filtering by id in Python is fine
    return [r for r in rows if str(r.get("_id")) in wanted]


def segment_records(db: Database, workspace_uuid: str, segment_uuid: str) -> tuple[str, list[Record]]:
    seg = db.conn.execute(
        "SELECT model_uuid, filter, sort, lim FROM segments"
        " WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
        (segment_uuid, workspace_uuid),
    ).fetchone()
    if seg is None:
        raise LookupError(f"Segment {segment_uuid} not found")
    records = fetch(
        db, workspace_uuid, seg["model_uuid"], filter_=loads(seg["filter"]), sort=loads(seg["sort"]), limit=seg["lim"]
    )
    return seg["model_uuid"], records


def upsert_record(db: Database, workspace_uuid: str, model_uuid: str, data: Record) -> Record:
    """Insert or update one row of a model table (only known columns are written)."""
    conn = db.conn
    model = model_row(conn, workspace_uuid, model_uuid)
    if model is None:
        raise NodeFailure(f"Model {model_uuid} not found")
    known = set(_columns(conn, model_uuid))
    values = {k: v for k, v in data.items() if k in known and not isinstance(v, (dict, list))}
    record_id = data.get("_id") or data.get(model["id_column_slug"])
    if record_id in (None, ""):
        raise NodeFailure(f"The record has no {model['id_column_slug']} (the id column of the model)")
    record_id = str(record_id)
    values[model["id_column_slug"]] = values.get(model["id_column_slug"], record_id)
    title = data.get("_title") or data.get(model["title_column_slug"]) or record_id
    columns = ["_id", "_title", *values]
    placeholders = ",".join("?" * len(columns))
    updates = ",".join(f'"{c}" = excluded."{c}"' for c in columns[1:])
    sql = (
        f"INSERT INTO {_table(model)} ({','.join(f'{chr(34)}{c}{chr(34)}' for c in columns)})"
        f" VALUES ({placeholders}) ON CONFLICT(_id) DO UPDATE SET {updates}"
    )
    data_conn = db.dataset_conn(model["dataset_uuid"])
    try:
        data_conn.execute(sql, [record_id, str(title), *values.values()])
    except sqlite3.Error as exc:
        raise NodeFailure(f"Could not write to model {model['slug']}: {exc}") from exc
    return {"id": record_id, "title": str(title), "modelUuid": model_uuid, "written": sorted(values)}
