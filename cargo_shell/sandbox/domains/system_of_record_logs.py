"""The system of record's query log: every SQL query the warehouse ran, and daily usage from it.

Queries sent through ``system-of-record client query/fetch/download`` and ``storage query
execute/download`` are logged when they end (a download when its stream has been read), with
their outcome. ``processedBytesCount`` is the size of the rows the query answered, as JSON (the
sandbox's SQLite has no scan accounting); ``processedSecondsCount`` the time it ran.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.db import Database, register_migration
from cargo_shell.sandbox.fields import strings, text
from cargo_shell.sandbox.http import ApiError, Ctx, Request, Router, bad_request, not_found
from cargo_shell.sandbox.util import as_int, iso, new_uuid, parse_iso

STATUSES = ("error", "success")
DAY = 86400


@register_migration("300_sor_logs")
def _logs_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE sor_logs (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, system_uuid TEXT NOT NULL,"
        " query TEXT NOT NULL, status TEXT NOT NULL, error_message TEXT, processed_bytes INTEGER NOT NULL,"
        " started_at TEXT NOT NULL, finished_at TEXT NOT NULL, seconds REAL NOT NULL, created_at TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX sor_logs_ws_started ON sor_logs (workspace_uuid, started_at)")


@register_migration("301_sor_deleted_at")
def _sor_deleted_at(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE system_of_records ADD COLUMN deleted_at TEXT")


def active_system(db: Database, ws: str) -> dict[str, Any]:
    """The system of record the workspace's queries run on (404 ``clientNotFound`` when none is active)."""
    for row in db.all(
        "SELECT * FROM system_of_records WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY created_at", (ws,)
    ):
        if json.loads(row["data"]).get("isActive"):
            return row
    raise not_found("The workspace's system of record", "clientNotFound")


@dataclass
class Meter:
    """What a running query reports to its log line."""

    processed_bytes: int = 0

    def count_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.processed_bytes += len(json.dumps(rows, default=str).encode())
        return rows


def write_log(db: Database, ws: str, sql: str, started: float, seconds: float, meter: Meter, error: str | None) -> None:
    """One log line for a query of the workspace's active system of record (none: nothing ran)."""
    try:
        system = active_system(db, ws)
    except ApiError:
        return
    db.execute(
        "INSERT INTO sor_logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_uuid(),
            ws,
            system["uuid"],
            sql,
            "error" if error else "success",
            error,
            meter.processed_bytes,
            iso(started),
            iso(started + seconds),
            seconds,
            iso(started),
        ),
    )


@contextmanager
def logged(ctx: Ctx, sql: str) -> Iterator[Meter]:
    """Log the query run inside the block: success, or the error it ended with (then re-raised)."""
    started, t0, meter = ctx.clock(), time.monotonic(), Meter()
    try:
        yield meter
    except ApiError as exc:
        write_log(ctx.db, ctx.workspace_uuid, sql, started, time.monotonic() - t0, meter, exc.message)
        raise
    except sqlite3.Error as exc:
        write_log(ctx.db, ctx.workspace_uuid, sql, started, time.monotonic() - t0, meter, f"SQL error: {exc}")
        raise
    write_log(ctx.db, ctx.workspace_uuid, sql, started, time.monotonic() - t0, meter, None)


def log_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "systemOfRecordUuid": row["system_uuid"],
        "query": row["query"],
        "status": row["status"],
        "errorMessage": row["error_message"],
        "processedBytesCount": row["processed_bytes"],
        "startedAt": row["started_at"],
        "finishedAt": row["finished_at"],
        "createdAt": row["created_at"],
    }


