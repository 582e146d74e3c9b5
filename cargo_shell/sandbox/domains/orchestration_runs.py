"""Orchestration endpoints about execution: runs, batches, actions and workflow records."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.orchestration_views import (
    TERMINAL_BATCH,
    TERMINAL_RUN,
    batch_json,
    record_json,
    run_json,
)
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.engine import jobs
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, new_uuid, parse_iso

MAX_RECORD_CANCEL = 2000


def _sync(req: Request) -> None:
    engine = req.ctx.engine
    if engine is not None:
        engine.sync_step()


# -- run filters ---------------------------------------------------------------
_EQUALS = {
    "workflowUuid": "workflow_uuid",
    "batchUuid": "batch_uuid",
    "releaseUuid": "release_uuid",
    "userUuid": "user_uuid",
    "recordId": "record_id",
}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def run_filter(ws: str, body: dict[str, Any], *, record_mode: bool = False) -> tuple[str, list[Any]]:
    """SQL WHERE clause over wf_runs for the run/record filter fields."""
    where = ["workspace_uuid = ?"]
    params: list[Any] = [ws]
    for field, column in _EQUALS.items():
        if body.get(field) not in (None, ""):
            where.append(f"{column} = ?")
            params.append(str(body[field]))
    if record_mode and body.get("ids"):
        ids = [str(i) for i in _as_list(body["ids"])]
        where.append(f"record_id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    if body.get("uuids") or body.get("runUuids"):
        uuids = [str(u) for u in _as_list(body.get("uuids") or body.get("runUuids"))]
        where.append(f"uuid IN ({','.join('?' * len(uuids))})")
        params.extend(uuids)
    title = body.get("title" if record_mode else "recordTitle")
    if title:
        where.append("record_title LIKE ?")
        params.append(f"%{title}%")
    either = body.get("titleOrId" if record_mode else "recordTitleOrId")
    if either:
        where.append("(record_title LIKE ? OR record_id = ?)")
        params.extend([f"%{either}%", str(either)])
    statuses = [str(s) for s in _as_list(body.get("statuses"))]
    if statuses and not record_mode:
        where.append(f"status IN ({','.join('?' * len(statuses))})")
        params.extend(statuses)
    finished = body.get("isFinished")
    if finished is not None:
        finished = finished in (True, "true", "1")
        where.append(f"status {'IN' if finished else 'NOT IN'} ({','.join('?' * len(TERMINAL_RUN))})")
        params.extend(TERMINAL_RUN)
    for field, column, op in (
        ("createdAfter", "created_at", ">="),
        ("createdBefore", "created_at", "<"),
        ("updatedAfter", "updated_at", ">="),
        ("updatedBefore", "updated_at", "<"),
    ):
        if body.get(field):
            where.append(f"{column} {op} ?")
            params.append(iso(parse_iso(str(body[field]))))
    return " AND ".join(where), params


def _paging(body: dict[str, Any], default: int = 100) -> tuple[int, int]:
    return as_int(body.get("limit"), "limit", default, maximum=10_000), as_int(body.get("offset"), "offset", 0)


# -- runs ----------------------------------------------------------------------
def _run_row(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM wf_runs WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise ApiError(404, "Run not found", "runNotFound")
    return row


def create_run(req: Request) -> dict[str, Any]:
    uuid = jobs.create_run(req.ctx, req.body())
    return {"run": run_json(_run_row(req.ctx.db, req.ctx.workspace_uuid, uuid))}


def get_run(req: Request) -> dict[str, Any]:
    _sync(req)
    row = _run_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    return {
        "run": run_json(row),
        "runContext": loads(row["context"], {}),
        "runComputedConfigs": loads(row["computed_configs"], {}),
    }


def list_runs(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    where, params = run_filter(req.ctx.workspace_uuid, body)
    limit, offset = _paging(body)
    db = req.ctx.db
    count = db.scalar(f"SELECT COUNT(*) FROM wf_runs WHERE {where}", params)
    rows = db.all(f"SELECT * FROM wf_runs WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    return {"runs": [run_json(r) for r in rows], "count": count}


def count_runs(req: Request) -> dict[str, Any]:
    _sync(req)
    where, params = run_filter(req.ctx.workspace_uuid, req.body())
    return {"count": req.ctx.db.scalar(f"SELECT COUNT(*) FROM wf_runs WHERE {where}", params)}


def cancel_runs(req: Request) -> dict[str, Any]:
    body = req.body()
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")
    where, params = run_filter(req.ctx.workspace_uuid, body)
    stamp = iso(req.ctx.clock())
    with req.ctx.db.transaction() as conn:
        conn.execute(
            f"UPDATE wf_runs SET status = 'cancelling', updated_at = ? WHERE {where}"
            " AND status IN ('idle', 'pending', 'running')",
            [stamp, *params],
        )
    return {}


def _metrics(rows: Iterable[dict[str, Any]], *, runs: bool) -> list[dict[str, Any]]:
    per_node: dict[str, dict[str, Any]] = {}
    statuses = ["pending", "running", "success", "error", "cancelling", "cancelled"]
    if runs:
        statuses += ["idle", "skipped"]
    for row in rows:
        for execution in loads(row["executions"], []):
            node = str(execution.get("nodeUuid"))
            entry = per_node.setdefault(
                node,
                {"nodeUuid": node, "totalExecutionsCount": 0, "creditsUsedCount": 0}
                | {f"{s}ExecutionsCount": 0 for s in statuses},
            )
            entry["totalExecutionsCount"] += 1
            key = f"{execution.get('status')}ExecutionsCount"
            if key in entry:
                entry[key] += 1
            entry["creditsUsedCount"] += execution.get("creditsUsedCount") or 0
    return list(per_node.values())


def run_metrics(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")
    where, params = run_filter(req.ctx.workspace_uuid, body)
    rows = req.ctx.db.all(f"SELECT executions FROM wf_runs WHERE {where}", params)
    return {"runMetrics": _metrics(rows, runs=True)}


@register_download_kind("orchestration.runs")
def _stream_runs(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    where, params = run_filter(ws, spec, record_mode=spec.get("mode") == "records")

    def chunks() -> Iterator[bytes]:
        yield b"["
        first = True
        for row in db.all(f"SELECT * FROM wf_runs WHERE {where} ORDER BY seq", params):
            item = run_json(row) | {"runContext": loads(row["context"], {})}
            yield (b"" if first else b",\n") + json.dumps(item, ensure_ascii=False).encode()
            first = False
        yield b"]\n"

    return chunks(), "application/json", "runs.json"


def download_runs(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")
    run_filter(req.ctx.workspace_uuid, body)  # validates dates before handing out a URL
    return {"url": create_download(req.ctx, "orchestration.runs", body)}


# -- batches -------------------------------------------------------------------
def _batch_row(req: Request) -> dict[str, Any]:
    row = req.ctx.db.one(
        "SELECT * FROM wf_batches WHERE uuid = ? AND workspace_uuid = ?",
        (req.path_params["uuid"], req.ctx.workspace_uuid),
    )
    if row is None:
        raise ApiError(404, "Batch not found", "batchNotFound")
    return row


def create_batch(req: Request) -> dict[str, Any]:
    uuid = jobs.create_batch(req.ctx, req.body())
    row = req.ctx.db.one("SELECT * FROM wf_batches WHERE uuid = ?", (uuid,))
    assert row is not None
    return {"batch": batch_json(row)}


def get_batch(req: Request) -> dict[str, Any]:
    _sync(req)
    return {"batch": batch_json(_batch_row(req))}


def list_batches(req: Request) -> dict[str, Any]:
    _sync(req)
    q = req.query
    where = ["workspace_uuid = ?"]
    params: list[Any] = [req.ctx.workspace_uuid]
    for field, column in (("workflowUuids", "workflow_uuid"), ("statuses", "status")):
        values = [str(v) for v in _as_list(q.get(field))]
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if q.get("releaseUuid"):
        where.append("release_uuid = ?")
        params.append(q["releaseUuid"])
    if q.get("isFinished") in ("true", "false"):
        op = "IN" if q["isFinished"] == "true" else "NOT IN"
        where.append(f"status {op} ({','.join('?' * len(TERMINAL_BATCH))})")
        params.extend(TERMINAL_BATCH)
    if q.get("hasRuns") in ("true", "false"):
        where.append("runs_count > 0" if q["hasRuns"] == "true" else "runs_count = 0")
    for field, op in (("includedDataKinds", "IN"), ("excludedDataKinds", "NOT IN")):
        kinds = [str(v) for v in _as_list(q.get(field))]
        if kinds:
            where.append(f"json_extract(data, '$.kind') {op} ({','.join('?' * len(kinds))})")
            params.extend(kinds)
    limit, offset = _paging(q, default=50)
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
        nodes = loads(db.scalar("SELECT nodes FROM wf_releases WHERE uuid = ?", (batch["release_uuid"],)), [])
    return {str(n.get("slug")) for n in nodes or [] if isinstance(n, dict)}


@register_download_kind("orchestration.batch")
def _stream_batch(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    slug = spec.get("outputNodeSlug") or "end"

    def chunks() -> Iterator[bytes]:
        yield b"["
        first = True
        rows = db.all(
            "SELECT record_id, record_title, status, error_message, context FROM wf_runs"
            " WHERE batch_uuid = ? AND workspace_uuid = ? ORDER BY seq",
            (spec["uuid"], ws),
        )
        for row in rows:
            item = {
                "recordId": row["record_id"],
                "recordTitle": row["record_title"],
                "status": row["status"],
                "errorMessage": row["error_message"],
                "output": loads(row["context"], {}).get(slug),
            }
            yield (b"" if first else b",\n") + json.dumps(item, ensure_ascii=False).encode()
            first = False
        yield b"]\n"

    return chunks(), "application/json", f"batch-{spec['uuid']}-{slug}.json"


def download_batch(req: Request) -> dict[str, Any]:
    _sync(req)
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
    from cargo_shell.sandbox.engine.graph import children_count

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
    return {"run": run_json(_run_row(req.ctx.db, req.ctx.workspace_uuid, uuid))}


def execute_action_batch(req: Request) -> dict[str, Any]:
    body = req.body()
    records = body.get("records")
    if not isinstance(records, list):
        raise bad_request("records must be an array", "invalidData")
    payload = {"nodes": action_nodes(body.get("action")), "data": {"kind": "records", "records": records}}
    uuid = jobs.create_batch(req.ctx, payload)
    row = req.ctx.db.one("SELECT * FROM wf_batches WHERE uuid = ?", (uuid,))
    assert row is not None
    return {"batch": batch_json(row)}


# -- records (latest run per record id) ----------------------------------------
def _latest_sql(ws: str, body: dict[str, Any]) -> tuple[str, list[Any]]:
    where, params = run_filter(ws, body, record_mode=True)
    sql = (
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY workflow_uuid, record_id ORDER BY seq DESC) AS rn"
        f" FROM wf_runs WHERE {where}) WHERE rn = 1"
    )
    statuses = [str(s) for s in _as_list(body.get("statuses"))]
    if statuses:
        sql += f" AND status IN ({','.join('?' * len(statuses))})"
        params = [*params, *statuses]
    return sql, params


def list_records(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    sql, params = _latest_sql(req.ctx.workspace_uuid, body)
    limit, offset = _paging(body)
    db = req.ctx.db
    count = db.scalar(f"SELECT COUNT(*) FROM ({sql})", params)
    rows = db.all(f"{sql} ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    return {"records": [record_json(r) for r in rows], "count": count}


def count_records(req: Request) -> dict[str, Any]:
    _sync(req)
    sql, params = _latest_sql(req.ctx.workspace_uuid, req.body())
    return {"count": req.ctx.db.scalar(f"SELECT COUNT(*) FROM ({sql})", params)}


def record_metrics(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")
    sql, params = _latest_sql(req.ctx.workspace_uuid, body)
    return {"recordMetrics": _metrics(req.ctx.db.all(sql, params), runs=False)}


def download_records(req: Request) -> dict[str, Any]:
    _sync(req)
    body = req.body()
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")
    return {"url": create_download(req.ctx, "orchestration.runs", {**body, "mode": "records"})}


def cancel_records(req: Request) -> dict[str, Any]:
    body = req.body()
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")
    sql, params = _latest_sql(req.ctx.workspace_uuid, body)
    db = req.ctx.db
    uuids = [r["uuid"] for r in db.all(f"SELECT uuid FROM ({sql}) WHERE status IN ('pending', 'running')", params)]
    if len(uuids) > MAX_RECORD_CANCEL:
        raise ApiError(400, f"At most {MAX_RECORD_CANCEL} records can be cancelled at once", "tooManyRecordsSelected")
    stamp = iso(req.ctx.clock())
    with db.transaction() as conn:
        conn.executemany(
            "UPDATE wf_runs SET status = 'cancelling', updated_at = ? WHERE uuid = ?", [(stamp, u) for u in uuids]
        )
    return {}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/orchestration/runs")(create_run)
    r("POST", "/v1/orchestration/runs/list")(list_runs)
    r("POST", "/v1/orchestration/runs/count")(count_runs)
    r("POST", "/v1/orchestration/runs/cancel")(cancel_runs)
    r("POST", "/v1/orchestration/runs/metrics")(run_metrics)
    r("POST", "/v1/orchestration/runs/download")(download_runs)
    r("GET", "/v1/orchestration/runs/{uuid}")(get_run)
    r("POST", "/v1/orchestration/batches")(create_batch)
    r("GET", "/v1/orchestration/batches/list")(list_batches)
    r("GET", "/v1/orchestration/batches/{uuid}")(get_batch)
    r("POST", "/v1/orchestration/batches/{uuid}/cancel")(cancel_batch)
    r("POST", "/v1/orchestration/batches/{uuid}/download")(download_batch)
    r("POST", "/v1/orchestration/actions/execute")(execute_action)
    r("POST", "/v1/orchestration/actions/execute-batch")(execute_action_batch)
    r("POST", "/v1/orchestration/records/list")(list_records)
    r("POST", "/v1/orchestration/records/count")(count_records)
    r("POST", "/v1/orchestration/records/metrics")(record_metrics)
    r("POST", "/v1/orchestration/records/download")(download_records)
    r("POST", "/v1/orchestration/records/cancel")(cancel_records)
