"""``POST /v1/orchestration/query``: read-only SQL over the workspace's orchestration data.

The platform answers SQL over its ``orchestration`` tables. The sandbox builds them for each query
in a private in-memory SQLite database attached as ``orchestration``, filled with this workspace's
rows only, and runs the query there under a read-only authorizer and a time limit. Tables (columns
are the snake_case names of the API fields): ``orchestration.runs``, ``orchestration.batches``,
``orchestration.spans`` (one row per node execution) and ``orchestration.traces`` (one per run).
The SQL dialect is SQLite's; only the tables a query names are filled.
"""

from __future__ import annotations

import base64
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, read_only_authorizer
from cargo_shell.sandbox.domains.orchestration_runs import sync
from cargo_shell.sandbox.domains.orchestration_telemetry import spans_of, trace_json
from cargo_shell.sandbox.domains.orchestration_views import batch_json, run_json
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import require

QUERY_TIMEOUT_S = 10.0
MAX_ROWS = 10_000
#: The newest runs a query sees (the tables are rebuilt for every query).
MAX_RUNS = 50_000

_RUN_FIELDS = (
    "uuid", "workspaceUuid", "workflowUuid", "userUuid", "releaseUuid", "batchUuid", "recordId", "recordTitle",
    "status", "errorMessage", "createdAt", "updatedAt", "finishedAt",
)  # fmt: skip
_BATCH_FIELDS = (
    "uuid", "workspaceUuid", "workflowUuid", "userUuid", "releaseUuid", "status", "runsStatus", "runsCount",
    "executedRunsCount", "failedRunsCount", "creditsUsedCount", "errorMessage", "createdAt", "updatedAt", "finishedAt",
)  # fmt: skip


class QueryError(Exception):
    """The query was refused or failed; ``reason`` is the API's reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return dumps(value)
    return value


def _json_value(value: Any) -> Any:
    """BLOBs a query makes (``randomblob``) travel as base64 text, as in the warehouse's answers."""
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _runs(db: Database, ws: str) -> list[dict[str, Any]]:
    rows = db.all("SELECT * FROM wf_runs WHERE workspace_uuid = ? ORDER BY seq DESC LIMIT ?", (ws, MAX_RUNS))
    rows.reverse()
    return rows


def _run_table(db: Database, ws: str) -> Iterable[dict[str, Any]]:
    for row in _runs(db, ws):
        run = run_json(row)
        yield {f: run[f] for f in _RUN_FIELDS} | {"creditsUsedCount": row["credits"]}


def _batch_table(db: Database, ws: str) -> Iterable[dict[str, Any]]:
    for row in db.all("SELECT * FROM wf_batches WHERE workspace_uuid = ? ORDER BY created_ts", (ws,)):
        batch = batch_json(row)
        yield {f: batch[f] for f in _BATCH_FIELDS} | {"dataKind": loads(row["data"], {}).get("kind")}


def _span_table(db: Database, ws: str) -> Iterable[dict[str, Any]]:
    for row in _runs(db, ws):
        yield from spans_of(row)


def _trace_table(db: Database, ws: str) -> Iterable[dict[str, Any]]:
    return (trace_json(row) for row in _runs(db, ws))


#: table -> (column fields, row source)
TABLES: dict[str, tuple[tuple[str, ...], Callable[[Database, str], Iterable[dict[str, Any]]]]] = {
    "runs": ((*_RUN_FIELDS, "creditsUsedCount"), _run_table),
    "batches": ((*_BATCH_FIELDS, "dataKind"), _batch_table),
    "spans": (
        (
            "workspaceUuid", "workflowUuid", "userUuid", "batchUuid", "traceUuid", "recordId", "recordTitle",
            "runUuid", "runContextS3Filename", "runComputedConfigsS3Filename", "parentRunUuid", "parentNodeUuid",
            "parentBatchUuid", "parentAgentUuid", "parentChatUuid", "parentMessageUuid", "isGroupParent", "nodeUuid",
            "nodeKind", "nodeSlug", "nodeActionSlug", "nodeConnectorUuid", "nodeIntegrationSlug", "nodeToolUuid",
            "nodeAgentUuid", "nodeReleaseUuid", "nodeBatchUuid", "nodeRunUuid", "nodeMessageUuid", "nodeChildIndex",
            "nodeWaitUntilFinished", "nodeNextUuid", "executionIndex", "executionStatus", "executionErrorMessage",
            "executionTitle", "executionIconUrl", "executionCreditsUsedCount", "executionStartedAt",
            "executionUpdatedAt", "executionFinishedAt",
        ),
        _span_table,
    ),
    "traces": (
        (
            "uuid", "workspaceUuid", "workflowUuid", "rootRunUuid", "rootRecordId", "rootRecordTitle", "rootUserUuid",
            "chatUuid", "agentUuid", "spansCount", "failedSpansCount", "pendingSpansCount", "succeededSpansCount",
            "creditsUsedCount", "startedAt", "finishedAt", "updatedAt", "status",
        ),
        _trace_table,
    ),
}  # fmt: skip


def _named(sql: str) -> list[str]:
    lowered = sql.lower()
    return [t for t in TABLES if re.search(rf"\b{t}\b", lowered)]


def open_orchestration_db(db: Database, ws: str, sql: str) -> sqlite3.Connection:
    """A private connection holding ``orchestration.<table>`` for the tables ``sql`` names, read-only."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("ATTACH DATABASE ':memory:' AS orchestration")
    for table in _named(sql):
        fields, source = TABLES[table]
        columns = [snake(f) for f in fields]
        conn.execute(f"CREATE TABLE orchestration.{table} ({', '.join(columns)})")
        conn.executemany(
            f"INSERT INTO orchestration.{table} VALUES ({','.join('?' * len(columns))})",
            ([_sql_value(item.get(f)) for f in fields] for item in source(db, ws)),
        )
    conn.set_authorizer(read_only_authorizer)
    deadline = time.monotonic() + QUERY_TIMEOUT_S
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    return conn


def run_query(
    db: Database, ws: str, sql: str, limit: int = MAX_ROWS, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of a read-only query over the workspace's orchestration tables (QueryError when refused).

    ``params`` binds named parameters (``:window_started_at`` in an alert's query)."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise QueryError("query is empty", "missingField")
    conn = open_orchestration_db(db, ws, text)
    try:
        cursor = conn.execute(text, params or {})
        return [{k: _json_value(v) for k, v in dict(row).items()} for row in cursor.fetchmany(limit)]
    except sqlite3.ProgrammingError as exc:
        if "one statement" in str(exc):
            raise QueryError("Only one SQL statement per query is allowed", "multipleStatements") from None
        raise QueryError(f"SQL error: {exc}", "invalidQuery") from None
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "not authorized" in message:
            raise QueryError(
                "Orchestration data is read-only here: only SELECT queries are allowed", "readOnlyQuery"
            ) from None
        if "interrupted" in message:
            raise QueryError(
                f"The query ran longer than {QUERY_TIMEOUT_S:.0f} s and was stopped", "queryTimeout"
            ) from None
        raise QueryError(f"SQL error: {message}", "invalidQuery") from None
    finally:
        conn.close()


def execute_query(req: Request) -> dict[str, Any]:
    sync(req)
    sql = require(req.body(), "query")
    try:
        return {"rows": run_query(req.ctx.db, req.ctx.workspace_uuid, sql)}
    except QueryError as exc:
        if exc.reason == "missingField":
            raise bad_request(str(exc), exc.reason) from None
        raise ApiError(400, str(exc), exc.reason) from None


def register(router: Router) -> None:
    router.route("POST", "/v1/orchestration/query")(execute_query)
