"""What plays and tools share: each owns one workflow with a first draft release, and goes with it.

Creating a play or a tool creates its workflow and a draft release holding a start node wired to
an end node, so ``draft-release update``/``deploy`` can build on it at once. Removing one
soft-deletes it and its workflow (runs, batches and releases stay readable by uuid) and stops the
workflow's unfinished runs and batches: they are marked ``cancelling`` and the engine ends them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.fields import optional
from cargo_shell.sandbox.http import ApiError, bad_request
from cargo_shell.sandbox.util import new_uuid

TEMPLATE_SCOPES = ("private", "public")


def starter_nodes() -> list[dict[str, Any]]:
    """The graph of a new workflow's first draft: start -> end."""
    start, end = new_uuid(), new_uuid()
    base = {"kind": "native", "config": {}, "fallbackOnFailure": False}
    return [
        {**base, "uuid": start, "slug": "start", "name": "Start", "actionSlug": "start", "childrenUuids": [end],
         "position": {"x": 0, "y": 0}},
        {**base, "uuid": end, "slug": "end", "name": "End", "actionSlug": "end", "config": {"variables": []},
         "childrenUuids": [], "position": {"x": 0, "y": 120}},
    ]  # fmt: skip


def create_workflow(db: Database, ws: str, user: str, kind: str, folder: str | None, stamp: str) -> str:
    """A workflow of ``kind`` (play | tool) and its first draft release; returns the workflow uuid."""
    from cargo_shell.sandbox.domains.orchestration_workflows import RELEASES

    uuid = new_uuid()
    db.execute(
        "INSERT INTO wf_workflows (uuid, workspace_uuid, kind, folder_uuid, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (uuid, ws, kind, folder, stamp, stamp),
    )
    draft = RELEASES.draft(db, ws, user, uuid, stamp)
    db.execute(
        "UPDATE wf_releases SET nodes = ?, form_fields = ? WHERE uuid = ?",
        (dumps(starter_nodes()), dumps([]) if kind == "tool" else None, draft["uuid"]),
    )
    return uuid


def update_workflow(conn: sqlite3.Connection, workflow: str, body: dict[str, Any], stamp: str) -> None:
    """The workflow-level fields of a play or tool update: its folder and its template listing."""
    if "folderUuid" in body:
        conn.execute("UPDATE wf_workflows SET folder_uuid = ? WHERE uuid = ?", (body["folderUuid"], workflow))
    if "template" in body:
        conn.execute("UPDATE wf_workflows SET template = ? WHERE uuid = ?", (dumps(template(body)), workflow))
    conn.execute("UPDATE wf_workflows SET updated_at = ? WHERE uuid = ?", (stamp, workflow))


def template(body: dict[str, Any]) -> dict[str, Any]:
    value = optional(body, "template", dict) or {}
    if not isinstance(value.get("isAvailable"), bool) or value.get("scope") not in TEMPLATE_SCOPES:
        raise bad_request("template must be {isAvailable: true|false, scope: private|public}", "invalidField")
    return {"isAvailable": value["isAvailable"], "scope": value["scope"]}


def require_workflow(conn: sqlite3.Connection, ws: str, workflow: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM wf_workflows WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (workflow, ws)
    ).fetchone()
    if found is None:
        raise ApiError(404, "Workflow not found", "workflowNotFound")


def remove_workflow(conn: sqlite3.Connection, workflow: str, stamp: str) -> None:
    """Soft-delete the workflow and stop what it still has running."""
    conn.execute("UPDATE wf_workflows SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (stamp, stamp, workflow))
    conn.execute(
        "UPDATE wf_runs SET status = 'cancelling', updated_at = ? WHERE workflow_uuid = ?"
        " AND status IN ('idle', 'pending', 'running')",
        (stamp, workflow),
    )
    conn.execute(
        "UPDATE wf_batches SET status = 'cancelling', updated_at = ? WHERE workflow_uuid = ?"
        " AND status IN ('pending', 'running')",
        (stamp, workflow),
    )
