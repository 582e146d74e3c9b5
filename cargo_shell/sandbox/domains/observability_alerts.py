"""Alert definitions: reading and checking a scope, a threshold, a cron and actions; the JSON shapes."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.observability_metrics import AGGREGATIONS, MATCH_ALL, SCOPE_METRICS, storage_rows
from cargo_shell.sandbox.domains.orchestration_query import QueryError, run_query
from cargo_shell.sandbox.engine.cron import CronError, parse
from cargo_shell.sandbox.fields import objects, optional, strings, text
from cargo_shell.sandbox.http import ApiError, bad_request
from cargo_shell.sandbox.integrations import INTEGRATIONS

OPERATORS = ("gte", "lte")
RUN_STATUSES = ("cancelled", "cancelling", "error", "idle", "pending", "running", "skipped", "success")
RECORD_STATUSES = ("cancelled", "cancelling", "error", "pending", "running", "success")
SPAN_STATUSES = ("error", "pending", "success")
NODE_KINDS = ("agent", "connector", "native", "tool")
EVENT_STATUSES = ("error", "healthy", "unhealthy")
#: Scope kind -> (string fields, (list field, allowed values) or None).
SCOPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, tuple[str, ...]] | None]] = {
    "runs": (("workflowUuid", "recordTitleOrErrorMessage", "releaseUuid", "userUuid"), ("statuses", RUN_STATUSES)),
    "records": (("workflowUuid", "titleOrErrorMessage", "releaseUuid", "userUuid"), ("statuses", RECORD_STATUSES)),
    "spans": (
        ("workflowUuid", "parentAgentUuid", "nodeKind", "nodeIntegrationSlug", "nodeConnectorUuid", "nodeActionSlug",
         "nodeToolUuid", "nodeAgentUuid", "executionTitleOrErrorMessage", "userUuid"),
        ("executionStatuses", SPAN_STATUSES),
    ),
    "orchestrationQuery": (("query",), None),
    "storageQuery": (("query",), None),
    "model": (("modelUuid",), None),
}  # fmt: skip


def scope_of(db: Database, ws: str, raw: Any, now: float) -> dict[str, Any]:
    """A checked copy of an alert scope (only the fields its kind has)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str) or raw["kind"] not in SCOPE_FIELDS:
        raise bad_request(f"scope.kind must be one of {', '.join(SCOPE_FIELDS)}", "invalidField")
    kind = raw["kind"]
    names, listed = SCOPE_FIELDS[kind]
    scope: dict[str, Any] = {"kind": kind}
    for name in names:
        if (value := text(raw, name)) is not None:
            scope[name] = value
    if listed is not None and (values := strings(raw, listed[0])) is not None:
        bad = [v for v in values if v not in listed[1]]
        if bad:
            raise bad_request(f"scope.{listed[0]}: {bad[0]!r} is not one of {', '.join(listed[1])}", "invalidField")
        scope[listed[0]] = values
    if kind == "spans" and scope.get("nodeKind") not in (None, *NODE_KINDS):
        raise bad_request(f"scope.nodeKind must be one of {', '.join(NODE_KINDS)}", "invalidField")
    if kind in ("orchestrationQuery", "storageQuery"):
        _check_sql(db, ws, kind, scope.get("query"))
    if kind == "model":
        _check_model(db, ws, scope, raw.get("filter"), now)
    return scope


def _check_sql(db: Database, ws: str, kind: str, sql: str | None) -> None:
    if not sql or not sql.strip():
        raise bad_request(f"a {kind} scope needs its query (SQL text)", "invalidSql")
    params = {"window_started_at": "1970-01-01T00:00:00.000Z", "window_ended_at": "1970-01-01T00:00:00.000Z"}
    try:
        if kind == "orchestrationQuery":
            run_query(db, ws, sql, 1, params)
        else:
            storage_rows(db, ws, sql, params)
    except QueryError as exc:
        raise ApiError(400, f"The alert's query cannot run: {exc}", "invalidSql") from None


def _check_model(db: Database, ws: str, scope: dict[str, Any], flt: Any, now: float) -> None:
    from cargo_shell.sandbox.domains.segmentation import count_records
    from cargo_shell.sandbox.warehouse import load_model

    if "modelUuid" not in scope:
        raise bad_request("a model scope needs modelUuid", "missingField")
    model = load_model(db, ws, scope["modelUuid"])
    if flt is not None:
        if not isinstance(flt, dict):
            raise bad_request("scope.filter must be a segment filter object", "invalidFilter")
        count_records(db, model, flt or MATCH_ALL, None, now)
        scope["filter"] = flt


