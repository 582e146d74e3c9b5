"""Tools (on-demand workflows): get, create, update, remove.

A tool's cron ``triggers`` are stored with the schedule id the platform would give them; the
sandbox keeps them but does not fire them (start runs with ``run create``). A read-only tool
(``isReadOnly``) cannot be changed or removed (``toolIsReadOnly``).
"""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import dumps, loads
from cargo_shell.sandbox.domains.orchestration_owners import (
    create_workflow,
    remove_workflow,
    require_workflow,
    update_workflow,
)
from cargo_shell.sandbox.domains.orchestration_views import tool_json
from cargo_shell.sandbox.engine.cron import CronError, parse
from cargo_shell.sandbox.fields import objects, optional, strings, text, wrong_type
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import check_folder, iso, live_row, new_uuid, require

CAPTCHA_PROVIDERS = ("hcaptcha", "turnstile")


def tool_row(req: Request) -> dict[str, Any]:
    return live_row(req.ctx.db, "wf_tools", req.ctx.workspace_uuid, req.path_params["uuid"], "Tool", "toolNotFound")


def _icon(body: dict[str, Any]) -> dict[str, Any]:
    icon = optional(body, "icon", dict)
    if icon is None:
        raise bad_request("icon is required: {kind: emoji, emojiSlug} or {kind: raw, data}", "missingField")
    if icon.get("kind") == "emoji" and isinstance(icon.get("emojiSlug"), str) and icon["emojiSlug"]:
        return {"kind": "emoji", "emojiSlug": icon["emojiSlug"]}
    if icon.get("kind") == "raw" and isinstance(icon.get("data"), str) and icon["data"]:
        return {"kind": "raw", "data": icon["data"]}
    raise bad_request("icon must be {kind: emoji, emojiSlug: string} or {kind: raw, data: string}", "invalidField")


def _triggers(body: dict[str, Any], tool_uuid: str) -> list[dict[str, Any]]:
    out = []
    for i, trigger in enumerate(objects(body, "triggers") or []):
        where = f"triggers[{i}]"
        if trigger.get("type") != "cron":
            raise bad_request(f"{where}.type must be cron", "invalidField")
        name, cron = text(trigger, "name"), text(trigger, "cron")
        if not name or not cron:
            raise bad_request(f"{where} needs a name and a cron expression", "missingField")
        try:
            parse(cron)
        except CronError as exc:
            raise bad_request(f"{where}.cron: {exc}", "invalidCron") from None
        data = optional(trigger, "data", dict) or {}
        out.append(
            {"type": "cron", "name": name, "cron": cron, "data": data, "description": text(trigger, "description"),
             "temporalScheduleWorkflowId": f"sandbox-tool-{tool_uuid}-trigger-{i}"}
        )  # fmt: skip
    return out


def _public_form(body: dict[str, Any]) -> dict[str, Any] | None:
    form = optional(body, "publicForm", dict)
    if form is None:
        return None
    origins = strings(form, "allowedOrigins") or []
    spam = optional(form, "spam", dict) or {}
    provider = spam.get("captchaProvider")
    if provider is not None and provider not in CAPTCHA_PROVIDERS:
        raise bad_request(f"publicForm.spam.captchaProvider must be one of {', '.join(CAPTCHA_PROVIDERS)} or null")
    millis = spam.get("minFillMillis", 0)
    if isinstance(millis, bool) or not isinstance(millis, int | float):
        raise wrong_type("publicForm.spam.minFillMillis", "a number", millis)
    presentation = form.get("presentation")
    if presentation is not None and not isinstance(presentation, dict):
        raise wrong_type("publicForm.presentation", "an object or null", presentation)
    return {
        "allowedOrigins": origins,
        "isEnabled": bool(optional(form, "isEnabled", bool, False)),
        "presentation": None if presentation is None else {"theme": presentation.get("theme")},
        "spam": {
            "captchaProvider": provider,
            "captchaSecret": text(spam, "captchaSecret"),
            "captchaSiteKey": text(spam, "captchaSiteKey"),
            "minFillMillis": millis,
        },
    }


def _folder(req: Request, body: dict[str, Any]) -> str | None:
    folder = optional(body, "folderUuid", str)
    check_folder(req.ctx.db, req.ctx.workspace_uuid, folder)
    return folder or None


def get_tool(req: Request) -> dict[str, Any]:
    return {"tool": tool_json(tool_row(req))}


def create_tool(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    name = require(body, "name")
    uuid, stamp = new_uuid(), iso(ctx.clock())
    data = {"icon": _icon(body), "creditsCost": {"kind": "minMax"}, "isReadOnly": False,
            "triggers": _triggers(body, uuid), "publicForm": None}  # fmt: skip
    folder = _folder(req, body)
    with ctx.db.transaction():
        workflow = create_workflow(ctx.db, ctx.workspace_uuid, ctx.user_uuid, "tool", folder, stamp)
        ctx.db.execute(
            "INSERT INTO wf_tools (uuid, workspace_uuid, workflow_uuid, user_uuid, name, description, folder_uuid,"
            " data, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (uuid, ctx.workspace_uuid, workflow, ctx.user_uuid, name, text(body, "description"), folder, dumps(data),
             stamp, stamp),
        )  # fmt: skip
    return get_created(req, uuid)


def get_created(req: Request, uuid: str) -> dict[str, Any]:
    row = req.ctx.db.one("SELECT * FROM wf_tools WHERE uuid = ?", (uuid,))
    assert row is not None
    return {"tool": tool_json(row)}


def _writable(row: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = loads(row["data"], {})
    if data.get("isReadOnly"):
        raise ApiError(400, "This tool is read-only: it cannot be changed or removed", "toolIsReadOnly")
    return data


def update_tool(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = tool_row(req)
    data = _writable(row)
    name = row["name"]
    if "name" in body:
        name = require(body, "name")
    description = text(body, "description") if "description" in body else row["description"]
    folder = _folder(req, body) if "folderUuid" in body else row["folder_uuid"]
    if "icon" in body:
        data["icon"] = _icon(body)
    if "triggers" in body:
        data["triggers"] = _triggers(body, row["uuid"])
    if "publicForm" in body:
        data["publicForm"] = _public_form(body)
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        require_workflow(conn, ctx.workspace_uuid, row["workflow_uuid"])
        update_workflow(conn, row["workflow_uuid"], {**body, "folderUuid": folder}, stamp)
        conn.execute(
            "UPDATE wf_tools SET name = ?, description = ?, folder_uuid = ?, data = ?, updated_at = ? WHERE uuid = ?",
            (name, description, folder, dumps(data), stamp, row["uuid"]),
        )
    return get_created(req, row["uuid"])


def remove_tool(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    row = tool_row(req)
    _writable(row)
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        conn.execute("UPDATE wf_tools SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (stamp, stamp, row["uuid"]))
        remove_workflow(conn, row["workflow_uuid"], stamp)
    return {}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/orchestration/tools")(create_tool)
    r("GET", "/v1/orchestration/tools/{uuid}")(get_tool)
    r("PUT", "/v1/orchestration/tools/{uuid}")(update_tool)
    r("DELETE", "/v1/orchestration/tools/{uuid}")(remove_tool)
