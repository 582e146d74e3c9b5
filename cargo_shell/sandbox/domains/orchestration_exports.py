"""Exports of run outputs: ``runs/download-outputs`` and ``records/download-outputs``.

Where ``run download`` exports whole runs, these export what each run produced: the context of
one node (``outputNodeSlug``, the ``end`` node by default) per run, or per record (its latest
run), as CSV (one column per key of the output) or JSON, behind a signed sandbox URL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.orchestration_runs import (
    json_array,
    latest_records_sql,
    paging,
    require_workflow,
    run_filter,
    sync,
)
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.fields import text
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request

MAX_EXPORT = 10_000
FORMATS = ("csv", "json")
FIXED = ("runUuid", "recordId", "recordTitle", "status", "errorMessage")


def _selected(db: Database, ws: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs an export covers, oldest first (records: the latest run of each record)."""
    if spec["mode"] == "records":
        sql, params = latest_records_sql(ws, spec["filter"])
        return db.all(f"{sql} ORDER BY seq LIMIT ?", [*params, MAX_EXPORT + 1])
    where, params = run_filter(ws, spec["filter"])
    limit, offset = spec.get("limit") or MAX_EXPORT + 1, spec.get("offset") or 0
    return db.all(f"SELECT * FROM wf_runs WHERE {where} ORDER BY seq LIMIT ? OFFSET ?", [*params, limit, offset])


def _graph_slugs(db: Database, ws: str, rows: list[dict[str, Any]]) -> set[str]:
    slugs: set[str] = set()
    releases = {r["release_uuid"] for r in rows if r["release_uuid"]}
    for release in releases:
        nodes = loads(db.scalar("SELECT nodes FROM wf_releases WHERE uuid = ? AND workspace_uuid = ?", (release, ws)))
        slugs.update(str(n.get("slug")) for n in nodes or [] if isinstance(n, dict))
    for row in rows:
        slugs.update(str(n.get("slug")) for n in loads(row["nodes"]) or [] if isinstance(n, dict))
    return slugs


def _items(rows: list[dict[str, Any]], slug: str) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {
            "runUuid": row["uuid"],
            "recordId": row["record_id"],
            "recordTitle": row["record_title"],
            "status": row["status"],
            "errorMessage": row["error_message"],
            "output": loads(row["context"], {}).get(slug),
        }


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _csv(items: list[dict[str, Any]]) -> Iterator[bytes]:
    keys: dict[str, None] = {}
    for item in items:
        output = item["output"]
        for key in output if isinstance(output, dict) else ("output",):
            keys.setdefault(key, None)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*FIXED, *keys])
    for item in items:
        output = item["output"]
        values = output if isinstance(output, dict) else {"output": output}
        writer.writerow([_cell(item[k]) for k in FIXED] + [_cell(values.get(k)) for k in keys])
        if buffer.tell() > 65_536:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@register_download_kind("orchestration.outputs")
def _stream(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    rows = _selected(db, ws, spec)[:MAX_EXPORT]
    items = list(_items(rows, spec["slug"]))
    name = f"{spec['mode']}-outputs-{spec['slug']}"
    if spec["format"] == "json":
        return json_array(items), "application/json", f"{name}.json"
    return _csv(items), "text/csv", f"{name}.csv"


def _export(req: Request, mode: str) -> dict[str, Any]:
    sync(req)
    body = req.body()
    require_workflow(body)
    fmt = text(body, "format") or "csv"
    if fmt not in FORMATS:
        raise bad_request("format must be csv or json")
    run_filter(req.ctx.workspace_uuid, body, record_mode=mode == "records")  # validates the filters now
    spec: dict[str, Any] = {"mode": mode, "filter": body, "format": fmt, "slug": text(body, "outputNodeSlug") or "end"}
    if mode == "runs":
        spec["limit"], spec["offset"] = paging(body, default=MAX_EXPORT + 1)
    rows = _selected(req.ctx.db, req.ctx.workspace_uuid, spec)
    what = "runs" if mode == "runs" else "records"
    if not rows:
        raise ApiError(404, f"No {what} found matching the given filters", f"no{what.title()}Found")
    if len(rows) > MAX_EXPORT:
        raise ApiError(400, f"Export is limited to {MAX_EXPORT:,} {what}; narrow the filters", f"tooMany{what.title()}")
    slugs = _graph_slugs(req.ctx.db, req.ctx.workspace_uuid, rows)
    if spec["slug"] not in slugs:
        raise bad_request(
            f"outputNodeSlug {spec['slug']!r} is not a node of these runs (nodes: {', '.join(sorted(slugs))})"
        )
    return {"url": create_download(req.ctx, "orchestration.outputs", spec)}


def download_run_outputs(req: Request) -> dict[str, Any]:
    return _export(req, "runs")


def download_record_outputs(req: Request) -> dict[str, Any]:
    return _export(req, "records")


def register(router: Router) -> None:
    router.route("POST", "/v1/orchestration/runs/download-outputs")(download_run_outputs)
    router.route("POST", "/v1/orchestration/records/download-outputs")(download_record_outputs)
