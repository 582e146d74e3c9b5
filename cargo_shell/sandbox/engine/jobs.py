"""Creating runs and batches: release resolution, data-kind rules, record resolution."""

from __future__ import annotations

import csv
import io
import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.engine import core, storage_bridge
from cargo_shell.sandbox.engine.credits import require_credits
from cargo_shell.sandbox.engine.graph import find_start, validate_nodes
from cargo_shell.sandbox.fields import objects, uuid_ref
from cargo_shell.sandbox.http import ApiError, Ctx, bad_request
from cargo_shell.sandbox.util import iso, new_uuid

PLAY_KINDS = ("segment", "change", "filter", "recordIds")
TOOL_KINDS = ("file", "records")
KNOWN_KINDS = (*PLAY_KINDS, *TOOL_KINDS, "runs", "schedule", "form")
MAX_BATCH_RECORDS = 100_000


class DataError(Exception):
    """The batch data cannot be turned into records (answered as ``dataError``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _data_error(exc: DataError) -> ApiError:
    return ApiError(400, str(exc), "dataError", {"dataError": {"reason": exc.reason}})


def workflow_row(conn: sqlite3.Connection, workspace_uuid: str, workflow_uuid: Any) -> sqlite3.Row:
    if not isinstance(workflow_uuid, str):
        raise ApiError(400, "workflowUuid must be a uuid string", "invalidField")
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM wf_workflows WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
        (workflow_uuid, workspace_uuid),
    ).fetchone()
    if row is None:
        raise ApiError(404, "Workflow not found", "workflowNotFound")
    return row


def actions_workflow(conn: sqlite3.Connection, workspace_uuid: str, stamp: str) -> str:
    """The hidden workflow that owns ad-hoc runs (custom nodes, action execute)."""
    found = conn.execute(
        "SELECT uuid FROM wf_workflows WHERE workspace_uuid = ? AND kind = 'actions'", (workspace_uuid,)
    ).fetchone()
    if found is not None:
        return str(found[0])
    uuid = new_uuid()
    conn.execute(
        "INSERT INTO wf_workflows (uuid, workspace_uuid, kind, created_at, updated_at) VALUES (?, ?, 'actions', ?, ?)",
        (uuid, workspace_uuid, stamp, stamp),
    )
    return uuid


def resolve_graph(
    conn: sqlite3.Connection, ctx: Ctx, workflow_uuid: Any, release_uuid: Any, nodes: Any
) -> tuple[str, str, str | None, list[Any] | None]:
    """-> (workflow uuid, workflow kind, release uuid, custom nodes) or an ApiError."""
    if release_uuid and nodes:
        raise ApiError(400, "Give either a release or custom nodes, not both", "invalidReleaseOrCustomNodes")
    if nodes is not None:
        problems = validate_nodes(nodes)
        if not isinstance(nodes, list) or not nodes:
            raise ApiError(400, "The node list is empty", "nodesNotFound")
        if find_start(nodes) is None:
            raise ApiError(400, "The graph has no start node (slug start, actionSlug start)", "rootNodeNotFound")
        if problems:
            first = problems[0]
            raise ApiError(
                400, f"Invalid node {first.node.get('slug')!r}: {first.reason}", "invalidReleaseOrCustomNodes"
            )
        if workflow_uuid:
            wf = workflow_row(conn, ctx.workspace_uuid, workflow_uuid)
            return str(wf["uuid"]), str(wf["kind"]), None, nodes
        return actions_workflow(conn, ctx.workspace_uuid, iso(ctx.clock())), "actions", None, nodes
    if not workflow_uuid and not release_uuid:
        raise bad_request("workflowUuid, releaseUuid or nodes is required", "workflowNotFound")
    if release_uuid:
        rel = conn.execute(
            "SELECT uuid, workflow_uuid FROM wf_releases WHERE uuid = ? AND workspace_uuid = ?",
            (release_uuid, ctx.workspace_uuid),
        ).fetchone()
        if rel is None or (workflow_uuid and rel["workflow_uuid"] != workflow_uuid):
            raise ApiError(404, "Release not found for this workflow", "invalidReleaseOrCustomNodes")
        wf = workflow_row(conn, ctx.workspace_uuid, rel["workflow_uuid"])
        return str(wf["uuid"]), str(wf["kind"]), str(rel["uuid"]), None
    wf = workflow_row(conn, ctx.workspace_uuid, workflow_uuid)
    rel = conn.execute(
        "SELECT uuid, nodes FROM wf_releases WHERE workflow_uuid = ? AND status = 'deployed'", (wf["uuid"],)
    ).fetchone()
    if rel is None:
        raise ApiError(400, "The workflow has no deployed release", "nodesNotFound")
    if find_start(loads(rel["nodes"], [])) is None:
        raise ApiError(400, "The deployed release has no start node", "rootNodeNotFound")
    return str(wf["uuid"]), str(wf["kind"]), str(rel["uuid"]), None


def record_identity(record: Any, index: int) -> tuple[str, str]:
    if not isinstance(record, dict):
        return str(index), str(record)[:200]
    rid = record.get("_id", record.get("id", record.get("recordId")))
    rid = str(rid) if rid not in (None, "") else str(index)
    title = record.get("_title") or record.get("name") or record.get("title") or record.get("domain") or rid
    return rid, str(title)[:200]


def insert_run(
    conn: sqlite3.Connection,
    ctx: Ctx,
    workflow_uuid: str,
    release_uuid: str | None,
    nodes: list[Any] | None,
    data: Any,
) -> str:
    now = ctx.clock()
    stamp = iso(now)
    uuid = new_uuid()
    rid, title = record_identity(data, 0)
    if not isinstance(data, dict) or not any(k in data for k in ("_id", "id", "recordId")):
        rid = uuid
    conn.execute(
        "INSERT INTO wf_runs (uuid, workspace_uuid, workflow_uuid, user_uuid, release_uuid, nodes, batch_uuid,"
        " record_id, record_title, data, status, created_at, updated_at, start_ts, due_ts)"
        " VALUES (?,?,?,?,?,?,NULL,?,?,?,'pending',?,?,?,?)",
        (
            uuid,
            ctx.workspace_uuid,
            workflow_uuid,
            ctx.user_uuid or None,
            release_uuid,
            dumps(nodes) if nodes is not None else None,
            rid,
            title,
            dumps(data),
            stamp,
            stamp,
            now + core.RUN_START_DELAY,
            now + core.RUN_DURATION,
        ),
    )
    return uuid


def create_run(ctx: Ctx, body: dict[str, Any]) -> str:
    if "data" not in body:
        raise bad_request("data is required", "invalidData")
    with ctx.db.transaction() as conn:
        wf_uuid, kind, release_uuid, nodes = resolve_graph(
            conn, ctx, uuid_ref(body, "workflowUuid"), uuid_ref(body, "releaseUuid"), objects(body, "nodes")
        )
        if kind == "play":
            raise ApiError(
                400, "Plays run over segments: start them with batch create, not run create", "playNotCompatible"
            )
        require_credits(conn, ctx.workspace_uuid)
        uuid = insert_run(conn, ctx, wf_uuid, release_uuid, nodes, body["data"])
    if ctx.engine is not None:
        ctx.engine.kick()
    return uuid


def check_data(kind_of_workflow: str, data: Any) -> str:
    if not isinstance(data, dict) or data.get("kind") not in KNOWN_KINDS:
        raise ApiError(400, f"Unknown batch data kind; use one of {', '.join(KNOWN_KINDS)}", "invalidDataKind")
    kind = str(data["kind"])
    allowed = PLAY_KINDS if kind_of_workflow == "play" else TOOL_KINDS
    if kind not in allowed:
        what = "a play" if kind_of_workflow == "play" else "a tool or custom nodes"
        raise ApiError(
            400, f"Batch data kind {kind!r} is not valid for {what}; use one of {', '.join(allowed)}", "invalidDataKind"
        )
    return kind


def create_batch(ctx: Ctx, body: dict[str, Any]) -> str:
    data = body.get("data")
    with ctx.db.transaction() as conn:
        wf_uuid, kind, release_uuid, nodes = resolve_graph(
            conn, ctx, uuid_ref(body, "workflowUuid"), uuid_ref(body, "releaseUuid"), objects(body, "nodes")
        )
        data_kind = check_data(kind, data)
        assert isinstance(data, dict)
        stored, source = dict(data), None
        if data_kind == "records":
            records = data.get("records")
            if not isinstance(records, list) or not records:
                raise _data_error(DataError("noRecords", "records must be a non-empty array"))
            if len(records) > MAX_BATCH_RECORDS:
                raise _data_error(DataError("invalidData", f"at most {MAX_BATCH_RECORDS} records per batch"))
            source = dumps(records)
        require_credits(conn, ctx.workspace_uuid)
        now = ctx.clock()
        uuid = new_uuid()
        if data_kind == "records":
            stored = {"kind": "records", "s3Filename": f"sandbox/batches/{uuid}/records.json"}
        if data_kind == "segment":
            seg = conn.execute(
                "SELECT from_play FROM segments WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
                (data.get("segmentUuid"), ctx.workspace_uuid),
            ).fetchone()
            if seg is None:
                raise _data_error(DataError("failedToGetSegment", "Segment not found"))
        stamp = iso(now)
        conn.execute(
            "INSERT INTO wf_batches (uuid, workspace_uuid, workflow_uuid, user_uuid, release_uuid, nodes, data,"
            " status, created_at, updated_at, created_ts, source) VALUES (?,?,?,?,?,?,?,'pending',?,?,?,?)",
            (
                uuid,
                ctx.workspace_uuid,
                wf_uuid,
                ctx.user_uuid or None,
                release_uuid,
                dumps(nodes) if nodes is not None else None,
                dumps(stored),
                stamp,
                stamp,
                now,
                source,
            ),
        )
    if ctx.engine is not None:
        ctx.engine.kick()
    return uuid


def model_records(db: Database, ws: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    kind = data["kind"]
    try:
        if kind == "segment":
            return storage_bridge.segment_records(db, ws, str(data.get("segmentUuid")))[1]
        if kind == "change":
            change = db.conn.execute(
                "SELECT segment_uuid FROM changes WHERE uuid = ? AND workspace_uuid = ?", (data.get("changeUuid"), ws)
            ).fetchone()
            if change is None:
                raise DataError("failedToGetSegmentChange", "Segment change not found")
            return storage_bridge.segment_records(db, ws, change[0])[1]
        if kind == "filter":
            return storage_bridge.fetch(
                db,
                ws,
                str(data.get("modelUuid")),
                filter_=data.get("filter"),
                sort=data.get("sort"),
                limit=data.get("limit"),
            )
        ids = data.get("ids")
        if not isinstance(ids, list):
            raise DataError("invalidData", "recordIds data needs modelUuid and ids")
        return storage_bridge.fetch(db, ws, str(data.get("modelUuid")), ids=[str(i) for i in ids])
    except LookupError as exc:
        reason = "failedToGetSegment" if kind in ("segment", "change") else "invalidData"
        raise DataError(reason, str(exc)) from exc


def file_records(conn: sqlite3.Connection, ws: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    row = conn.execute(
        "SELECT content FROM workspace_files WHERE s3_filename = ? AND workspace_uuid = ?",
        (data.get("s3Filename"), ws),
    ).fetchone()
    if row is None:
        raise DataError("invalidData", f"File {data.get('s3Filename')} not found")
    reader = csv.DictReader(io.StringIO(bytes(row[0]).decode("utf-8-sig", "replace")))
    raw = data.get("mappings")
    mappings: dict[str, str] = raw if isinstance(raw, dict) else {}
    return [{mappings.get(k, k): v for k, v in rec.items()} for rec in reader]


def resolve_batch_records(db: Database, batch: dict[str, Any]) -> list[dict[str, Any]]:
    data = loads(batch["data"], {})
    kind = data.get("kind")
    ws = batch["workspace_uuid"]
    if kind == "records":
        records: list[dict[str, Any]] = loads(batch["source"], [])
    elif kind == "file":
        records = file_records(db.conn, ws, data)
    else:
        records = model_records(db, ws, data)
    if not records:
        raise DataError("noRecords", "The batch data selects no records")
    return records


def insert_batch_runs(conn: sqlite3.Connection, batch: dict[str, Any], records: list[Any], now: float) -> None:
    n = len(records)
    spread = min(n * core.BATCH_SPREAD_PER_RUN, core.BATCH_SPREAD_MAX)
    stamp = iso(now)
    rows = []
    for i, record in enumerate(records):
        rid, title = record_identity(record, i)
        due = now + spread * (i + 1) / n
        rows.append(
            (
                new_uuid(),
                batch["workspace_uuid"],
                batch["workflow_uuid"],
                batch["user_uuid"],
                batch["release_uuid"],
                batch["nodes"],
                batch["uuid"],
                rid,
                title,
                dumps(record),
                stamp,
                stamp,
                due - min(1.0, spread / 2),
                due,
            )
        )
    conn.executemany(
        "INSERT INTO wf_runs (uuid, workspace_uuid, workflow_uuid, user_uuid, release_uuid, nodes, batch_uuid,"
        " record_id, record_title, data, status, created_at, updated_at, start_ts, due_ts)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,'pending',?,?,?,?)",
        rows,
    )
    conn.execute(
        "UPDATE wf_batches SET status = 'running', runs_count = ?, updated_at = ?, source = NULL WHERE uuid = ?",
        (n, stamp, batch["uuid"]),
    )
