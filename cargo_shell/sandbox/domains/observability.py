"""The observability domain: alerts (stored), their evaluations (events) and previews.

An enabled alert is evaluated on its cron schedule by the sandbox engine (an advancer, like runs
and messages): at each tick its condition is computed over the window since the previous tick,
on the workspace's real runs, spans, records, models or SQL, and an event is stored: ``healthy``,
``unhealthy`` (the threshold is met) or ``error`` (it could not be computed). An unhealthy event
starts the alert's actions as runs (``runUuids``), as ``action execute`` would. When the sandbox
was not running at a tick, the evaluations are caught up for their ticks, the last
:data:`MAX_CATCH_UP` windows of at most :data:`CATCH_UP_S` seconds back.
"""

from __future__ import annotations

import random
import sqlite3
from collections import deque
from datetime import datetime
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.domains.observability_alerts import (
    EVENT_STATUSES,
    actions_of,
    alert_json,
    cron_of,
    event_json,
    scope_of,
    threshold_of,
)
from cargo_shell.sandbox.domains.observability_metrics import Evaluation, evaluate
from cargo_shell.sandbox.engine.core import register_advancer
from cargo_shell.sandbox.engine.cron import parse
from cargo_shell.sandbox.fields import optional, strings, text
from cargo_shell.sandbox.http import ApiError, Ctx, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, check_folder, iso, live_row, new_uuid, parse_iso, require

CATCH_UP_S = 7 * 86400.0
MAX_CATCH_UP = 24
DUE_PER_STEP = 20
MAX_PREVIEW_MINUTES = 366 * 24 * 60

_TABLES = """
CREATE TABLE obs_alerts (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL, name TEXT NOT NULL,
    description TEXT, is_enabled INTEGER NOT NULL, cron TEXT NOT NULL, scope TEXT NOT NULL, threshold TEXT NOT NULL,
    actions TEXT NOT NULL DEFAULT '[]', folder_uuid TEXT, last_evaluated_at TEXT, window_from REAL NOT NULL,
    next_ts REAL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE INDEX obs_alerts_due ON obs_alerts (next_ts);
CREATE TABLE obs_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, workspace_uuid TEXT NOT NULL,
    alert_uuid TEXT NOT NULL, status TEXT NOT NULL, value REAL, error_message TEXT, actions TEXT NOT NULL,
    run_uuids TEXT NOT NULL, scope TEXT NOT NULL, threshold TEXT NOT NULL, window_started_at TEXT NOT NULL,
    window_ended_at TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX obs_events_alert ON obs_events (alert_uuid, seq);
"""


@register_migration("350_observability_tables")
def _m350(conn: Any) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


def _sync(req: Request) -> None:
    if req.ctx.engine is not None:
        req.ctx.engine.sync_step()


def _alert_row(req: Request) -> dict[str, Any]:
    return live_row(req.ctx.db, "obs_alerts", req.ctx.workspace_uuid, req.path_params["uuid"], "Alert", "alertNotFound")


def _next(cron: str, after: float) -> float | None:
    return parse(cron).next_after(after)


# -- evaluation on schedule --------------------------------------------------------------
def _fire(db: Database, alert: dict[str, Any], event: dict[str, Any], now: float) -> tuple[list[str], str | None]:
    """Start the alert's actions as runs; returns their uuids and what failed to start."""
    from cargo_shell.sandbox.domains.orchestration_batches import action_nodes
    from cargo_shell.sandbox.engine import jobs

    ctx = Ctx(db, alert["workspace_uuid"], alert["user_uuid"], "", lambda: now)
    data = {"alert": {"uuid": alert["uuid"], "name": alert["name"]}, "event": event}
    started, problems = [], []
    for action in loads(alert["actions"], []):
        try:
            started.append(jobs.create_run(ctx, {"nodes": action_nodes(action), "data": data}))
        except ApiError as exc:
            problems.append(f"{action.get('kind')} action not started: {exc.message}")
    return started, "; ".join(problems) or None


def _store_event(
    db: Database, alert: dict[str, Any], start: float, tick: float, result: Evaluation, now: float
) -> None:
    status = {"computed": "unhealthy" if result.breached else "healthy", "empty": "healthy"}.get(
        result.outcome, "error"
    )
    event = {"status": status, "value": result.value, "windowStartedAt": iso(start), "windowEndedAt": iso(tick)}
    runs: list[str] = []
    error = result.error
    if status == "unhealthy":
        runs, problem = _fire(db, alert, event, now)
        error = problem or error
    db.execute(
        "INSERT INTO obs_events (uuid, workspace_uuid, alert_uuid, status, value, error_message, actions, run_uuids,"
        " scope, threshold, window_started_at, window_ended_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (new_uuid(), alert["workspace_uuid"], alert["uuid"], status, result.value, error, alert["actions"],
         dumps(runs), alert["scope"], alert["threshold"], iso(start), iso(tick), iso(tick)),
    )  # fmt: skip


