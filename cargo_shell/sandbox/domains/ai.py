"""The AI domain: agents and their releases, templates; chats/messages and content live in
``ai_chat`` and ``ai_content``. Agents answer through a deterministic sandbox agent."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains import ai_chat, ai_content
from cargo_shell.sandbox.domains import ai_schema as _schema  # noqa: F401  (registers the migration)
from cargo_shell.sandbox.domains.releases import ReleaseTable, requested_version
from cargo_shell.sandbox.fields import strings, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import check_folder, iso, live_row, live_rows, new_uuid

ICON_COLORS = ("grey", "green", "purple", "yellow", "blue", "red")
ARRAYS = ("actions", "mcpClients", "resources", "capabilities", "suggestedActions")
DEFAULT_CONFIG: dict[str, Any] = {
    "actions": [], "resources": [], "capabilities": [], "suggestedActions": [], "mcpClients": [],
    "systemPrompt": "You are a helpful sandbox agent.", "withReasoning": False, "temperature": 0.3, "maxSteps": 10,
    "integrationSlug": "openai", "connectorUuid": None, "languageModelSlug": "gpt-4o-mini", "output": None,
    "heartbeat": None, "evaluator": None,
}  # fmt: skip
CONFIG_FIELDS = tuple(DEFAULT_CONFIG)
TEMPLATE_STAMP = "2025-01-01T00:00:00.000Z"
AUTHOR = {
    "name": "Sandbox",
    "title": "Demo templates",
    "company": {"name": "cargo-shell", "url": "https://example.com"},
}


def _template(slug: str, name: str, description: str, kind: str, categories: list[str]) -> dict[str, Any]:
    """What every AI template carries; preset templates belong to no workspace."""
    return {
        "slug": slug, "scope": "public", "name": name, "description": description, "isPreset": True,
        "categories": categories, "author": AUTHOR, "kind": kind, "actions": [], "resources": [],
        "workspaceUuid": None, "createdAt": TEMPLATE_STAMP, "updatedAt": TEMPLATE_STAMP, "deletedAt": None,
    }  # fmt: skip


def _agent_template(slug: str, name: str, prompt: str, temperature: float, categories: list[str]) -> dict[str, Any]:
    return _template(slug, name, prompt.split(".")[0] + ".", "agent", categories) | {
        "icon": {"color": "blue", "face": "🤖"}, "systemPrompt": prompt, "withReasoning": False,
        "temperature": temperature, "maxSteps": 10, "integrationSlug": "openai", "languageModelSlug": "gpt-4o-mini",
        "capabilities": [], "suggestedActions": [], "output": None, "heartbeat": None, "evaluator": None,
    }  # fmt: skip


TEMPLATES = [
    _agent_template("lead-researcher", "Lead researcher", "Research a company and summarise why it is a fit.", 0.4,
                    ["prospecting"]),
    _agent_template("company-classifier", "Company classifier", "Classify a company into an industry and a size.",
                    0.0, ["ops"]),
    _agent_template("email-drafter", "Email drafter", "Draft a short first outreach email.", 0.8, ["outreach"]),
    _template("crm-mcp", "CRM MCP server", "Expose CRM lookups as MCP tools.", "mcpServer", ["ops"]),
]  # fmt: skip


# -- agents ------------------------------------------------------------------------
def release_json(row: dict[str, Any]) -> dict[str, Any]:
    config = DEFAULT_CONFIG | loads(row["config"], {})
    return {
        "uuid": row["uuid"], "parentUuid": row["parent_uuid"], "workspaceUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"], "agentUuid": row["agent_uuid"], "description": row["description"],
        "templateSlug": row["template_slug"], "version": row["version"], "status": row["status"], **config,
        "deployedAt": row["deployed_at"], "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }  # fmt: skip


#: ``Agent.deployedRelease`` is the release without its agent, workspace, parent, status and update time.
DEPLOYED_RELEASE_KEYS = ("uuid", "userUuid", "description", "templateSlug", "version", *CONFIG_FIELDS,
                         "deployedAt", "createdAt")  # fmt: skip


def agent_json(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    deployed = RELEASES.deployed(db, row["workspace_uuid"], row["uuid"])
    summary = None
    if deployed is not None:
        full = release_json(deployed)
        summary = {k: full[k] for k in DEPLOYED_RELEASE_KEYS}
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "userUuid": row["user_uuid"],
        "name": row["name"], "icon": loads(row["icon"]), "description": row["description"],
        "triggers": loads(row["triggers"], []), "deployedRelease": summary, "folderUuid": row["folder_uuid"],
        "template": loads(row["template"]), "isReadOnly": bool(row["is_read_only"]), "createdAt": row["created_at"],
        "updatedAt": row["updated_at"], "deletedAt": None,
    }  # fmt: skip


def agent_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "ai_agents", ws, uuid, "Agent", "agentNotFound")


def _check_icon(icon: Any) -> dict[str, Any]:
    if not isinstance(icon, dict) or icon.get("color") not in ICON_COLORS or not icon.get("face"):
        raise bad_request(f"icon must be {{color: {'|'.join(ICON_COLORS)}, face: emoji}}")
    return {"color": icon["color"], "face": icon["face"]}


def list_agents(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    return {"agents": [agent_json(db, r) for r in live_rows(db, "ai_agents", req.ctx.workspace_uuid)]}


def get_agent(req: Request) -> dict[str, Any]:
    return {"agent": agent_json(req.ctx.db, agent_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_agent(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("name is required")
    icon = _check_icon(body.get("icon"))
    check_folder(ctx.db, ctx.workspace_uuid, body.get("folderUuid"))
    uuid, stamp = new_uuid(), iso(ctx.clock())
    ctx.db.execute(
        "INSERT INTO ai_agents (uuid, workspace_uuid, user_uuid, name, description, icon, triggers, folder_uuid,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (uuid, ctx.workspace_uuid, ctx.user_uuid, name.strip(), text(body, "description"), dumps(icon),
         dumps(body.get("triggers") or []), body.get("folderUuid"), stamp, stamp),
    )  # fmt: skip
    return {"agent": agent_json(ctx.db, agent_row(ctx.db, ctx.workspace_uuid, uuid))}


def update_agent(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = agent_row(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    check_folder(ctx.db, ctx.workspace_uuid, body.get("folderUuid"))
    values = {
        "name": text(body, "name") or row["name"],
        "description": text(body, "description") if "description" in body else row["description"],
        "icon": dumps(_check_icon(body["icon"])) if "icon" in body else row["icon"],
        "triggers": dumps(body["triggers"]) if "triggers" in body else row["triggers"],
        "folder_uuid": body["folderUuid"] if "folderUuid" in body else row["folder_uuid"],
        "template": dumps(body["template"]) if "template" in body else row["template"],
    }
    ctx.db.execute(
        "UPDATE ai_agents SET name = ?, description = ?, icon = ?, triggers = ?, folder_uuid = ?, template = ?,"
        " updated_at = ? WHERE uuid = ?",
        (*values.values(), iso(ctx.clock()), row["uuid"]),
    )
    return {"agent": agent_json(ctx.db, agent_row(ctx.db, ctx.workspace_uuid, row["uuid"]))}


def remove_agent(req: Request) -> dict[str, Any]:
    row = agent_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    req.ctx.db.execute("UPDATE ai_agents SET deleted_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), row["uuid"]))
    return {}


# -- releases ----------------------------------------------------------------------
RELEASES = ReleaseTable(
    "ai_releases", "agent_uuid", "agentUuid", "agent", {"config": dumps(DEFAULT_CONFIG)}, release_json
)


def _draft(db: Database, ws: str, user: str, agent_uuid: Any, stamp: str) -> dict[str, Any]:
    agent_row(db, ws, agent_uuid)
    return RELEASES.draft(db, ws, user, agent_uuid, stamp)


def _merged_config(row: dict[str, Any], body: dict[str, Any]) -> str:
    config: dict[str, Any] = DEFAULT_CONFIG | loads(row["config"], {})
    for field in CONFIG_FIELDS:
        if field in body:
            if field in ARRAYS and not isinstance(body[field], list):
                raise bad_request(f"{field} must be an array")
            config[field] = body[field]
    return dumps(config)


def get_draft(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    with ctx.db.transaction():
        row = _draft(ctx.db, ctx.workspace_uuid, ctx.user_uuid, uuid_ref(req.query, "agentUuid"), iso(ctx.clock()))
    return {"release": release_json(row)}


def update_draft(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        row = _draft(ctx.db, ctx.workspace_uuid, ctx.user_uuid, body.get("agentUuid"), stamp)
        parent = uuid_ref(body, "parentUuid")
        RELEASES.check_parent(conn, parent, row["agent_uuid"])
        conn.execute(
            "UPDATE ai_releases SET config = ?, parent_uuid = ?, updated_at = ? WHERE uuid = ?",
            (_merged_config(row, body), parent or row["parent_uuid"], stamp, row["uuid"]),
        )
    return RELEASES.response(ctx.db, ctx.workspace_uuid, row["uuid"])


def deploy_draft(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    missing = [f for f in (*ARRAYS, "integrationSlug", "languageModelSlug") if f not in body]
    if missing:
        raise bad_request(f"Missing required fields: {', '.join(missing)}")
    version = requested_version(body)
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        draft = _draft(ctx.db, ctx.workspace_uuid, ctx.user_uuid, body.get("agentUuid"), stamp)
        RELEASES.deploy(
            conn, draft, version, stamp, config=_merged_config(draft, body), description=text(body, "description")
        )
    return RELEASES.response(ctx.db, ctx.workspace_uuid, draft["uuid"])


def get_deployed(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    agent = agent_row(ctx.db, ctx.workspace_uuid, uuid_ref(req.query, "agentUuid"))
    row = RELEASES.deployed(ctx.db, ctx.workspace_uuid, agent["uuid"])
    if row is None:
        raise ApiError(404, "This agent has no deployed release (ai release deploy-draft)", "releaseNotFound")
    return {"release": release_json(row)}


# -- templates ---------------------------------------------------------------------
def list_templates(req: Request) -> dict[str, Any]:
    kinds = strings(req.body(), "kinds")
    return {"templates": [t for t in TEMPLATES if not kinds or t["kind"] in kinds]}


def get_template(req: Request) -> dict[str, Any]:
    for template in TEMPLATES:
        if template["slug"] == req.path_params["slug"]:
            return {"template": dict(template)}
    raise ApiError(404, "Template not found", "templateNotFound")


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/ai/agents/list")(list_agents)
    r("POST", "/v1/ai/agents")(create_agent)
    r("GET", "/v1/ai/agents/{uuid}")(get_agent)
    r("PUT", "/v1/ai/agents/{uuid}")(update_agent)
    r("DELETE", "/v1/ai/agents/{uuid}")(remove_agent)
    r("GET", "/v1/ai/releases/list")(RELEASES.list)
    r("GET", "/v1/ai/releases/draft")(get_draft)
    r("GET", "/v1/ai/releases/deployed")(get_deployed)
    r("PUT", "/v1/ai/releases/draft/update")(update_draft)
    r("POST", "/v1/ai/releases/draft/deploy")(deploy_draft)
    r("GET", "/v1/ai/releases/{uuid}")(RELEASES.get)
    r("POST", "/v1/ai/templates/list")(list_templates)
    r("GET", "/v1/ai/templates/{slug}")(get_template)
    ai_chat.register(router)
    ai_content.register(router)


# -- seed --------------------------------------------------------------------------
def seed_ai(db: Database, workspace_uuid: str, rng: random.Random) -> None:
    """Two agents (one deployed), a finished chat, an MCP server, a file and memories."""
    ws = workspace_uuid
    created = str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,)))
    now = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() + 90 * 86400
    stamp = iso(now - 10 * 86400)
    user = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'") or None
    folder = db.scalar("SELECT uuid FROM folders WHERE workspace_uuid = ? AND kind = 'agent'", (ws,))
    with db.transaction():
        agents = []
        for name, color, face, description in (
            ("Lead researcher", "blue", "🔎", "Researches accounts before outreach."),
            ("Email drafter", "purple", "✉️", "Drafts first-touch emails (not deployed yet)."),
        ):
            uuid = new_uuid(rng)
            agents.append(uuid)
            db.execute(
                "INSERT INTO ai_agents (uuid, workspace_uuid, user_uuid, name, description, icon, folder_uuid,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (uuid, ws, user, name, description, dumps({"color": color, "face": face}), folder, stamp, stamp),
            )
        config = DEFAULT_CONFIG | {"systemPrompt": TEMPLATES[0]["systemPrompt"], "capabilities": [
            {"slug": "memory", "config": {}}]}  # fmt: skip
        db.execute(
            "INSERT INTO ai_releases (uuid, workspace_uuid, agent_uuid, user_uuid, version, status, template_slug,"
            " config, deployed_at, created_at, updated_at) VALUES (?,?,?,?,'1.0.0','deployed',?,?,?,?,?)",
            (new_uuid(rng), ws, agents[0], user, "lead-researcher", dumps(config), stamp, stamp, stamp),
        )
        ai_chat.seed_chat(db, ws, user, agents[0], now - 2 * 86400, rng)
        ai_content.seed_content(db, ws, user, agents[0], stamp, rng)