def list_logs(req: Request) -> dict[str, Any]:
    query, ws = req.query, req.ctx.workspace_uuid
    sql, params = "SELECT * FROM sor_logs WHERE workspace_uuid = ?", [ws]
    statuses = strings(query, "statuses")
    if statuses:
        unknown = sorted(set(statuses) - set(STATUSES))
        if unknown:
            raise bad_request(f"statuses takes {', '.join(STATUSES)}, not {', '.join(unknown)}", "invalidField")
        sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
        params += statuses
    search = text(query, "query")
    if search:
        sql += " AND instr(lower(query), lower(?)) > 0"
        params.append(search)
    limit = as_int(query.get("limit"), "limit", 50, minimum=1, maximum=1000)
    offset = as_int(query.get("offset"), "offset", 0)
    rows = req.ctx.db.all(sql + " ORDER BY started_at DESC, uuid LIMIT ? OFFSET ?", [*params, limit, offset])
    return {"logs": [log_json(r) for r in rows]}


def _day(value: Any, name: str) -> float:
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name} is required (an ISO 8601 date)", "missingField")
    return parse_iso(value)


def get_metrics(req: Request) -> dict[str, Any]:
    """Queries, bytes and seconds per UTC day from ``from`` to ``to`` (both included), days without
    queries included as zeros."""
    start, end = _day(req.query.get("from"), "from"), _day(req.query.get("to"), "to")
    if end < start:
        raise bad_request("to is before from", "invalidField")
    first, last = int(start // DAY), int(end // DAY)
    if last - first > 366:
        raise bad_request("from and to are at most 366 days apart", "invalidField")
    rows = req.ctx.db.all(
        "SELECT substr(started_at, 1, 10) AS day, COUNT(*) AS n, SUM(processed_bytes) AS bytes,"
        " SUM(seconds) AS seconds FROM sor_logs WHERE workspace_uuid = ? AND started_at >= ? AND started_at < ?"
        " GROUP BY day",
        (req.ctx.workspace_uuid, iso(first * DAY), iso((last + 1) * DAY)),
    )
    by_day = {r["day"]: r for r in rows}
    metrics = []
    for day in range(first, last + 1):
        stamp = iso(day * DAY)
        row = by_day.get(stamp[:10])
        metrics.append(
            {
                "date": stamp,
                "queriesCount": row["n"] if row else 0,
                "processedBytesCount": row["bytes"] if row else 0,
                "processedSecondsCount": round(row["seconds"], 3) if row else 0,
            }
        )
    return {"metrics": metrics}


SEED_QUERIES = (
    "SELECT COUNT(*) AS n FROM datasets_crm.models_companies",
    "SELECT industry, COUNT(*) AS n FROM datasets_crm.models_companies GROUP BY industry ORDER BY n DESC",
    "SELECT email, lead_score FROM datasets_crm.models_contacts WHERE lead_score > 80 ORDER BY lead_score DESC",
    "SELECT domain FROM datasets_crm.models_compnies",
)


def seed_logs(db: Database, ws: str, rng: random.Random) -> None:
    """Two weeks of past warehouse queries (one with a typo that failed)."""
    system = db.one("SELECT uuid, created_at FROM system_of_records WHERE workspace_uuid = ?", (ws,))
    if system is None:
        return
    now = parse_iso(str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,)))) + 90 * DAY
    with db.transaction():
        for days_ago in range(14, 0, -1):
            for _ in range(rng.randint(0, 4)):
                sql = rng.choice(SEED_QUERIES)
                failed = "compnies" in sql
                started = now - days_ago * DAY + rng.randint(0, DAY - 1)
                seconds = round(rng.uniform(0.01, 0.4), 3)
                db.execute(
                    "INSERT INTO sor_logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_uuid(rng),
                        ws,
                        system["uuid"],
                        sql,
                        "error" if failed else "success",
                        "SQL error: no such table: datasets_crm.models_compnies" if failed else None,
                        0 if failed else rng.randint(40, 40_000),
                        iso(started),
                        iso(started + seconds),
                        seconds,
                        iso(started),
                    ),
                )


def register(router: Router) -> None:
    r = router.route
    base = "/v1/systemOfRecordIntegration/logs"
    r("GET", f"{base}/list")(list_logs)
    r("GET", f"{base}/metrics")(get_metrics)