@register_advancer
def evaluate_due_alerts(db: Database, now: float) -> int:
    """Evaluate every enabled alert whose tick has come; returns the number of evaluations."""
    try:
        due = db.all(
            "SELECT * FROM obs_alerts WHERE next_ts IS NOT NULL AND next_ts <= ? AND deleted_at IS NULL"
            " ORDER BY next_ts LIMIT ?",
            (now, DUE_PER_STEP),
        )
    except sqlite3.OperationalError:  # a database not migrated yet has no alerts table
        return 0
    done = 0
    for alert in due:
        cron = parse(alert["cron"])
        previous = max(float(alert["window_from"]), now - CATCH_UP_S)
        windows: deque[tuple[float, float]] = deque(maxlen=MAX_CATCH_UP)
        tick = cron.next_after(previous)
        while tick is not None and tick <= now:
            windows.append((previous, tick))
            previous, tick = tick, cron.next_after(tick)
        scope, threshold = loads(alert["scope"]), loads(alert["threshold"])
        with db.transaction():
            for start, end in windows:
                result = evaluate(db, alert["workspace_uuid"], scope, threshold, start, end, now)
                _store_event(db, alert, start, end, result, now)
                done += 1
            last = windows[-1][1] if windows else None
            db.execute(
                "UPDATE obs_alerts SET window_from = ?, last_evaluated_at = COALESCE(?, last_evaluated_at),"
                " next_ts = ? WHERE uuid = ?",
                (previous, None if last is None else iso(last), tick, alert["uuid"]),
            )
    return done


