"""Orchestration endpoints about execution: runs, batches, actions and workflow records."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.orchestration_views import (
    TERMINAL_RUN,
    record_json,
    run_json,
)
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.engine import jobs
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, parse_iso

MAX_RECORD_CANCEL = 2000


def sync(req: Request) -> None:
    """Advance pending jobs a bounded step so that a read sees progress."""
    engine = req.ctx.engine
    if engine is not None:
        engine.sync_step()


def require_workflow(body: dict[str, Any]) -> None:
    if not body.get("workflowUuid"):
        raise bad_request("workflowUuid is required")


def json_array(items: Iterable[Any]) -> Iterator[bytes]:
    """A JSON array streamed one item a line."""
    yield b"["
    for i, item in enumerate(items):
        yield (b",\n" if i else b"") + json.dumps(item, ensure_ascii=False).encode()
    yield b"]\n"


# -- run filters ---------------------------------------------------------------
_EQUALS = {
    "workflowUuid": "workflow_uuid",
    "batchUuid": "batch_uuid",
    "releaseUuid": "release_uuid",
    "userUuid": "user_uuid",
    "recordId": "record_id",
}


def as_list(value: Any) -> list[Any]:
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
        ids = [str(i) for i in as_list(body["ids"])]
        where.append(f"record_id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    if body.get("uuids") or body.get("runUuids"):
        uuids = [str(u) for u in as_list(body.get("uuids") or body.get("runUuids"))]
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
    statuses = [str(s) for s in as_list(body.get("statuses"))]
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


def paging(body: dict[str, Any], default: int = 100) -> tuple[int, int]:
    return as_int(body.get("limit"), "limit", default, maximum=10_000), as_int(body.get("offset"), "offset", 0)


# -- runs ----------------------------------------------------------------------
def run_row(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM wf_runs WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise ApiError(404, "Run not found", "runNotFound")
    return row


def create_run(req: Request) -> dict[str, Any]:
    uuid = jobs.create_run(req.ctx, req.body())
    return {"run": run_json(run_row(req.ctx.db, req.ctx.workspace_uuid, uuid))}


def get_run(req: Request) -> dict[str, Any]:
    sync(req)
    row = run_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    return {
        "run": run_json(row),
        "runContext": loads(row["context"], {}),
        "runComputedConfigs": loads(row["computed_configs"], {}),
    }


def _runs_sql(ws: str, body: dict[str, Any]) -> tuple[str, list[Any]]:
    where, params = run_filter(ws, body)
    return f"SELECT * FROM wf_runs WHERE {where}", params


def _page(
    req: Request, select: Callable[[str, dict[str, Any]], tuple[str, list[Any]]]
) -> tuple[list[dict[str, Any]], int]:
    """One page of rows, newest first, and how many match in all."""
    sync(req)
    body = req.body()
    sql, params = select(req.ctx.workspace_uuid, body)
    limit, offset = paging(body)
    db = req.ctx.db
    count = db.scalar(f"SELECT COUNT(*) FROM ({sql})", params)
    return db.all(f"{sql} ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset]), int(count or 0)


def _count(req: Request, select: Callable[[str, dict[str, Any]], tuple[str, list[Any]]]) -> dict[str, Any]:
    sync(req)
    sql, params = select(req.ctx.workspace_uuid, req.body())
    return {"count": req.ctx.db.scalar(f"SELECT COUNT(*) FROM ({sql})", params)}


def list_runs(req: Request) -> dict[str, Any]:
    rows, count = _page(req, _runs_sql)
    return {"runs": [run_json(r) for r in rows], "count": count}


def count_runs(req: Request) -> dict[str, Any]:
    return _count(req, _runs_sql)


def cancel_runs(req: Request) -> dict[str, Any]:
    body = req.body()
    require_workflow(body)
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
    sync(req)
    body = req.body()
    require_workflow(body)
    where, params = run_filter(req.ctx.workspace_uuid, body)
    rows = req.ctx.db.all(f"SELECT executions FROM wf_runs WHERE {where}", params)
    return {"runMetrics": _metrics(rows, runs=True)}


@register_download_kind("orchestration.runs")
def _stream_runs(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    where, params = run_filter(ws, spec, record_mode=spec.get("mode") == "records")
    rows = db.all(f"SELECT * FROM wf_runs WHERE {where} ORDER BY seq", params)
    items = (run_json(row) | {"runContext": loads(row["context"], {})} for row in rows)
    return json_array(items), "application/json", "runs.json"


def download_runs(req: Request) -> dict[str, Any]:
    sync(req)
    body = req.body()
    require_workflow(body)
    run_filter(req.ctx.workspace_uuid, body)  # validates dates before handing out a URL
    return {"url": create_download(req.ctx, "orchestration.runs", body)}


# -- records (latest run per record id) ----------------------------------------
def latest_records_sql(ws: str, body: dict[str, Any]) -> tuple[str, list[Any]]:
    where, params = run_filter(ws, body, record_mode=True)
    sql = (
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY workflow_uuid, record_id ORDER BY seq DESC) AS rn"
        f" FROM wf_runs WHERE {where}) WHERE rn = 1"
    )
    statuses = [str(s) for s in as_list(body.get("statuses"))]
    if statuses:
        sql += f" AND status IN ({','.join('?' * len(statuses))})"
        params = [*params, *statuses]
    return sql, params


def list_records(req: Request) -> dict[str, Any]:
    rows, count = _page(req, latest_records_sql)
    return {"records": [record_json(r) for r in rows], "count": count}


def count_records(req: Request) -> dict[str, Any]:
    return _count(req, latest_records_sql)


def record_metrics(req: Request) -> dict[str, Any]:
    sync(req)
    body = req.body()
    require_workflow(body)
    sql, params = latest_records_sql(req.ctx.workspace_uuid, body)
    return {"recordMetrics": _metrics(req.ctx.db.all(sql, params), runs=False)}


def download_records(req: Request) -> dict[str, Any]:
    sync(req)
    body = req.body()
    require_workflow(body)
    return {"url": create_download(req.ctx, "orchestration.runs", {**body, "mode": "records"})}


def cancel_records(req: Request) -> dict[str, Any]:
    body = req.body()
    require_workflow(body)
    sql, params = latest_records_sql(req.ctx.workspace_uuid, body)
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
    r("POST", "/v1/orchestration/records/list")(list_records)
    r("POST", "/v1/orchestration/records/count")(count_records)
    r("POST", "/v1/orchestration/records/metrics")(record_metrics)
    r("POST", "/v1/orchestration/records/download")(download_records)
    r("POST", "/v1/orchestration/records/cancel")(cancel_records)
