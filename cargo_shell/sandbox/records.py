"""Reading model records with a segment filter: one page + total, or a streamed cursor."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.filters import FilterCompiler, compile_sort
from cargo_shell.sandbox.http import ApiError
from cargo_shell.sandbox.warehouse import Column, ColumnSql, ModelInfo, decode_row, q, select_list

#: Record ids bound in one ``IN (...)``: well under SQLite's limit on bound values.
ID_CHUNK = 500


@dataclass
class RecordQuery:
    sql: str
    params: list[Any]
    count_sql: str
    count_params: list[Any]
    columns: list[Column]
    cap: int | None = None


def build_query(
    db: Database,
    model: ModelInfo,
    flt: Any,
    sort: Any = None,
    *,
    now: float,
    limit: int | None = None,
    ids: list[str] | None = None,
) -> RecordQuery:
    """SELECT of every column of ``model`` matching ``flt`` (and, given ``ids``, with one of those
    ``_id`` values); ``limit`` caps the segment size."""
    cols = ColumnSql(db, model, "t")
    where_params: list[Any] = []
    where = FilterCompiler(db, model.workspace_uuid, now).compile(
        flt if flt is not None else {"conjonction": "and", "groups": []}, cols, where_params
    )
    if ids is not None:
        where = f"({where}) AND t._id IN ({', '.join('?' for _ in ids)})" if ids else "0"
        where_params += ids
    select_params: list[Any] = []
    select, columns = select_list(cols, select_params)
    order_params: list[Any] = []
    order = compile_sort(sort, cols, order_params)
    base = f"FROM {q(model.table)} t WHERE {where}"
    sql = f"SELECT {select} {base} ORDER BY {order}"
    params = select_params + where_params + order_params
    count_sql = f"SELECT COUNT(*) {base}"
    if limit is not None:
        count_sql = f"SELECT MIN(COUNT(*), {int(limit)}) {base}"
    return RecordQuery(sql, params, count_sql, list(where_params), columns, limit)


def _run(conn: sqlite3.Connection, sql: str, params: list[Any]) -> sqlite3.Cursor:
    try:
        return conn.execute(sql, params)
    except sqlite3.DatabaseError as exc:
        raise ApiError(400, f"Invalid filter: the query failed ({exc})", "invalidFilter") from None


def fetch_page(
    db: Database, model: ModelInfo, query: RecordQuery, offset: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    conn = db.dataset_conn(model.dataset_uuid, readonly=True)
    count = int(_run(conn, query.count_sql, query.count_params).fetchone()[0])
    if query.cap is not None:
        page_size = max(0, min(page_size, query.cap - offset))
    rows = _run(conn, query.sql + " LIMIT ? OFFSET ?", [*query.params, page_size, offset]).fetchall()
    return [decode_row(row, query.columns) for row in rows], count


def iterate(db: Database, model: ModelInfo, query: RecordQuery, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Stream every matching record from a private read-only cursor (constant memory)."""
    conn = db.open_readonly(model.dataset_uuid)
    try:
        sql = query.sql if query.cap is None else f"{query.sql} LIMIT {int(query.cap)}"
        cursor = _run(conn, sql, query.params)
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                break
            for row in rows:
                yield decode_row(row, query.columns)
    finally:
        conn.close()


def fetch_by_ids(db: Database, model: ModelInfo, ids: list[str], *, now: float) -> list[dict[str, Any]]:
    """The records of ``model`` with these ``_id`` values, every column computed, in the order asked
    (ids that do not exist are left out; an id asked twice is answered once)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, dict[str, Any]] = {}
    conn = db.dataset_conn(model.dataset_uuid, readonly=True)
    for start in range(0, len(wanted), ID_CHUNK):
        query = build_query(db, model, None, None, now=now, ids=wanted[start : start + ID_CHUNK])
        for row in _run(conn, query.sql, query.params).fetchall():
            record = decode_row(row, query.columns)
            found[str(record["_id"])] = record
    return [found[i] for i in wanted if i in found]
