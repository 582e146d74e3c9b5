"""Storage runs: a model's sync, as asynchronous work the engine advances on the sandbox clock.

A run is ``pending``, then ``running``, then does the sync: a file model re-reads its uploaded file
(``isReset`` empties the table first), every model recomputes its computed columns, and each live
segment of the model records a change (``segmentation_tracking``). A run is refused when one is
already under way, when the model is paused, and — unless ``isForce`` — when nothing was written
to the model since its last successful run (``upToDate``). Models synced from a connector need the
provider: 422. ``storage model refresh`` starts a forced run and answers the model.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.domains.segmentation_tracking import record_model_changes
from cargo_shell.sandbox.domains.storage_columns import compute_values
from cargo_shell.sandbox.domains.storage_models import csv_rows, model_json, write_file_rows
from cargo_shell.sandbox.engine import register_advancer
from cargo_shell.sandbox.fields import optional, strings, uuid_ref
from cargo_shell.sandbox.http import ApiError, Ctx, JsonResponse, Request, Router, bad_request, not_found, unavailable
from cargo_shell.sandbox.util import as_int, iso, new_uuid, parse_iso, require
from cargo_shell.sandbox.warehouse import ModelInfo, load_model

STATUSES = ("cancelled", "cancelling", "error", "pending", "running", "success")
ACTIVE = ("pending", "running", "cancelling")
START_DELAY = 0.5
DURATION = 1.5


@register_migration("303_storage_runs")
def _runs_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE storage_runs (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, model_uuid TEXT NOT NULL,"
        " status TEXT NOT NULL, error_message TEXT, is_force INTEGER NOT NULL, is_reset INTEGER NOT NULL,"
        " s3_filenames TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,"
        " start_ts REAL NOT NULL, due_ts REAL NOT NULL)"
    )
    conn.execute("CREATE INDEX storage_runs_due ON storage_runs (status, start_ts)")
    conn.execute("CREATE INDEX storage_runs_model ON storage_runs (workspace_uuid, model_uuid, created_at)")


def run_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "modelUuid": row["model_uuid"],
        "status": row["status"],
        "errorMessage": row["error_message"],
        "s3Filenames": loads(row["s3_filenames"], []),
        "temporalWorkflowId": f"storage-run-{row['uuid']}",
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "finishedAt": row["finished_at"],
    }


def _run(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM storage_runs WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise not_found("Run", "runNotFound")
    return row


def _syncable(db: Database, ws: str, model_uuid: Any) -> ModelInfo:
    model = load_model(db, ws, model_uuid)
    if db.scalar("SELECT kind FROM datasets WHERE uuid = ?", (model.dataset_uuid,)) == "connector":
        raise unavailable("Syncing a model from its connector (the records come from the provider)")
    if model.row["is_paused"]:
        raise ApiError(400, f"Model {model.slug} is paused: resume it before running it", "modelIsPaused")
    active = db.scalar(
        f"SELECT uuid FROM storage_runs WHERE model_uuid = ? AND status IN ({', '.join('?' for _ in ACTIVE)})",
        (model.uuid, *ACTIVE),
    )
    if active:
        raise ApiError(400, f"Model {model.slug} already has a run under way ({active})", "alreadyRunning")
    return model


def _up_to_date(db: Database, model: ModelInfo) -> str | None:
    """When the last successful run ended, if nothing was written to the model since."""
    finished = db.scalar(
        "SELECT MAX(finished_at) FROM storage_runs WHERE model_uuid = ? AND status = 'success'", (model.uuid,)
    )
    last = finished or (loads(model.row["data"], {}).get("lastRun") or {}).get("finishedAt")
    emitted = model.row["last_emitted_at"] or model.row["created_at"]
    return str(last) if last and str(last) >= str(emitted) else None


def start_run(ctx: Ctx, model: ModelInfo, *, force: bool, reset: bool) -> dict[str, Any]:
    db, now = ctx.db, ctx.clock()
    synced = _up_to_date(db, model)
    if synced and not (force or reset):
        raise ApiError(
            400,
            f"Model {model.slug} is up to date (nothing written since its run at {synced}): use isForce",
            "upToDate",
        )
    config = loads(model.row["data"], {}).get("config") or {}
    files = [config["s3Filename"]] if model.row["extractor_slug"] == "file" and config.get("s3Filename") else []
    uuid, stamp = new_uuid(), iso(now)
    db.execute(
        "INSERT INTO storage_runs VALUES (?, ?, ?, 'pending', NULL, ?, ?, ?, ?, ?, NULL, ?, ?)",
        (uuid, ctx.workspace_uuid, model.uuid, int(force), int(reset), dumps(files), stamp, stamp,
         now + START_DELAY, now + DURATION),
    )  # fmt: skip
    _set_last_run(db, model.uuid, _run(db, ctx.workspace_uuid, uuid))
    if ctx.engine is not None:
        ctx.engine.kick()
    return _run(db, ctx.workspace_uuid, uuid)


def _set_last_run(db: Database, model_uuid: str, run: dict[str, Any]) -> None:
    row = db.one("SELECT data FROM models WHERE uuid = ?", (model_uuid,))
    if row is None:
        return
    data = loads(row["data"], {})
    data["lastRun"] = {k: run_json(run)[k] for k in ("uuid", "status", "errorMessage", "createdAt", "finishedAt")}
    db.execute("UPDATE models SET data = ? WHERE uuid = ?", (dumps(data), model_uuid))


def _sync(db: Database, run: dict[str, Any], now: float) -> None:
    """The run's work: re-read the file of a file model, recompute, record the segments' changes."""
    ws = run["workspace_uuid"]
    model = load_model(db, ws, run["model_uuid"])
    files = loads(run["s3_filenames"], [])
    if files:
        _header, rows = csv_rows(db, ws, files[0])
        originals = [c.slug for c in model.columns if c.kind == "original"]
        ids = (model.row["id_column_slug"], model.row["title_column_slug"])
        conn = db.dataset_conn(model.dataset_uuid)
        write_file_rows(conn, model.table, originals, rows, ids, iso(now), reset=bool(run["is_reset"]))
        db.execute("UPDATE models SET last_emitted_at = ? WHERE uuid = ?", (iso(now), model.uuid))
    for column in model.columns:
        if column.kind == "computed":
            compute_values(db, model, column)
    record_model_changes(db, ws, model.uuid, now)


def _finish(db: Database, run: dict[str, Any], status: str, error: str | None, now: float) -> None:
    stamp = iso(now)
    db.execute(
        "UPDATE storage_runs SET status = ?, error_message = ?, updated_at = ?, finished_at = ? WHERE uuid = ?",
        (status, error, stamp, stamp, run["uuid"]),
    )
    _set_last_run(db, run["model_uuid"], {**run, "status": status, "error_message": error, "finished_at": stamp})


@register_advancer
def advance_runs(db: Database, now: float) -> int:
    """Cancel what is cancelling, start what is due, sync what has run its time."""
    done = 0
    for run in db.all("SELECT * FROM storage_runs WHERE status = 'cancelling'"):
        _finish(db, run, "cancelled", None, now)
        done += 1
    for run in db.all("SELECT * FROM storage_runs WHERE status = 'pending' AND start_ts <= ?", (now,)):
        db.execute("UPDATE storage_runs SET status = 'running', updated_at = ? WHERE uuid = ?", (iso(now), run["uuid"]))
        _set_last_run(db, run["model_uuid"], {**run, "status": "running"})
        done += 1
    for run in db.all("SELECT * FROM storage_runs WHERE status = 'running' AND due_ts <= ?", (now,)):
        try:
            _sync(db, run, now)
        except ApiError as exc:  # the model or its file went away while the run waited
            _finish(db, run, "error", exc.message, now)
        else:
            _finish(db, run, "success", None, now)
        done += 1
    return done


def _catch_up(req: Request) -> None:
    if req.ctx.engine is not None:
        req.ctx.engine.sync_step()


# -- handlers ----------------------------------------------------------------------------
def create_run(req: Request) -> dict[str, Any]:
    body = req.body()
    model = _syncable(req.ctx.db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    force = bool(optional(body, "isForce", bool, False))
    reset = bool(optional(body, "isReset", bool, False))
    return {"run": run_json(start_run(req.ctx, model, force=force, reset=reset))}


def list_runs(req: Request) -> dict[str, Any]:
    _catch_up(req)
    query = req.query
    sql, params = "SELECT * FROM storage_runs WHERE workspace_uuid = ?", [req.ctx.workspace_uuid]
    model_uuid = uuid_ref(query, "modelUuid")
    if model_uuid is not None:
        sql += " AND model_uuid = ?"
        params.append(model_uuid)
    statuses = strings(query, "statuses")
    if statuses:
        unknown = sorted(set(statuses) - set(STATUSES))
        if unknown:
            raise bad_request(f"statuses takes {', '.join(STATUSES)}, not {', '.join(unknown)}", "invalidField")
        sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
        params += statuses
    limit = as_int(query.get("limit"), "limit", 50, minimum=1, maximum=1000)
    offset = as_int(query.get("offset"), "offset", 0)
    rows = req.ctx.db.all(sql + " ORDER BY created_at DESC, uuid LIMIT ? OFFSET ?", [*params, limit, offset])
    return {"runs": [run_json(r) for r in rows]}


def cancel_run(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    _catch_up(req)
    run = _run(db, ws, req.path_params["uuid"])
    if run["status"] not in ("pending", "running"):
        raise ApiError(400, f"The run already ended ({run['status']})", "runAlreadyFinished")
    db.execute(
        "UPDATE storage_runs SET status = 'cancelling', updated_at = ? WHERE uuid = ?",
        (iso(req.ctx.clock()), run["uuid"]),
    )
    _set_last_run(db, run["model_uuid"], {**run, "status": "cancelling"})
    if req.ctx.engine is not None:
        req.ctx.engine.kick()
    return JsonResponse({})


def refresh_model(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    try:
        model = _syncable(db, ws, req.path_params["uuid"])
    except ApiError as exc:
        if exc.reason == "alreadyRunning":
            raise ApiError(400, exc.message, "alreadySyncing") from None
        raise
    start_run(req.ctx, model, force=True, reset=False)
    return {"model": model_json(db, load_model(db, ws, model.uuid)), "isRefreshing": True}


def seed_runs(db: Database, ws: str, rng: random.Random) -> None:
    """The run behind each seeded model's ``lastRun``, and an older one before it."""
    for row in db.all("SELECT uuid, data FROM models WHERE workspace_uuid = ? AND deleted_at IS NULL", (ws,)):
        last = loads(row["data"], {}).get("lastRun")
        if not last:
            continue
        finished = parse_iso(last["finishedAt"])
        for uuid, at in ((new_uuid(rng), finished - 7 * 86400), (last["uuid"], finished)):
            stamp = iso(at)
            db.execute(
                "INSERT INTO storage_runs VALUES (?, ?, ?, 'success', NULL, 0, 0, '[]', ?, ?, ?, ?, ?)",
                (uuid, ws, row["uuid"], stamp, stamp, stamp, at, at),
            )


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/storage/runs")(create_run)
    r("GET", "/v1/storage/runs/list")(list_runs)
    r("POST", "/v1/storage/runs/{uuid}/cancel")(cancel_run)
    r("POST", "/v1/storage/models/{uuid}/refresh")(refresh_model)
