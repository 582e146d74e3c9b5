"""Workspaces of the user (list, create, edit the current one) and the user's own profile.

A new workspace gets the three roles, its creator as admin and the sandbox's built-in warehouse as
its system of record. Tokens stay bound to the workspace they were made in: the new workspace is
listed, and reached with a token of its own. A logo is kept as a ``data:`` URL. The OpenAI key and a
LinkedIn session cookie are secrets the sandbox has no use for: they are accepted, never stored.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains.workspace import require_admin, workspace_json
from cargo_shell.sandbox.fields import optional, strings, wrong_type
from cargo_shell.sandbox.http import JsonResponse, Request, Router, bad_request
from cargo_shell.sandbox.seed import ROLE_PERMISSIONS
from cargo_shell.sandbox.util import iso, new_uuid, require

LOGIN_PROVIDERS = ("azuread", "email", "google-oauth2", "okta")
SYNC_DOMAINS = ("ai", "connection", "orchestration", "revenueOrganization", "storage", "systemOfRecordIntegration")
METADATA_TEXT = ("dubClickId", "salesRepCount")
METADATA_LISTS = ("gtmStackList", "mainGoal", "referralSource")
MAX_LOGO = 1024 * 1024
_CRON_FIELD = re.compile(r"^[0-9*,/\-A-Za-z?LW#]+$")
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def _logo_url(value: Any) -> str | None:
    """A ``data:`` URL for a base64 image (PNG, JPEG, GIF, WebP or SVG); 400 for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong_type("logoBase64", "a base64 string", value)
    payload = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("logoBase64 is not valid base64", "invalidField") from None
    if len(raw) > MAX_LOGO:
        raise bad_request(f"logoBase64 holds more than {MAX_LOGO // 1024} KiB", "invalidField")
    kind = next((mime for magic, mime in _IMAGES if raw.startswith(magic)), None)
    if kind is None and raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        kind = "image/webp"
    if kind is None and b"<svg" in raw[:1024].lower():
        kind = "image/svg+xml"
    if kind is None:
        raise bad_request("logoBase64 is not a PNG, JPEG, GIF, WebP or SVG image", "invalidField")
    return f"data:{kind};base64,{base64.b64encode(raw).decode('ascii')}"


