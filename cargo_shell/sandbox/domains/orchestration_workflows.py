"""Orchestration endpoints about definitions: plays, tools, workflows, releases, nodes, templates."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains import orchestration_graphs as graphs
from cargo_shell.sandbox.domains.orchestration_runs import sync
from cargo_shell.sandbox.domains.orchestration_views import (
    batch_json,
    play_json,
    release_json,
    tool_json,
    workflow_node_json,
)
from cargo_shell.sandbox.domains.releases import ReleaseTable, requested_version
from cargo_shell.sandbox.engine import credits, expressions
from cargo_shell.sandbox.engine.graph import Node, validate_nodes
from cargo_shell.sandbox.engine.jobs import workflow_row
from cargo_shell.sandbox.engine.runner import NodeFailure, Runner
from cargo_shell.sandbox.engine.services import SandboxServices
from cargo_shell.sandbox.fields import objects, optional, strings, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, live_rows

PLACEHOLDER_IDS = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 6)]
AUTHOR = {
    "name": "Sandbox",
    "title": "Demo templates",
    "company": {"name": "cargo-shell", "url": "https://example.com"},
}
TEMPLATE_STAMP = "2025-01-01T00:00:00.000Z"


def _template(slug: str, kind: str, name: str, description: str, nodes: list[Node], **extra: Any) -> dict[str, Any]:
    base = {
        "slug": slug, "workspaceUuid": None, "scope": "public", "name": name, "description": description,
        "isPreset": True, "nodes": nodes, "categories": extra.pop("categories", ["ops"]), "author": AUTHOR,
        "kind": kind, "createdAt": TEMPLATE_STAMP, "updatedAt": TEMPLATE_STAMP, "deletedAt": None,
    }  # fmt: skip
    return base | extra


TEMPLATES = [
    _template(
        "company-enrichment", "tool", "Company enrichment", "Employee count and industry from a domain.",
        graphs.enrich_company_graph(PLACEHOLDER_IDS, "__REPLACE_WITH_CONNECTOR_UUID__"),
        categories=["prospecting"], icon={"kind": "emoji", "emojiSlug": "office"}, creditsCost={"min": 0, "max": 2},
        formFields=[{"name": "Domain", "slug": "domain", "kind": "string", "isRequired": True}],
    ),
    _template(
        "lead-scoring", "play", "Lead scoring", "Score companies of a segment and enrich the promising ones.",
        graphs.play_graph(PLACEHOLDER_IDS, "__REPLACE_WITH_CONNECTOR_UUID__"),
        categories=["prospecting", "ops"], model={"kind": "native", "extractorSlug": "companies"},
    ),
    _template(
        "score-and-route", "workflow", "Score and route", "Native scoring with a branch (no credits).",
        graphs.score_lead_graph(PLACEHOLDER_IDS), categories=["ops"],
    ),
]  # fmt: skip


# -- plays, tools, workflows ----------------------------------------------------
def list_plays(req: Request) -> dict[str, Any]:
    q = req.query
    plays = [play_json(r) for r in live_rows(req.ctx.db, "wf_plays", req.ctx.workspace_uuid)]
    if model := uuid_ref(q, "modelUuid"):
        plays = [p for p in plays if p["modelUuid"] == model]
    if segment := uuid_ref(q, "segmentUuid"):
        plays = [p for p in plays if p["segmentUuid"] == segment]
    if (enabled := text(q, "isEnabled")) in ("true", "false"):
        plays = [p for p in plays if p["isEnabled"] == (enabled == "true")]
    if schedule_type := text(q, "scheduleType"):
        plays = [p for p in plays if isinstance(p["schedule"], dict) and p["schedule"].get("type") == schedule_type]
    return {"plays": plays}


def list_tools(req: Request) -> dict[str, Any]:
    return {"tools": [tool_json(r) for r in live_rows(req.ctx.db, "wf_tools", req.ctx.workspace_uuid)]}


def list_workflows(req: Request) -> dict[str, Any]:
    sync(req)
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    out = []
    for wf in db.all(
        "SELECT * FROM wf_workflows WHERE workspace_uuid = ? AND kind != 'actions' AND deleted_at IS NULL"
        " ORDER BY created_at",
        (ws,),
    ):
        uuid = wf["uuid"]
        deployed = RELEASES.deployed(db, ws, uuid)
        last = db.one("SELECT * FROM wf_batches WHERE workflow_uuid = ? ORDER BY created_at DESC LIMIT 1", (uuid,))
        nodes = loads(deployed["nodes"], []) if deployed else []
        out.append(
            {
                "uuid": uuid,
                "workspaceUuid": ws,
                "nodes": [workflow_node_json(n) for n in nodes],
                "createdAt": wf["created_at"],
                "updatedAt": wf["updated_at"],
                "deletedAt": None,
                "playUuid": db.scalar("SELECT uuid FROM wf_plays WHERE workflow_uuid = ?", (uuid,)),
                "toolUuid": db.scalar("SELECT uuid FROM wf_tools WHERE workflow_uuid = ?", (uuid,)),
                "folderUuid": wf["folder_uuid"],
                "template": loads(wf["template"]),
                "lastBatch": None
                if last is None
                else {k: batch_json(last)[k] for k in ("uuid", "status", "runsStatus", "errorMessage", "createdAt",
                                                        "finishedAt")},
                "deployedRelease": None
                if deployed is None
                else {k: release_json(deployed)[k] for k in ("uuid", "userUuid", "description", "version", "nodes",
                                                             "formFields", "templateSlug", "deployedAt", "createdAt")},
            }
        )  # fmt: skip
    return {"workflows": out}


# -- releases -------------------------------------------------------------------
RELEASES = ReleaseTable(
    "wf_releases", "workflow_uuid", "workflowUuid", "workflow",
    {"nodes": "[]", "form_fields": None, "test_records": "[]"}, release_json,
)  # fmt: skip


def get_deployed(req: Request) -> dict[str, Any]:
    row = RELEASES.deployed(req.ctx.db, req.ctx.workspace_uuid, uuid_ref(req.query, "workflowUuid"))
    if row is None:
        raise ApiError(404, "No deployed release for this workflow", "releaseNotFound")
    return {"release": release_json(row)}


def _draft(db: Database, ws: str, user: str, workflow_uuid: Any, stamp: str) -> dict[str, Any]:
    workflow_row(db.conn, ws, workflow_uuid)
    return RELEASES.draft(db, ws, user, workflow_uuid, stamp)


def get_draft(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    with ctx.db.transaction():
        row = _draft(ctx.db, ctx.workspace_uuid, ctx.user_uuid, uuid_ref(req.query, "workflowUuid"), iso(ctx.clock()))
    return {"release": release_json(row)}


def update_draft(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        row = _draft(ctx.db, ctx.workspace_uuid, ctx.user_uuid, body.get("workflowUuid"), stamp)
        RELEASES.check_parent(conn, body.get("parentUuid"), row["workflow_uuid"])
        if "nodes" in body and not isinstance(body["nodes"], list):
            raise ApiError(400, "nodes must be an array", "failedToReconciliateNodes")
        objects(body, "nodes")  # each node an object
        updates = {
            "nodes": dumps(body["nodes"]) if "nodes" in body else row["nodes"],
            "form_fields": dumps(body["formFields"]) if "formFields" in body else row["form_fields"],
            "test_records": dumps(body["testRecords"]) if "testRecords" in body else row["test_records"],
            "parent_uuid": uuid_ref(body, "parentUuid") or row["parent_uuid"],
        }
        conn.execute(
            "UPDATE wf_releases SET nodes = ?, form_fields = ?, test_records = ?, parent_uuid = ?, updated_at = ?"
            " WHERE uuid = ?",
            (*updates.values(), stamp, row["uuid"]),
        )
    return RELEASES.response(ctx.db, ctx.workspace_uuid, row["uuid"])


def deploy_draft(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    if "nodes" not in body or "formFields" not in body:
        raise bad_request("nodes and formFields are required (formFields may be null for plays)")
    version = requested_version(body)
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        wf = workflow_row(conn, ctx.workspace_uuid, body.get("workflowUuid"))
        if wf["kind"] == "tool" and not isinstance(body["formFields"], list):
            raise ApiError(
                400, "A tool release needs formFields (an array, possibly empty)", "toolReleaseRequiresFormFields"
            )
        problems = validate_nodes(body["nodes"], _ref_checker(ctx.db, ctx.workspace_uuid))
        if problems:
            detail = ", ".join(f"{p.node.get('slug') or '?'}: {p.reason}" for p in problems[:5])
            raise ApiError(400, f"The draft nodes are invalid ({detail})", "draftReleaseNodesAreInvalid")
        draft = _draft(ctx.db, ctx.workspace_uuid, ctx.user_uuid, wf["uuid"], stamp)
        RELEASES.deploy(
            conn, draft, version, stamp, nodes=dumps(body["nodes"]), form_fields=dumps(body["formFields"]),
            description=text(body, "description"),
        )  # fmt: skip
    return RELEASES.response(ctx.db, ctx.workspace_uuid, draft["uuid"])


# -- nodes ----------------------------------------------------------------------
def _ref_checker(db: Database, ws: str) -> Any:
    def check(node: Node) -> str | None:
        kind = node.get("kind")
        if kind == "connector":
            found = db.scalar(
                "SELECT 1 FROM connectors WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
                (node.get("connectorUuid"), ws),
            )
            return None if found else "connectorNotFound"
        if kind == "tool":
            if node.get("templateSlug") and not node.get("toolUuid"):
                return None
            found = db.scalar(
                "SELECT 1 FROM wf_tools WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
                (node.get("toolUuid"), ws),
            )
            return None if found else "toolInvalid"
        return None

    return check


def validate(req: Request) -> dict[str, Any]:
    problems = validate_nodes(req.body().get("nodes"), _ref_checker(req.ctx.db, req.ctx.workspace_uuid))
    return {"outcome": "notValid" if problems else "valid", "invalidNodes": [p.to_json() for p in problems]}


def _compute(node: Any, context: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise bad_request("node must be a node object")
    scope = context if isinstance(context, dict) else {}
    raw = {k: v for k, v in (optional(node, "config", dict) or {}).items() if k != "_nodes"}
    try:
        computed: dict[str, Any] = expressions.compute(raw, scope)
    except expressions.ExpressionError as exc:
        raise ApiError(400, f"Cannot compute the node config: {exc}", "invalidExpression") from None
    return computed


def compute(req: Request) -> dict[str, Any]:
    body = req.body()
    return {"computedConfig": _compute(body.get("node"), body.get("context"))}


def execute(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    node = optional(body, "node", dict)
    if node is None:
        raise bad_request("node is required (a node object)", "missingField")
    release = uuid_ref(body, "releaseUuid")
    context = optional(body, "context", dict) or {}
    with ctx.db.transaction() as conn:
        workflow_row(conn, ctx.workspace_uuid, body.get("workflowUuid"))
        if (
            release
            and not conn.execute(
                "SELECT 1 FROM wf_releases WHERE uuid = ? AND workspace_uuid = ?", (release, ctx.workspace_uuid)
            ).fetchone()
        ):
            raise ApiError(404, "Release not found", "releaseNotFound")
        config = body.get("computedConfig")
        if not isinstance(config, dict):
            config = _compute(node, context)
        credits.require_credits(conn, ctx.workspace_uuid)
        runner = Runner(SandboxServices(ctx.db, ctx.workspace_uuid), iso(ctx.clock()))
        data = optional(optional(context, "nodes", dict) or {}, "start", dict) or {}
        try:
            outcome, charge = runner.execute_node(node, config, data)
        except NodeFailure as exc:
            return {"status": "error", "message": str(exc), "creditsUsedCount": exc.credits}
        if charge is not None:
            credits.write(conn, [credits.LedgerRow(
                ctx.workspace_uuid, iso(ctx.clock()), charge.amount, workflow_uuid=body.get("workflowUuid"),
                connector_uuid=charge.connector_uuid, integration_slug=charge.integration_slug,
                agent_uuid=charge.agent_uuid,
            )])  # fmt: skip
    out: dict[str, Any] = {"status": "success", "data": outcome.data, "creditsUsedCount": outcome.credits}
    if outcome.child_index is not None:
        out["childIndex"] = outcome.child_index
    return out


# -- templates ------------------------------------------------------------------
def list_templates(req: Request) -> dict[str, Any]:
    body = req.body()
    kinds = strings(body, "kinds")
    items = [t for t in TEMPLATES if not kinds or t["kind"] in kinds]
    if body.get("isPreset") is not None:
        items = [t for t in items if t["isPreset"] == bool(body["isPreset"])]
    return {"templates": items}


def get_template(req: Request) -> dict[str, Any]:
    for template in TEMPLATES:
        if template["slug"] == req.path_params["slug"]:
            return {"template": template}
    raise ApiError(404, "Template not found", "templateNotFound")


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/orchestration/plays/list")(list_plays)
    r("GET", "/v1/orchestration/tools/list")(list_tools)
    r("GET", "/v1/orchestration/workflows/list")(list_workflows)
    r("GET", "/v1/orchestration/releases/list")(RELEASES.list)
    r("GET", "/v1/orchestration/releases/deployed")(get_deployed)
    r("GET", "/v1/orchestration/releases/draft")(get_draft)
    r("POST", "/v1/orchestration/releases/draft/update")(update_draft)
    r("POST", "/v1/orchestration/releases/draft/deploy")(deploy_draft)
    r("GET", "/v1/orchestration/releases/{uuid}")(RELEASES.get)
    r("POST", "/v1/orchestration/nodes/validate")(validate)
    r("POST", "/v1/orchestration/nodes/compute")(compute)
    r("POST", "/v1/orchestration/nodes/execute")(execute)
    r("POST", "/v1/orchestration/templates/list")(list_templates)
    r("GET", "/v1/orchestration/templates/{slug}")(get_template)