# -- alerts ------------------------------------------------------------------------------
def _fields(req: Request, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The alert's checked columns from a create (``current`` None) or an update body."""
    db, ws, now = req.ctx.db, req.ctx.workspace_uuid, req.ctx.clock()
    out: dict[str, Any] = {}
    if current is None or "name" in body:
        out["name"] = require(body, "name")
    if current is None or "cron" in body:
        out["cron"] = cron_of(body.get("cron"))
    if "description" in body:
        out["description"] = text(body, "description")
    if "folderUuid" in body:
        folder = optional(body, "folderUuid", str) or None
        check_folder(db, ws, folder)
        out["folder_uuid"] = folder
    if (enabled := optional(body, "isEnabled", bool)) is not None:
        out["is_enabled"] = int(enabled)
    if "actions" in body:
        out["actions"] = dumps(actions_of(db, ws, body))
    scope_raw = body.get("scope") if "scope" in body else (loads(current["scope"]) if current else None)
    if current is None and scope_raw is None:
        raise bad_request("scope is required: {kind: runs|records|spans|orchestrationQuery|storageQuery|model, ...}")
    if "scope" in body or "threshold" in body or current is None:
        scope = scope_of(db, ws, scope_raw, now)
        threshold_raw = (
            body.get("threshold") if "threshold" in body else loads(current["threshold"]) if current else None
        )
        out["scope"] = dumps(scope)
        out["threshold"] = dumps(threshold_of(threshold_raw, scope["kind"]))
    return out


def _schedule_columns(fields: dict[str, Any], current: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """Where evaluations (re)start: from now, when the alert is created, enabled or given a new cron."""
    enabled = bool(fields.get("is_enabled", current["is_enabled"] if current else 1))
    cron = fields.get("cron", current["cron"] if current else None)
    if not enabled:
        return {"next_ts": None}
    restart = current is None or not current["is_enabled"] or "cron" in fields
    if restart:
        return {"window_from": now, "next_ts": _next(str(cron), now)}
    return {}


def create_alert(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    now = ctx.clock()
    fields = {"is_enabled": 1, "actions": "[]", "description": None, "folder_uuid": None}
    fields |= _fields(req, body, None)
    fields |= _schedule_columns(fields, None, now)
    uuid, stamp = new_uuid(), iso(now)
    fields |= {"uuid": uuid, "workspace_uuid": ctx.workspace_uuid, "user_uuid": ctx.user_uuid, "created_at": stamp,
               "updated_at": stamp}  # fmt: skip
    fields.setdefault("window_from", now)
    ctx.db.execute(
        f"INSERT INTO obs_alerts ({', '.join(fields)}) VALUES ({','.join('?' * len(fields))})", tuple(fields.values())
    )
    row = ctx.db.one("SELECT * FROM obs_alerts WHERE uuid = ?", (uuid,))
    assert row is not None
    return {"alert": alert_json(ctx.db, row)}


def get_alert(req: Request) -> dict[str, Any]:
    _sync(req)
    return {"alert": alert_json(req.ctx.db, _alert_row(req))}


def list_alerts(req: Request) -> dict[str, Any]:
    _sync(req)
    db = req.ctx.db
    rows = db.all(
        "SELECT * FROM obs_alerts WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY created_at, uuid",
        (req.ctx.workspace_uuid,),
    )
    return {"alerts": [alert_json(db, r) for r in rows]}


def update_alert(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = _alert_row(req)
    now = ctx.clock()
    fields = _fields(req, body, row)
    fields |= _schedule_columns(fields, row, now)
    fields["updated_at"] = iso(now)
    ctx.db.execute(
        f"UPDATE obs_alerts SET {', '.join(f'{k} = ?' for k in fields)} WHERE uuid = ?", (*fields.values(), row["uuid"])
    )
    return {"alert": alert_json(ctx.db, _alert_row(req))}


def remove_alert(req: Request) -> dict[str, Any]:
    row = _alert_row(req)
    stamp = iso(req.ctx.clock())
    req.ctx.db.execute(
        "UPDATE obs_alerts SET deleted_at = ?, updated_at = ?, next_ts = NULL WHERE uuid = ?",
        (stamp, stamp, row["uuid"]),
    )
    return {}


def preview_alert(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    _sync(req)
    minutes = optional(body, "windowMinutes", float)
    if minutes is None or not 0 < minutes <= MAX_PREVIEW_MINUTES:
        raise bad_request(f"windowMinutes is required: a number of minutes from 1 to {MAX_PREVIEW_MINUTES}")
    now = ctx.clock()
    scope = scope_of(ctx.db, ctx.workspace_uuid, body.get("scope"), now)
    threshold = threshold_of(body.get("threshold"), scope["kind"])
    return evaluate(ctx.db, ctx.workspace_uuid, scope, threshold, now - minutes * 60, now, now).to_json()


# -- events ------------------------------------------------------------------------------
def _events_where(req: Request, body: dict[str, Any]) -> tuple[str, list[Any]]:
    alert = live_row(req.ctx.db, "obs_alerts", req.ctx.workspace_uuid, body.get("alertUuid"), "Alert", "alertNotFound")
    where, params = ["alert_uuid = ?", "workspace_uuid = ?"], [alert["uuid"], req.ctx.workspace_uuid]
    statuses = strings(body, "statuses") or []
    for status in statuses:
        if status not in EVENT_STATUSES:
            raise bad_request(f"statuses: {status!r} is not one of {', '.join(EVENT_STATUSES)}")
    if statuses:
        where.append(f"status IN ({','.join('?' * len(statuses))})")
        params.extend(statuses)
    for field, op in (("createdAfter", ">="), ("createdBefore", "<")):
        if (value := text(body, field)) is not None:
            where.append(f"created_at {op} ?")
            params.append(iso(parse_iso(value)))
    return " AND ".join(where), params


def list_events(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    if not body.get("alertUuid"):
        raise bad_request("alertUuid is required", "missingField")
    where, params = _events_where(req, body)
    limit = as_int(body.get("limit"), "limit", 50, maximum=1000)
    offset = as_int(body.get("offset"), "offset", 0)
    db = req.ctx.db
    count = db.scalar(f"SELECT COUNT(*) FROM obs_events WHERE {where}", params)
    rows = db.all(
        f"SELECT * FROM obs_events WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset]
    )
    return {"events": [event_json(r) for r in rows], "count": count}


def count_events(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    if not body.get("alertUuid"):
        raise bad_request("alertUuid is required", "missingField")
    where, params = _events_where(req, body)
    return {"count": req.ctx.db.scalar(f"SELECT COUNT(*) FROM obs_events WHERE {where}", params)}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/observability/alerts")(create_alert)
    r("GET", "/v1/observability/alerts/list")(list_alerts)
    r("POST", "/v1/observability/alerts/preview")(preview_alert)
    r("GET", "/v1/observability/alerts/{uuid}")(get_alert)
    r("PUT", "/v1/observability/alerts/{uuid}")(update_alert)
    r("DELETE", "/v1/observability/alerts/{uuid}")(remove_alert)
    r("POST", "/v1/observability/events/list")(list_events)
    r("POST", "/v1/observability/events/count")(count_events)


# -- seed --------------------------------------------------------------------------------
def seed_observability(db: Database, workspace_uuid: str, _rng: random.Random) -> None:
    """One enabled alert on the workspace's failing runs, evaluated every morning for ten days."""
    created = db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (workspace_uuid,))
    now = datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp() + 90 * 86400
    since = now - 10 * 86400
    user = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'") or ""
    rng = random.Random("cargo-shell-observability-seed")
    scope = {"kind": "runs", "statuses": ["success", "error"]}
    threshold = {"metric": "errorRate", "operator": "gte", "value": 0.1}
    cron = "0 8 * * *"
    db.execute(
        "INSERT INTO obs_alerts (uuid, workspace_uuid, user_uuid, name, description, is_enabled, cron, scope,"
        " threshold, actions, folder_uuid, window_from, next_ts, created_at, updated_at)"
        " VALUES (?,?,?,?,?,1,?,?,?,'[]',NULL,?,?,?,?)",
        (new_uuid(rng), workspace_uuid, user, "Failing runs", "More than one run in ten failed since the last check.",
         cron, dumps(scope), dumps(threshold), since, _next(cron, since), iso(since), iso(since)),
    )  # fmt: skip
