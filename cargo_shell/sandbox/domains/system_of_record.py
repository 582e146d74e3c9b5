"""System of record: read-only SQL over the workspace's model tables.

Each query runs on a private in-memory connection that attaches only this workspace's
dataset files, read-only, as ``datasets_<slug>`` (so ``datasets_crm.models_contacts`` works),
under an authorizer that allows reads only and a progress handler that stops long queries.
Every query is logged (``system_of_record_logs``); ``storage query`` runs through here too.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

from cargo_shell.sandbox.db import Database, loads, read_only_authorizer
from cargo_shell.sandbox.domains.segmentation import csv_chunks
from cargo_shell.sandbox.domains.system_of_record_logs import Meter, active_system, logged, write_log
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.http import ApiError, Ctx, Request, Router, StreamResponse, bad_request, not_found
from cargo_shell.sandbox.util import as_int, require

QUERY_TIMEOUT_S = 30.0
MAX_ROWS = 10_000
MAX_ATTACHED = 10


class SqlRefused(ApiError):
    pass


def _execute(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
    """Run user SQL; writes, several statements and timeouts are refused with 400."""
    try:
        return conn.execute(sql, tuple(params))
    except sqlite3.ProgrammingError as exc:
        if "one statement" in str(exc):
            raise SqlRefused(400, "Only one SQL statement per query is allowed", "multipleStatements") from None
        raise
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "not authorized" in text or "readonly" in text or "read-only" in text:
            raise SqlRefused(
                400, "The system of record is read-only: only SELECT queries are allowed", "readOnlyQuery"
            ) from None
        if "interrupted" in text:
            raise SqlRefused(
                400, f"The query ran longer than {QUERY_TIMEOUT_S:.0f} s and was stopped", "queryTimeout"
            ) from None
        raise


def query_text(body: dict[str, Any]) -> str:
    sql: str = require(body, "query")
    stripped = sql.strip().rstrip(";").strip()
    if not stripped:
        raise bad_request("query is empty", "missingField")
    return str(stripped)


def _row(row: sqlite3.Row) -> dict[str, Any]:
    """A result row as JSON-able values: BLOBs become base64 text, as warehouses' JSON APIs give bytes."""
    return {key: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for key, v in dict(row).items()}


def _rows(cursor: sqlite3.Cursor, limit: int) -> list[dict[str, Any]]:
    return [_row(row) for row in cursor.fetchmany(limit)]


