"""Orchestration endpoints about batches (many records through a release) and one-off actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.orchestration_runs import as_list, json_array, paging, run_row, sync
from cargo_shell.sandbox.domains.orchestration_views import TERMINAL_BATCH, batch_json, run_json
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.engine import jobs
from cargo_shell.sandbox.engine.graph import children_count
from cargo_shell.sandbox.fields import uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, new_uuid


# -- batches -------------------------------------------------------------------
def _batch_row(req: Request) -> dict[str, Any]:
    row = req.ctx.db.one(
        "SELECT * FROM wf_batches WHERE uuid = ? AND workspace_uuid = ?",
        (req.path_params["uuid"], req.ctx.workspace_uuid),
    )
    if row is None:
        raise ApiError(404, "Batch not found", "batchNotFound")
    return row


def _created_batch(req: Request, payload: dict[str, Any]) -> dict[str, Any]:
    uuid = jobs.create_batch(req.ctx, payload)
    row = req.ctx.db.one(
        "SELECT * FROM wf_batches WHERE uuid = ? AND workspace_uuid = ?", (uuid, req.ctx.workspace_uuid)
    )
    assert row is not None
    return {"batch": batch_json(row)}


def create_batch(req: Request) -> dict[str, Any]:
    return _created_batch(req, req.body())


def get_batch(req: Request) -> dict[str, Any]:
    sync(req)
    return {"batch": batch_json(_batch_row(req))}


def list_batches(req: Request) -> dict[str, Any]:
    sync(req)
    q = req.query
    where = ["workspace_uuid = ?"]
    params: list[Any] = [req.ctx.workspace_uuid]
    for field, column in (("workflowUuids", "workflow_uuid"), ("statuses", "status")):
        values = [str(v) for v in as_list(q.get(field))]
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if release := uuid_ref(q, "releaseUuid"):
        where.append("release_uuid = ?")
        params.append(release)
    if q.get("isFinished") in ("true", "false"):
        op = "IN" if q["isFinished"] == "true" else "NOT IN"
        where.append(f"status {op} ({','.join('?' * len(TERMINAL_BATCH))})")
        params.extend(TERMINAL_BATCH)
    if q.get("hasRuns") in ("true", "false"):
        where.append("runs_count > 0" if q["hasRuns"] == "true" else "runs_count = 0")
    for field, op in (("includedDataKinds", "IN"), ("excludedDataKinds", "NOT IN")):
        kinds = [str(v) for v in as_list(q.get(field))]
        if kinds:
            where.append(f"json_extract(data, '$.kind') {op} ({','.join('?' * len(kinds))})")
            params.extend(kinds)
    limit, offset = paging(q, default=50)
    rows = req.ctx.db.all(
        f"SELECT * FROM wf_batches WHERE {' AND '.join(where)} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {"batches": [batch_json(r) for r in rows]}


def cancel_batch(req: Request) -> dict[str, Any]:
    row = _batch_row(req)
    if row["status"] in TERMINAL_BATCH or row["status"] == "cancelling":
        raise ApiError(400, f"Batch already finished ({row['status']})", "batchAlreadyFinished")
    stamp = iso(req.ctx.clock())
    with req.ctx.db.transaction() as conn:
        conn.execute("UPDATE wf_batches SET status = 'cancelling', updated_at = ? WHERE uuid = ?", (stamp, row["uuid"]))
    return {}


def _graph_slugs(db: Database, batch: dict[str, Any]) -> set[str]:
    nodes = loads(batch["nodes"])
    if nodes is None and batch["release_uuid"]:
        nodes = loads(
            db.scalar(
                "SELECT nodes FROM wf_releases WHERE uuid = ? AND workspace_uuid = ?",
                (batch["release_uuid"], batch["workspace_uuid"]),
            ),
            [],
        )
    return {str(n.get("slug")) for n in nodes or [] if isinstance(n, dict)}


@register_download_kind("orchestration.batch")
def _stream_batch(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    slug = spec.get("outputNodeSlug") or "end"
    rows = db.all(
        "SELECT record_id, record_title, status, error_message, context FROM wf_runs"
        " WHERE batch_uuid = ? AND workspace_uuid = ? ORDER BY seq",
        (spec["uuid"], ws),
    )
    items = (
        {
            "recordId": row["record_id"],
            "recordTitle": row["record_title"],
            "status": row["status"],
            "errorMessage": row["error_message"],
            "output": loads(row["context"], {}).get(slug),
        }
        for row in rows
    )
    return json_array(items), "application/json", f"batch-{spec['uuid']}-{slug}.json"


def download_batch(req: Request) -> dict[str, Any]:
    sync(req)
    row = _batch_row(req)
    if row["status"] not in TERMINAL_BATCH:
        raise ApiError(400, "Batch not finished", "batchNotFinished")
    slug = req.body().get("outputNodeSlug")
    if slug and slug not in _graph_slugs(req.ctx.db, row):
        raise ApiError(400, f"Output node {slug!r} not found in the batch's release", "batchNotSupported")
    return {"url": create_download(req.ctx, "orchestration.batch", {"uuid": row["uuid"], "outputNodeSlug": slug})}


# -- actions -------------------------------------------------------------------
_KIND_FIELDS = {
    "native": ("actionSlug",),
    "connector": ("integrationSlug", "connectorUuid", "actionSlug"),
    "tool": ("toolUuid", "templateSlug", "releaseUuid", "waitUntilFinished"),
    "agent": ("agentUuid", "templateSlug", "releaseUuid", "waitUntilFinished"),
}


def action_nodes(action: Any) -> list[dict[str, Any]]:
    """A one-action graph: start -> action -> end."""
    if not isinstance(action, dict) or action.get("kind") not in _KIND_FIELDS:
        raise bad_request("action.kind must be native, connector, tool or agent", "invalidData")
    if not isinstance(action.get("config"), dict):
        raise bad_request("action.config is required ({} for defaults)", "invalidData")
    start, step, end = new_uuid(), new_uuid(), new_uuid()
    node: dict[str, Any] = {
        "uuid": step,
        "slug": "action",
        "kind": action["kind"],
        "config": action["config"],
        "fallbackOnFailure": False,
        "position": {"x": 0, "y": 100},
    }
    for field in _KIND_FIELDS[action["kind"]]:
        if action.get(field) is not None:
            node[field] = action[field]
    if action.get("retry"):
        node["retry"] = action["retry"]
    node["childrenUuids"] = [end] * (children_count(node) or 1)
    variables = [{"name": "output", "type": "any", "value": "{{nodes.action}}"}]
    return [
        {"uuid": start, "slug": "start", "kind": "native", "actionSlug": "start", "config": {},
         "childrenUuids": [step], "fallbackOnFailure": False, "position": {"x": 0, "y": 0}},
        node,
        {"uuid": end, "slug": "end", "kind": "native", "actionSlug": "end", "config": {"variables": variables},
         "childrenUuids": [], "fallbackOnFailure": False, "position": {"x": 0, "y": 200}},
    ]  # fmt: skip


def execute_action(req: Request) -> dict[str, Any]:
    body = req.body()
    if "data" not in body:
        raise bad_request("data is required", "invalidData")
    uuid = jobs.create_run(req.ctx, {"nodes": action_nodes(body.get("action")), "data": body["data"]})
    return {"run": run_json(run_row(req.ctx.db, req.ctx.workspace_uuid, uuid))}


def execute_action_batch(req: Request) -> dict[str, Any]:
    body = req.body()
    records = body.get("records")
    if not isinstance(records, list):
        raise bad_request("records must be an array", "invalidData")
    payload = {"nodes": action_nodes(body.get("action")), "data": {"kind": "records", "records": records}}
    return _created_batch(req, payload)


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/orchestration/batches")(create_batch)
    r("GET", "/v1/orchestration/batches/list")(list_batches)
    r("GET", "/v1/orchestration/batches/{uuid}")(get_batch)
    r("POST", "/v1/orchestration/batches/{uuid}/cancel")(cancel_batch)
    r("POST", "/v1/orchestration/batches/{uuid}/download")(download_batch)
    r("POST", "/v1/orchestration/actions/execute")(execute_action)
    r("POST", "/v1/orchestration/actions/execute-batch")(execute_action_batch)
