"""Looking before running: ``batch preview`` (which records a batch would take) and
``action get-output-schema`` (what an action will output), both computed, nothing started."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.orchestration_workflows import RELEASES, TEMPLATES
from cargo_shell.sandbox.engine import jobs, outputs
from cargo_shell.sandbox.fields import objects, optional, strings, text, uuid_ref
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request
from cargo_shell.sandbox.integrations import INTEGRATIONS
from cargo_shell.sandbox.warehouse import load_model

PREVIEW_RECORDS = 100
#: Data kinds that read the workflow's model (plays) and kinds that bring their own records (tools).
MODEL_KINDS = ("segment", "change", "filter", "recordIds", "schedule")
RECORD_KINDS = ("records", "file", "runs", "group")


# -- batch preview -------------------------------------------------------------------
def _kind_of(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"), (dict, "object"),
                       (list, "array")):  # fmt: skip
        if isinstance(value, kind):
            return name
    return "any"


def _inferred_columns(records: list[Any]) -> list[dict[str, Any]]:
    """Columns of inline records: each key, typed when every record agrees on its kind."""
    kinds: dict[str, set[str]] = {}
    for record in records:
        for key, value in record.items() if isinstance(record, dict) else ():
            if value is not None:
                kinds.setdefault(key, set()).add(_kind_of(value))
            else:
                kinds.setdefault(key, set())
    return [{"slug": k, "label": k, "type": next(iter(v)) if len(v) == 1 else "any"} for k, v in kinds.items()]


def _run_records(db: Database, ws: str, workflow: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    uuids = strings(data, "runUuids") or []
    if not uuids:
        raise bad_request("runs data needs runUuids", "invalidData")
    rows = db.all(
        "SELECT data FROM wf_runs WHERE workspace_uuid = ? AND workflow_uuid = ?"
        f" AND uuid IN ({','.join('?' * len(uuids))}) ORDER BY seq",
        [ws, workflow, *uuids],
    )
    return [loads(r["data"]) for r in rows]


def _records(db: Database, ws: str, workflow: dict[str, Any], data: dict[str, Any]) -> list[Any]:
    kind = data["kind"]
    if kind == "records":
        return objects(data, "records") or []
    if kind == "group":
        items = data.get("items")
        if not isinstance(items, list):
            raise bad_request("group data needs items (an array)", "invalidData")
        return [i if isinstance(i, dict) else {"value": i} for i in items]
    if kind == "runs":
        return _run_records(db, ws, workflow["uuid"], data)
    try:
        if kind == "file":
            return jobs.file_records(db.conn, ws, data)
        if kind == "schedule":
            return jobs.model_records(db, ws, {"kind": "segment", "segmentUuid": data.get("segmentUuid")})
        return jobs.model_records(db, ws, data)
    except jobs.DataError as exc:
        if exc.reason in ("failedToGetSegment", "failedToGetSegmentChange"):
            raise ApiError(404, str(exc), "segmentNotFound") from None
        raise ApiError(400, str(exc), "dataError", {"dataError": {"reason": exc.reason}}) from None


def _model_uuid(db: Database, ws: str, data: dict[str, Any]) -> str | None:
    if isinstance(data.get("modelUuid"), str):
        return str(data["modelUuid"])
    segment = data.get("segmentUuid")
    if data["kind"] == "change":
        segment = db.scalar("SELECT segment_uuid FROM changes WHERE uuid = ? AND workspace_uuid = ?",
                            (data.get("changeUuid"), ws))  # fmt: skip
    found = db.scalar("SELECT model_uuid FROM segments WHERE uuid = ? AND workspace_uuid = ?", (segment, ws))
    return str(found) if found else None


def preview_batch(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    db, ws = ctx.db, ctx.workspace_uuid
    workflow = dict(jobs.workflow_row(db.conn, ws, uuid_ref(body, "workflowUuid")))
    data = optional(body, "data", dict)
    if data is None or not isinstance(data.get("kind"), str):
        raise bad_request("data is required: {kind: ...} as for batch create", "missingField")
    kind = data["kind"]
    if kind not in MODEL_KINDS + RECORD_KINDS:
        raise ApiError(400, f"Unknown data kind {kind!r}", "invalidDataKind")
    is_play = workflow["kind"] == "play"
    if is_play and kind in RECORD_KINDS:
        raise ApiError(400, "This play reads its model: preview segment, change, filter or recordIds data",
                       "modelLinkedToWorkflow")  # fmt: skip
    if not is_play and kind in MODEL_KINDS:
        raise ApiError(400, "This workflow has no model: preview records, file, runs or group data",
                       "noModelLinkedToWorkflow")  # fmt: skip
    records = _records(db, ws, workflow, data)
    model = _model_uuid(db, ws, data) if is_play else None
    if model is not None:
        info = load_model(db, ws, model)
        columns = [{"slug": c.slug, "label": c.label, "type": c.type} for c in info.columns]
    else:
        columns = _inferred_columns(records)
    return {"records": records[:PREVIEW_RECORDS], "columns": columns, "count": len(records)}


# -- action output schema ------------------------------------------------------------
def _release_nodes(db: Database, ws: str, action: dict[str, Any]) -> list[Any]:
    if (release := uuid_ref(action, "releaseUuid")) is not None:
        row = db.one("SELECT nodes FROM wf_releases WHERE uuid = ? AND workspace_uuid = ?", (release, ws))
        if row is None:
            raise ApiError(404, "Release not found", "releaseNotFound")
        return list(loads(row["nodes"], []))
    if (slug := text(action, "templateSlug")) is not None:
        template = next((t for t in TEMPLATES if t["slug"] == slug), None)
        if template is None:
            raise ApiError(404, f"No tool template {slug!r}", "actionNotFound")
        return list(template["nodes"])
    tool = db.one(
        "SELECT workflow_uuid FROM wf_tools WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
        (uuid_ref(action, "toolUuid"), ws),
    )
    if tool is None:
        raise ApiError(404, "The action's tool was not found (give toolUuid, releaseUuid or templateSlug)",
                       "actionNotFound")  # fmt: skip
    deployed = RELEASES.deployed(db, ws, tool["workflow_uuid"])
    if deployed is None:
        raise ApiError(404, "The tool has no deployed release", "releaseNotFound")
    return list(loads(deployed["nodes"], []))


def _connector_schema(db: Database, ws: str, action: dict[str, Any]) -> outputs.Schema:
    integration = INTEGRATIONS.get(str(action.get("integrationSlug")))
    if integration is None:
        raise ApiError(404, f"Integration {action.get('integrationSlug')!r} not found", "integrationNotFound")
    slug = str(action.get("actionSlug"))
    if slug not in integration["actions"]:
        raise ApiError(404, f"{integration['slug']} has no action {slug!r}", "actionNotFound")
    if (connector := uuid_ref(action, "connectorUuid")) is not None and db.scalar(
        "SELECT 1 FROM connectors WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (connector, ws)
    ) is None:
        raise ApiError(404, "Connector not found", "connectorNotFound")
    return outputs.connector_schema(integration["slug"], slug)


def _agent_schema(db: Database, ws: str, action: dict[str, Any]) -> outputs.Schema:
    if (agent := uuid_ref(action, "agentUuid")) is not None and db.scalar(
        "SELECT 1 FROM ai_agents WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (agent, ws)
    ) is None:
        raise ApiError(404, "The action's agent was not found", "actionNotFound")
    if (release := uuid_ref(action, "releaseUuid")) is not None and db.scalar(
        "SELECT 1 FROM ai_releases WHERE uuid = ? AND workspace_uuid = ?", (release, ws)
    ) is None:
        raise ApiError(404, "Release not found", "releaseNotFound")
    return outputs.agent_schema(action.get("config"))


def get_output_schema(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    action = optional(req.body(), "action", dict)
    if action is None:
        raise bad_request("action is required: {kind, config, ...} as for action execute", "missingField")
    kind = action.get("kind")
    try:
        if kind == "native":
            schema = outputs.native_schema(str(action.get("actionSlug")), action.get("config"))
        elif kind == "connector":
            schema = _connector_schema(ctx.db, ctx.workspace_uuid, action)
        elif kind == "tool":
            schema = outputs.tool_schema(_release_nodes(ctx.db, ctx.workspace_uuid, action))
        elif kind == "agent":
            schema = _agent_schema(ctx.db, ctx.workspace_uuid, action)
        else:
            raise bad_request("action.kind must be native, connector, tool or agent", "invalidData")
    except outputs.NoSchema as exc:
        if exc.reason == "sandbox":
            raise ApiError(UNAVAILABLE_STATUS, f"{exc} (the sandbox cannot run it)", "unavailableInSandbox") from None
        status = 404 if exc.reason == "actionNotFound" else 400
        raise ApiError(status, str(exc), exc.reason) from None
    return {"schema": schema}


def register(router: Router) -> None:
    router.route("POST", "/v1/orchestration/batches/preview")(preview_batch)
    router.route("POST", "/v1/orchestration/actions/get-output-schema")(get_output_schema)