def threshold_of(raw: Any, scope_kind: str) -> dict[str, Any]:
    """A checked threshold; ``mismatchedThreshold`` when its metric cannot be read over the scope."""
    if not isinstance(raw, dict) or not isinstance(raw.get("metric"), str):
        raise bad_request("threshold must be {metric, operator, value} (and aggregation for duration or credits)")
    metric = raw["metric"]
    if metric not in SCOPE_METRICS[scope_kind]:
        allowed = ", ".join(SCOPE_METRICS[scope_kind])
        raise ApiError(400, f"The metric {metric!r} cannot be read over a {scope_kind} scope (use {allowed})",
                       "mismatchedThreshold")  # fmt: skip
    if raw.get("operator") not in OPERATORS:
        raise bad_request("threshold.operator must be gte or lte", "invalidField")
    value = optional(raw, "value", float)
    if value is None:
        raise bad_request("threshold.value is required (a number)", "missingField")
    out: dict[str, Any] = {"metric": metric, "operator": raw["operator"], "value": raw["value"]}
    if metric in AGGREGATIONS:
        if raw.get("aggregation") not in AGGREGATIONS[metric]:
            raise bad_request(f"threshold.aggregation of {metric} must be one of {', '.join(AGGREGATIONS[metric])}")
        out["aggregation"] = raw["aggregation"]
    return out


def cron_of(value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(400, "cron is required: a 5-field cron expression, e.g. 0 8 * * *", "invalidCron")
    try:
        return parse(value).text
    except CronError as exc:
        raise ApiError(400, f"cron: {exc}", "invalidCron") from None


def actions_of(db: Database, ws: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The alert's actions, each naming a tool, agent or connector of the workspace (``actionNotFound``)."""
    actions = objects(body, "actions") or []
    for i, action in enumerate(actions):
        kind = action.get("kind")
        if kind not in NODE_KINDS or not isinstance(action.get("config"), dict):
            raise bad_request(f"actions[{i}] must be {{kind: native|connector|tool|agent, config: {{...}}}}")
        missing = None
        if kind == "tool" and not _exists(db, "wf_tools", ws, action.get("toolUuid")):
            missing = "tool"
        elif kind == "agent" and not _exists(db, "ai_agents", ws, action.get("agentUuid")):
            missing = "agent"
        elif kind == "connector" and (
            str(action.get("integrationSlug")) not in INTEGRATIONS
            or (action.get("connectorUuid") is not None and not _exists(db, "connectors", ws, action["connectorUuid"]))
        ):
            missing = "integration or connector"
        if missing:
            raise ApiError(404, f"actions[{i}]: the {missing} it names was not found", "actionNotFound")
    return actions


def _exists(db: Database, table: str, ws: str, uuid: Any) -> bool:
    if not isinstance(uuid, str):
        return False
    return bool(db.scalar(f"SELECT 1 FROM {table} WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
                          (uuid, ws)))  # fmt: skip


# -- JSON ------------------------------------------------------------------------
def event_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "alertUuid": row["alert_uuid"],
        "status": row["status"], "value": row["value"], "errorMessage": row["error_message"],
        "actions": loads(row["actions"], []), "runUuids": loads(row["run_uuids"], []),
        "windowStartedAt": row["window_started_at"], "windowEndedAt": row["window_ended_at"],
        "createdAt": row["created_at"], "scope": loads(row["scope"]), "threshold": loads(row["threshold"]),
    }  # fmt: skip


def alert_json(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    last = db.one("SELECT * FROM obs_events WHERE alert_uuid = ? ORDER BY seq DESC LIMIT 1", (row["uuid"],))
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "userUuid": row["user_uuid"],
        "name": row["name"], "description": row["description"], "isEnabled": bool(row["is_enabled"]),
        "schedule": {"type": "cron", "cron": row["cron"], "temporalScheduleWorkflowId": f"sandbox-alert-{row['uuid']}"},
        "actions": loads(row["actions"], []), "lastEvaluatedAt": row["last_evaluated_at"],
        "folderUuid": row["folder_uuid"], "lastEvent": None if last is None else event_json(last),
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "deletedAt": row["deleted_at"],
        "scope": loads(row["scope"]), "threshold": loads(row["threshold"]),
    }  # fmt: skip