def _connect(db: Database, ws: str) -> sqlite3.Connection:
    active_system(db, ws)  # 404 clientNotFound when the workspace has no active system of record
    conn = sqlite3.connect("file::memory:?cache=private", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    datasets = db.all(
        "SELECT uuid, slug FROM datasets WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY created_at", (ws,)
    )
    for ds in datasets[:MAX_ATTACHED]:
        path = db.dataset_path(ds["uuid"])
        if path.exists():
            conn.execute(f'ATTACH DATABASE ? AS "datasets_{ds["slug"]}"', (f"file:{path}?mode=ro",))
    conn.set_authorizer(read_only_authorizer)
    deadline = time.monotonic() + QUERY_TIMEOUT_S
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    return conn


#: The sandbox's own warehouse (stored with kind ``sqlite``) as the client's types can describe it:
#: a BigQuery system of record in project scope, where each Cargo dataset is a warehouse dataset
#: named with the prefix (``datasets_crm.models_companies``). The SQL it runs is SQLite's: ``dialect``
#: here, ``language`` of ``storage model get-ddl`` and the client documentation say so (README).
WAREHOUSE_KIND = "bigQuery"
WAREHOUSE_CONFIG: dict[str, Any] = {
    "scope": "project",
    "prefix": "datasets_",
    "location": "sandbox",
    "storageBucketName": "cargo-shell-sandbox",
    "stringifiedServiceAccount": {"type": "encryption", "isEncrypted": True, "value": "********"},
    "dialect": "sqlite",
}


def presented(kind: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A system of record's kind and fields as the client's types describe them."""
    if kind != "sqlite":
        return kind, data
    return WAREHOUSE_KIND, {**data, "config": {**WAREHOUSE_CONFIG, "note": data.get("config", {}).get("note")}}


def system_json(row: dict[str, Any]) -> dict[str, Any]:
    kind, data = presented(row["kind"], loads(row["data"], {}))
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "kind": kind,
        "config": data.get("config", {}),
        "isActive": bool(data.get("isActive")),
        "useCredits": bool(data.get("useCredits")),
        "lastMigration": data.get("lastMigration"),
        "cutover": data.get("cutover"),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def list_systems(req: Request) -> dict[str, Any]:
    rows = req.ctx.db.all(
        "SELECT * FROM system_of_records WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY created_at",
        (req.ctx.workspace_uuid,),
    )
    return {"systemOfRecords": [system_json(r) for r in rows]}


def read_rows(ctx: Ctx, sql: str, limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    """Rows of a read-only query (at most ``limit``), logged; SQL errors and writes raise."""
    with logged(ctx, sql) as meter:
        conn = _connect(ctx.db, ctx.workspace_uuid)
        try:
            return meter.count_rows(_rows(_execute(conn, sql), limit))
        finally:
            conn.close()


def query(req: Request) -> dict[str, Any]:
    sql = query_text(req.body())
    try:
        rows = read_rows(req.ctx, sql)
    except SqlRefused:
        raise
    except sqlite3.Error as exc:
        return {"outcome": "notQueried", "errorMessage": f"SQL error: {exc}"}
    return {"outcome": "queried", "rows": rows}


def fetch(req: Request) -> dict[str, Any]:
    body = req.body()
    sql = query_text(body)
    limit = as_int(body.get("limit"), "limit", 100, minimum=0, maximum=MAX_ROWS)
    offset = as_int(body.get("offset"), "offset", 0)
    try:
        with logged(req.ctx, sql) as meter:
            conn = _connect(req.ctx.db, req.ctx.workspace_uuid)
            try:
                _execute(conn, sql).close()  # refuse writes / several statements before wrapping
                count = int(_execute(conn, f"SELECT COUNT(*) FROM ({sql})").fetchone()[0])
                page = _execute(conn, f"SELECT * FROM ({sql}) LIMIT ? OFFSET ?", (limit, offset))
                records = meter.count_rows(_rows(page, limit))
            finally:
                conn.close()
    except SqlRefused:
        raise
    except sqlite3.Error as exc:
        raise bad_request(f"SQL error: {exc}", "invalidQuery") from None
    return {"records": records, "count": count}


def download_url(ctx: Ctx, sql: str) -> str:
    """A signed URL streaming the query's whole result as CSV (checked now, logged once streamed)."""
    conn = _connect(ctx.db, ctx.workspace_uuid)
    try:
        _execute(conn, sql).close()
    except SqlRefused as exc:
        write_log(ctx.db, ctx.workspace_uuid, sql, ctx.clock(), 0.0, Meter(), exc.message)
        raise
    except sqlite3.Error as exc:
        write_log(ctx.db, ctx.workspace_uuid, sql, ctx.clock(), 0.0, Meter(), f"SQL error: {exc}")
        raise bad_request(f"SQL error: {exc}", "invalidQuery") from None
    finally:
        conn.close()
    return create_download(ctx, "sor", {"query": sql, "startedAt": ctx.clock()})


def download(req: Request) -> dict[str, Any]:
    return {"urls": [download_url(req.ctx, query_text(req.body()))]}


@register_download_kind("sor")
def _stream(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    conn = _connect(db, ws)
    cursor = _execute(conn, spec["query"])
    header = [d[0] for d in cursor.description or ()]
    started, t0, meter = float(spec.get("startedAt") or time.time()), time.monotonic(), Meter()

    def rows() -> Iterator[dict[str, Any]]:
        error: str | None = "the download stopped before its end"
        try:
            while batch := cursor.fetchmany(2000):
                yield from meter.count_rows([_row(r) for r in batch])
            error = None
        finally:
            conn.close()
            write_log(db, ws, spec["query"], started, time.monotonic() - t0, meter, error)

    return csv_chunks(header, rows()), "text/csv; charset=utf-8", "query.csv"


def documentation(req: Request) -> StreamResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    slug = req.path_params["slug"]
    kind = "sqlite" if slug == WAREHOUSE_KIND else slug  # the warehouse answers to the kind it presents
    system = db.one(
        "SELECT * FROM system_of_records WHERE workspace_uuid = ? AND (slug = ? OR kind = ?)", (ws, slug, kind)
    )
    if system is None:
        raise not_found("System of record client", "clientNotFound")
    lines = [
        "# Sandbox warehouse (SQLite dialect)",
        "",
        "Read-only SQL. One statement per query; INSERT/UPDATE/DELETE/DDL are refused.",
        "Tables are named `datasets_<dataset slug>.models_<model slug>` (see `storage model get-ddl`).",
        "Metric and lookup columns are computed by segment fetch, not stored: join the tables instead.",
        "Booleans are 0/1, dates ISO 8601 text, objects and arrays JSON text (use json_extract).",
        "",
        "## Tables",
        "",
    ]
    models = db.all(
        "SELECT m.uuid, m.slug, d.slug AS ds FROM models m JOIN datasets d ON d.uuid = m.dataset_uuid"
        " WHERE m.workspace_uuid = ? AND m.deleted_at IS NULL ORDER BY d.slug, m.slug",
        (ws,),
    )
    for model in models:
        cols = db.all(
            "SELECT slug, type FROM columns WHERE model_uuid = ? AND kind IN ('original', 'custom',"
            " 'computed') ORDER BY position",
            (model["uuid"],),
        )
        listed = ", ".join(f"{c['slug']} ({c['type']})" for c in cols)
        lines.append(f"- `datasets_{model['ds']}.models_{model['slug']}`: _id, _title, _emitted_at, {listed}")
    lines.append("")
    return StreamResponse(["\n".join(lines).encode()], "text/markdown; charset=utf-8")


def register(router: Router) -> None:
    r = router.route
    base = "/v1/systemOfRecordIntegration"
    r("GET", f"{base}/systemOfRecords")(list_systems)
    r("POST", f"{base}/clients/query")(query)
    r("POST", f"{base}/clients/fetch")(fetch)
    r("POST", f"{base}/clients/download")(download)
    r("GET", f"{base}/clients/{{slug}}/documentation")(documentation)
