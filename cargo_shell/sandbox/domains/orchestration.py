"""The orchestration domain: routes (split over three modules) and the demo seed.

Seeded: three tools ("Enrich company" with a connector node, "Score lead" with native
expression nodes, "Write back" with a writeToModel node), one play on a segment of
companies, their releases, and a few past batches actually executed by the engine's
runner so runs, executions and the credits ledger agree with billing usage.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.domains import (
    orchestration_batches,
    orchestration_exports,
    orchestration_plays,
    orchestration_previews,
    orchestration_query,
    orchestration_runs,
    orchestration_telemetry,
    orchestration_tools,
    orchestration_workflows,
)
from cargo_shell.sandbox.domains import orchestration_graphs as graphs
from cargo_shell.sandbox.engine import credits, storage_bridge
from cargo_shell.sandbox.engine.core import Engine
from cargo_shell.sandbox.engine.jobs import record_identity
from cargo_shell.sandbox.engine.runner import Runner
from cargo_shell.sandbox.engine.services import SandboxServices
from cargo_shell.sandbox.http import Router
from cargo_shell.sandbox.util import iso, new_uuid

DAY = 86400.0


def register(router: Router) -> None:
    for module in (
        orchestration_runs, orchestration_batches, orchestration_workflows, orchestration_plays, orchestration_tools,
        orchestration_previews, orchestration_telemetry, orchestration_query, orchestration_exports,
    ):  # fmt: skip
        module.register(router)


# -- seed -------------------------------------------------------------------------
def _now(db: Database, ws: str) -> float:
    created = db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,))
    return datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp() + 90 * DAY


def _workflow(db: Database, ws: str, kind: str, folder: str | None, stamp: str, rng: random.Random) -> str:
    uuid = new_uuid(rng)
    db.execute(
        "INSERT INTO wf_workflows (uuid, workspace_uuid, kind, folder_uuid, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (uuid, ws, kind, folder, stamp, stamp),
    )
    return uuid


def _release(
    db: Database, ws: str, user: str, wf: str, version: str, status: str, nodes: list[Any], form: Any, stamp: str,
    rng: random.Random, template: str | None = None,
) -> str:  # fmt: skip
    uuid = new_uuid(rng)
    db.execute(
        "INSERT INTO wf_releases (uuid, workspace_uuid, workflow_uuid, user_uuid, version, status, description,"
        " template_slug, nodes, form_fields, deployed_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (uuid, ws, wf, user, version, status, f"Release {version}", template, dumps(nodes), dumps(form), stamp,
         stamp, stamp),
    )  # fmt: skip
    return uuid


def _tool(
    db: Database, ws: str, user: str, name: str, description: str, emoji: str, folder: str | None, stamp: str,
    rng: random.Random,
) -> tuple[str, str]:  # fmt: skip
    wf = _workflow(db, ws, "tool", folder, stamp, rng)
    uuid = new_uuid(rng)
    data = {"icon": {"kind": "emoji", "emojiSlug": emoji}, "creditsCost": {"kind": "minMax"}, "isReadOnly": False}
    db.execute(
        "INSERT INTO wf_tools (uuid, workspace_uuid, workflow_uuid, user_uuid, name, description, folder_uuid, data,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (uuid, ws, wf, user, name, description, folder, dumps(data), stamp, stamp),
    )
    return uuid, wf


def _past_batch(
    db: Database, ws: str, user: str, wf: str, release: str, nodes: list[Any], data: dict[str, Any],
    records: list[dict[str, Any]], at: float, rng: random.Random,
) -> None:  # fmt: skip
    """Execute a batch for real at a past time (runs, counters and ledger rows agree)."""
    if not records:
        return
    stamp = iso(at)
    runner = Runner(SandboxServices(db, ws), stamp)
    batch = new_uuid(rng)
    failed, spent, rows, ledger_rows = 0, 0.0, [], []
    for i, record in enumerate(records):
        result = runner.run(nodes, record)
        rid, title = record_identity(record, i)
        run_uuid = new_uuid(rng)
        failed += result.status == "error"
        spent += result.credits
        rows.append(
            (run_uuid, ws, wf, user, release, batch, rid, title, dumps(record), result.status, result.error_message,
             dumps(result.executions), dumps(result.context), dumps(result.computed_configs), result.credits, stamp,
             stamp, stamp, at, at)
        )  # fmt: skip
        ledger_rows += Engine._ledger_rows(ws, {"workflow_uuid": wf, "uuid": run_uuid}, result, stamp)
    db.conn.executemany(
        "INSERT INTO wf_runs (uuid, workspace_uuid, workflow_uuid, user_uuid, release_uuid, batch_uuid, record_id,"
        " record_title, data, status, error_message, executions, context, computed_configs, credits, created_at,"
        " updated_at, finished_at, start_ts, due_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    credits.write(db.conn, ledger_rows)
    health = "unhealthy" if records and failed / len(records) > 0.5 else "healthy"
    db.execute(
        "INSERT INTO wf_batches (uuid, workspace_uuid, workflow_uuid, user_uuid, release_uuid, data, status,"
        " runs_status, runs_count, executed_runs_count, failed_runs_count, credits_used_count, created_at,"
        " updated_at, finished_at, created_ts) VALUES (?,?,?,?,?,?,'success',?,?,?,?,?,?,?,?,?)",
        (batch, ws, wf, user, release, dumps(data), health, len(records), len(records), failed, spent, stamp, stamp,
         stamp, at),
    )  # fmt: skip


def seed_orchestration(db: Database, workspace_uuid: str, rng: random.Random) -> None:
    ws = workspace_uuid
    now = _now(db, ws)
    stamp = iso(now - 30 * DAY)
    user = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'") or ""
    model = db.one("SELECT uuid FROM models WHERE workspace_uuid = ? AND slug = 'companies'", (ws,))
    connector = db.one(
        "SELECT uuid, integration_slug FROM connectors WHERE workspace_uuid = ? AND deleted_at IS NULL"
        " ORDER BY integration_slug = 'clearbit' DESC, created_at LIMIT 1",
        (ws,),
    )
    folder = db.scalar("SELECT uuid FROM folders WHERE workspace_uuid = ? AND kind = 'tool'", (ws,))
    play_folder = db.scalar("SELECT uuid FROM folders WHERE workspace_uuid = ? AND kind = 'play'", (ws,))

    def ids() -> list[str]:
        return [new_uuid(rng) for _ in range(5)]

    with db.transaction():
        companies: list[dict[str, Any]] = []
        if model is not None:
            companies = storage_bridge.fetch(db, ws, model["uuid"], limit=12)
        # Score lead: native nodes only (archived 1.0.0, deployed 1.0.1).
        _tool_uuid, wf = _tool(db, ws, user, "Score lead", "Score a company from its size and industry.", "dart",
                         folder, stamp, rng)  # fmt: skip
        nodes = graphs.score_lead_graph(ids())
        _release(db, ws, user, wf, "1.0.0", "archived", nodes, [], stamp, rng)
        score_release = _release(db, ws, user, wf, "1.0.1", "deployed", nodes, [
            {"name": "Domain", "slug": "domain", "kind": "string", "isRequired": True},
            {"name": "Employee count", "slug": "employees", "kind": "number"},
        ], stamp, rng)  # fmt: skip
        sample = companies or [{"id": f"c{i}", "domain": f"company{i}.com", "employees": 100 * i} for i in range(6)]
        _past_batch(db, ws, user, wf, score_release, nodes, {"kind": "records", "s3Filename": "seed/score.json"},
                    sample, now - 7 * DAY, rng)  # fmt: skip
        if connector is not None:
            _tool_uuid, wf = _tool(db, ws, user, "Enrich company", "Employee count and industry from a domain.",
                             "office", folder, stamp, rng)  # fmt: skip
            nodes = graphs.enrich_company_graph(ids(), connector["uuid"], connector["integration_slug"])
            release = _release(db, ws, user, wf, "1.0.0", "deployed", nodes, [
                {"name": "Domain", "slug": "domain", "kind": "string", "isRequired": True}], stamp, rng,
                "company-enrichment")  # fmt: skip
            records = [*sample[:8], {"id": "no-domain", "name": "Nameless Ltd"}]
            _past_batch(db, ws, user, wf, release, nodes, {"kind": "records", "s3Filename": "seed/enrich.json"},
                        records, now - 3 * DAY, rng)  # fmt: skip
        if model is not None:
            _tool_uuid, wf = _tool(db, ws, user, "Write back", "Upsert the record into the companies model.",
                                   "inbox_tray", folder, stamp, rng)  # fmt: skip
            _release(db, ws, user, wf, "1.0.0", "deployed", graphs.write_back_graph(ids(), model["uuid"]),
                     [{"name": "Record", "slug": "record", "kind": "any"}], stamp, rng)  # fmt: skip
            segment = db.one(
                "SELECT uuid FROM segments WHERE workspace_uuid = ? AND model_uuid = ? AND deleted_at IS NULL"
                " ORDER BY created_at LIMIT 1",
                (ws, model["uuid"]),
            )
            if segment is not None and connector is not None:
                wf = _workflow(db, ws, "play", play_folder, stamp, rng)
                data = {"changeKinds": ["added", "updated"], "runCreationRule": "once", "isEnabled": True,
                        "healthThreshold": 0.5, "schedule": None}  # fmt: skip
                db.execute(
                    "INSERT INTO wf_plays (uuid, workspace_uuid, workflow_uuid, user_uuid, model_uuid, segment_uuid,"
                    " name, description, folder_uuid, data, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (new_uuid(rng), ws, wf, user, model["uuid"], segment["uuid"], "Score new companies",
                     "Score companies entering the segment and enrich the promising ones.", play_folder, dumps(data),
                     stamp, stamp),
                )  # fmt: skip
                nodes = graphs.play_graph(ids(), connector["uuid"], connector["integration_slug"])
                release = _release(db, ws, user, wf, "1.0.0", "deployed", nodes, None, stamp, rng, "lead-scoring")
                _past_batch(db, ws, user, wf, release, nodes, {"kind": "segment", "segmentUuid": segment["uuid"]},
                            companies[:10], now - 1 * DAY, rng)  # fmt: skip
