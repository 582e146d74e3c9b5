"""Rows of the orchestration tables -> the JSON shapes of the official types."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import loads

TERMINAL_RUN = ("success", "error", "cancelled", "skipped")
TERMINAL_BATCH = ("success", "error", "cancelled", "skipped")


def _owned(row: dict[str, Any]) -> dict[str, Any]:
    """The identity fields every workflow-owned object starts with."""
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "workflowUuid": row["workflow_uuid"],
        "userUuid": row["user_uuid"],
    }


def _job(row: dict[str, Any]) -> dict[str, Any]:
    """Runs and batches: identity, the release they ran and the nodes given inline."""
    return _owned(row) | {"releaseUuid": row["release_uuid"], "nodes": loads(row["nodes"])}


def _stamps(row: dict[str, Any]) -> dict[str, Any]:
    return {"createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def run_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **_job(row),
        "batchUuid": row["batch_uuid"],
        "traceUuid": row["uuid"],
        "temporalWorkflowId": f"sandbox-run-{row['uuid']}",
        "recordId": row["record_id"],
        "recordTitle": row["record_title"],
        "contextS3Filename": f"sandbox/runs/{row['uuid']}/context.json",
        "computedConfigsS3Filename": f"sandbox/runs/{row['uuid']}/computed-configs.json",
        "parentUuid": None,
        "parentNodeUuid": None,
        "parentBatchUuid": None,
        "parentAgentUuid": None,
        "parentChatUuid": None,
        "parentMessageUuid": None,
        "isGroupParent": None,
        "status": row["status"],
        "errorMessage": row["error_message"],
        "executions": loads(row["executions"], []),
        **_stamps(row),
        "finishedAt": row["finished_at"],
        "deletedAt": None,
    }


def record_json(row: dict[str, Any]) -> dict[str, Any]:
    run = run_json(row)
    out = {k: v for k, v in run.items() if k not in ("uuid", "recordId", "recordTitle", "parentUuid", "deletedAt")}
    out.update(id=row["record_id"], title=row["record_title"], runUuid=row["uuid"], parentRunUuid=None)
    if out["status"] in ("idle", "skipped"):
        out["status"] = "cancelled"
    return out


def batch_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **_job(row),
        "temporalWorkflowId": f"sandbox-batch-{row['uuid']}",
        "traceUuid": None,
        "data": loads(row["data"], {}),
        "errorMessage": row["error_message"],
        "status": row["status"],
        "runsStatus": row["runs_status"],
        "runsCount": row["runs_count"],
        "executedRunsCount": row["executed_runs_count"],
        "failedRunsCount": row["failed_runs_count"],
        "creditsUsedCount": row["credits_used_count"],
        **_stamps(row),
        "finishedAt": row["finished_at"],
    }


def release_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **_owned(row),
        "parentUuid": row["parent_uuid"],
        "description": row["description"],
        "version": row["version"],
        "status": row["status"],
        "templateSlug": row["template_slug"],
        "nodes": loads(row["nodes"], []),
        "formFields": loads(row["form_fields"]),
        "testRecords": loads(row["test_records"], []),
        "deployedAt": row["deployed_at"],
        **_stamps(row),
        "deletedAt": None,
    }


def play_json(row: dict[str, Any]) -> dict[str, Any]:
    data = loads(row["data"], {})
    return {
        **_owned(row),
        "modelUuid": row["model_uuid"],
        "segmentUuid": row["segment_uuid"],
        "changeKinds": data.get("changeKinds", ["added", "updated"]),
        "runCreationRule": data.get("runCreationRule", "once"),
        "name": row["name"],
        "description": row["description"],
        "schedule": data.get("schedule"),
        "isEnabled": data.get("isEnabled", True),
        "healthThreshold": data.get("healthThreshold", 0.5),
        "healthAlertActions": data.get("healthAlertActions", []),
        "folderUuid": row["folder_uuid"],
        **_stamps(row),
        "deletedAt": None,
    }


def tool_json(row: dict[str, Any]) -> dict[str, Any]:
    data = loads(row["data"], {})
    return {
        **_owned(row),
        "icon": data.get("icon", {"kind": "emoji", "emojiSlug": "hammer_and_wrench"}),
        "name": row["name"],
        "folderUuid": row["folder_uuid"],
        "creditsCost": data.get("creditsCost", {"kind": "minMax"}),
        "description": row["description"],
        "isReadOnly": data.get("isReadOnly", False),
        "triggers": data.get("triggers", []),
        "publicForm": data.get("publicForm"),
        **_stamps(row),
        "deletedAt": None,
    }


def workflow_node_json(node: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: node.get(k)
        for k in ("uuid", "slug", "name", "kind", "actionSlug", "integrationSlug", "connectorUuid", "toolUuid")
        if node.get(k) is not None
    }
    out.update(isArchived=False, nodes=[])
    return out