def _metadata(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise wrong_type("metadata", "an object", value)
    unknown = sorted(set(value) - {*METADATA_TEXT, *METADATA_LISTS})
    if unknown:
        raise bad_request(f"metadata has no field {unknown[0]!r}", "invalidField")
    for key in METADATA_TEXT:
        optional(value, key, str)
    for key in METADATA_LISTS:
        strings(value, key)
    return dict(value)


def _syncs(ws: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise wrong_type("syncs", "a list of {cron, domain}", value)
    out = []
    for i, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or item.get("domain") not in SYNC_DOMAINS
            or not isinstance(item.get("cron"), str)
        ):
            raise bad_request(f"syncs[{i}] is {{cron, domain}} with domain one of {', '.join(SYNC_DOMAINS)}")
        fields = item["cron"].split()
        if len(fields) not in (5, 6) or not all(_CRON_FIELD.match(f) for f in fields):
            raise bad_request(f"syncs[{i}].cron {item['cron']!r} is not a cron expression (5 fields)", "invalidField")
        schedule = f"sync-{ws}-{item['domain']}"
        out.append({"cron": item["cron"], "domain": item["domain"], "temporalScheduleWorkflowId": schedule})
    return out


def _agents(db: Database, ws: str, uuids: list[str]) -> list[str]:
    for uuid in uuids:
        if not db.scalar(
            "SELECT 1 FROM ai_agents WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (uuid, ws)
        ):
            raise bad_request(f"Agent {uuid} is not an agent of this workspace", "agentNotFound")
    return uuids


def list_workspaces(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    rows = db.all(
        "SELECT w.uuid FROM workspaces w JOIN memberships m ON m.workspace_uuid = w.uuid WHERE m.user_uuid = ?"
        " ORDER BY w.created_at, w.name",
        (req.ctx.user_uuid,),
    )
    return {"workspaces": [workspace_json(db, r["uuid"]) for r in rows]}


def create_workspace(req: Request) -> dict[str, Any]:
    db, body, now = req.ctx.db, req.body(), iso(req.ctx.clock())
    name = require(body, "name").strip()
    if not name:
        raise bad_request("name must not be blank", "invalidField")
    ws = new_uuid()
    roles = {slug: new_uuid() for slug in ROLE_PERMISSIONS}
    data = {
        "allowedEmailDomains": [],
        "allowedLoginProviders": ["email"],
        "maxConcurrentRuns": 10,
        "logoUrl": _logo_url(body.get("logoBase64")),
        "metadata": _metadata(body.get("metadata")),
        "defaultRoleUuid": roles["member"],
        "quotaBuckets": {},
        "ssoIdentifier": None,
    }
    warehouse = {"config": {"dialect": "sqlite"}, "isActive": True, "useCredits": False, "lastMigration": None,
                 "cutover": None}  # fmt: skip
    with db.transaction():
        db.execute("INSERT INTO workspaces VALUES (?, ?, ?, ?, ?)", (ws, name, dumps(data), now, now))
        for slug, permissions in ROLE_PERMISSIONS.items():
            db.execute("INSERT INTO roles VALUES (?, ?, ?, ?, ?)", (roles[slug], ws, slug, dumps(permissions), now))
        db.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?)", (ws, req.ctx.user_uuid, roles["admin"], now, now))
        db.execute(
            "INSERT INTO system_of_records (uuid, workspace_uuid, slug, name, kind, data, created_at, updated_at)"
            " VALUES (?, ?, 'sandbox', 'Sandbox warehouse', 'sqlite', ?, ?, ?)",
            (new_uuid(), ws, dumps(warehouse), now, now),
        )
    return {"workspace": workspace_json(db, ws)}


def update_workspace(req: Request) -> dict[str, Any]:
    require_admin(req)
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = db.one("SELECT name, data FROM workspaces WHERE uuid = ?", (ws,))
    assert row is not None  # the token's own workspace
    name, data = row["name"], loads(row["data"], {})
    if "name" in body:
        name = optional(body, "name", str) or ""
        if not name.strip():
            raise bad_request("name must not be blank", "invalidField")
    if "allowedEmailDomains" in body:
        data["allowedEmailDomains"] = strings(body, "allowedEmailDomains") or []
    if "allowedLoginProviders" in body:
        providers = strings(body, "allowedLoginProviders")
        if providers is not None and not set(providers) <= set(LOGIN_PROVIDERS):
            raise bad_request(f"allowedLoginProviders takes {', '.join(LOGIN_PROVIDERS)}", "invalidField")
        data["allowedLoginProviders"] = providers
    if "chromeExtensionAvailableAgentUuids" in body:
        agents = strings(body, "chromeExtensionAvailableAgentUuids")
        data["chromeExtensionAvailableAgentUuids"] = None if agents is None else _agents(db, ws, agents)
    if "chromeExtensionMasterAgentUuid" in body:
        master = optional(body, "chromeExtensionMasterAgentUuid", str)
        data["chromeExtensionMasterAgentUuid"] = None if master is None else _agents(db, ws, [master])[0]
    if "defaultRoleUuid" in body:
        role = optional(body, "defaultRoleUuid", str)
        if role is not None and not db.scalar("SELECT 1 FROM roles WHERE uuid = ? AND workspace_uuid = ?", (role, ws)):
            raise bad_request(f"Role {role} is not a role of this workspace (see workspace role list)", "roleNotFound")
        data["defaultRoleUuid"] = role
    if "logoBase64" in body:
        data["logoUrl"] = _logo_url(body["logoBase64"])
    if "metadata" in body:
        data["metadata"] = _metadata(body["metadata"])
    if "syncs" in body:
        data["syncs"] = _syncs(ws, body["syncs"])
    optional(body, "openAiApiKey", str)  # checked, never stored (module docstring)
    db.execute(
        "UPDATE workspaces SET name = ?, data = ?, updated_at = ? WHERE uuid = ?",
        (name.strip(), dumps(data), iso(req.ctx.clock()), ws),
    )
    return {"workspace": workspace_json(db, ws)}


def _web_extension_data(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"linkedin", "timezone"}:
        raise bad_request("webExtensionData is {linkedin: {li_at}, timezone}", "invalidField")
    out: dict[str, Any] = {}
    timezone = optional(value, "timezone", str)
    if timezone is not None:
        out["timezone"] = timezone
    linkedin = optional(value, "linkedin", dict)
    if linkedin is not None:
        cookie = optional(linkedin, "li_at", str)
        out["linkedin"] = {} if cookie is None else {"li_at": "********"}  # a session cookie: never stored
    return out


def update_current_user(req: Request) -> JsonResponse:
    db, body = req.ctx.db, req.body()
    row = db.one("SELECT * FROM users WHERE uuid = ?", (req.ctx.user_uuid,))
    assert row is not None  # the token's own user
    first = optional(body, "firstName", str, row["first_name"])
    last = optional(body, "lastName", str, row["last_name"])
    data = loads(row["data"], {})
    if "webExtensionData" in body:
        data["webExtensionData"] = _web_extension_data(body["webExtensionData"])
    db.execute(
        "UPDATE users SET first_name = ?, last_name = ?, data = ?, updated_at = ? WHERE uuid = ?",
        (first, last, dumps(data), iso(req.ctx.clock()), row["uuid"]),
    )
    return JsonResponse({})


def register(router: Router) -> None:
    r = router.route
    base = "/v1/workspaceManagement/workspaces"
    r("GET", f"{base}/list")(list_workspaces)
    r("POST", base)(create_workspace)
    r("PUT", f"{base}/current")(update_workspace)
    r("PUT", "/v1/userManagement/users/current")(update_current_user)
