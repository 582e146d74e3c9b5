"""Hosting: apps and workers (the slots that deployments fill), stored and served for real.

Deployments, environment variables and custom domains are in ``hosting_deployments``,
``hosting_env`` and ``hosting_domains``. Nothing is actually served: addresses end in
``.sandbox.invalid`` (a name reserved never to resolve), and the sandbox has no build farm, so
``deployment create`` is refused while the seeded deployments can be listed, promoted and read.
"""

from __future__ import annotations

import re
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains import hosting_deployments, hosting_domains, hosting_env
from cargo_shell.sandbox.domains.hosting_common import SLOTS, address, slot_row
from cargo_shell.sandbox.fields import objects, optional, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, live_row, new_uuid, require

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
CRON_FIELD_RE = re.compile(r"^[0-9A-Za-z*/,?#-]+$")
TRIGGER_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# -- apps and workers ------------------------------------------------------------------------
def slot_json(db: Database, kind: str, row: dict[str, Any]) -> dict[str, Any]:
    promoted = None
    if row["promoted_deployment_uuid"]:
        deployment = db.one("SELECT * FROM hosting_deployments WHERE uuid = ?", (row["promoted_deployment_uuid"],))
        promoted = hosting_deployments.deployment_json(db, deployment) if deployment else None
    out: dict[str, Any] = {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "name": row["name"],
        "description": row["description"],
        "slug": row["slug"],
        "url": address(kind, row["slug"]),
        "userUuid": row["user_uuid"],
        "folderUuid": row["folder_uuid"],
        "promotedDeployment": promoted,
    }
    if kind == "worker":
        out["triggers"] = loads(row["triggers"], [])
    out.update(
        chargedUntil=row["charged_until"],
        createdAt=row["created_at"],
        updatedAt=row["updated_at"],
        deletedAt=row["deleted_at"],
    )
    return out


def _folder(db: Database, ws: str, kind: str, body: dict[str, Any]) -> str | None:
    folder = uuid_ref(body, "folderUuid")
    if folder is not None and live_row(db, "folders", ws, folder, "Folder", "folderNotFound")["kind"] != kind:
        raise bad_request(f"The folder does not hold {kind}s: use a folder of kind {kind}", "folderNotCompatible")
    return folder


def _triggers(db: Database, worker: str, value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(objects({"triggers": value}, "triggers") or []):

        def bad(problem: str, at: int = i) -> ApiError:
            return bad_request(f"triggers[{at}]: {problem}", "invalidTrigger")

        if raw.get("type") != "cron":
            raise bad('type must be "cron"')
        name, cron, path = text(raw, "name"), text(raw, "cron"), text(raw, "path")
        if not name or any(t["name"] == name for t in out):
            raise bad("each trigger needs its own name")
        fields = (cron or "").split()
        if len(fields) != 5 or not all(CRON_FIELD_RE.match(f) for f in fields):
            raise bad("cron is five fields: minute hour day-of-month month day-of-week (e.g. 0 3 * * *)")
        if not path or not path.startswith("/"):
            raise bad("path is the worker's own path, starting with /")
        if raw.get("method") not in TRIGGER_METHODS:
            raise bad(f"method is one of {', '.join(TRIGGER_METHODS)}")
        trigger: dict[str, Any] = {"type": "cron", "name": name}
        description = text(raw, "description")
        if description is not None:
            trigger["description"] = description
        trigger.update(cron=" ".join(fields), path=path, method=raw["method"])
        data = optional(raw, "data", dict)
        if data is not None:
            trigger["data"] = data
        headers = optional(raw, "headers", dict)
        if headers is not None:
            if not all(isinstance(v, str) for v in headers.values()):
                raise bad("headers map names to string values")
            trigger["headers"] = headers
        trigger["temporalScheduleWorkflowId"] = f"hosting-worker-{worker}-trigger-{name}"
        out.append(trigger)
    return out


def _list(kind: str) -> Any:
    def handler(req: Request) -> dict[str, Any]:
        db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
        table = SLOTS[kind][0]
        sql, params = f"SELECT * FROM {table} WHERE workspace_uuid = ? AND deleted_at IS NULL", [ws]
        folder = uuid_ref(body, "folderUuid")
        if folder is not None:
            sql += " AND folder_uuid = ?"
            params.append(folder)
        rows = db.all(sql + " ORDER BY created_at, name", params)
        return {f"{kind}s": [slot_json(db, kind, r) for r in rows]}

    return handler


def _get(kind: str) -> Any:
    def handler(req: Request) -> dict[str, Any]:
        db, ws = req.ctx.db, req.ctx.workspace_uuid
        return {kind: slot_json(db, kind, slot_row(db, ws, kind, req.path_params["uuid"]))}

    return handler


def _create(kind: str) -> Any:
    def handler(req: Request) -> dict[str, Any]:
        db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
        table = SLOTS[kind][0]
        name, slug = require(body, "name"), require(body, "slug")
        if not SLUG_RE.match(slug):
            raise bad_request(
                "slug is 3 to 63 lowercase letters, digits and hyphens (not at either end)", "invalidSlug"
            )
        if db.scalar(f"SELECT 1 FROM {table} WHERE slug = ? AND deleted_at IS NULL", (slug,)):
            raise ApiError(400, f"The {kind} slug {slug!r} is already taken", "duplicateSlug")
        folder = _folder(db, ws, kind, body)
        uuid, now = new_uuid(), iso(req.ctx.clock())
        columns = "uuid, workspace_uuid, name, slug, description, folder_uuid, user_uuid, charged_until, created_at"
        values: list[Any] = [uuid, ws, name, slug, text(body, "description"), folder, req.ctx.user_uuid, now, now]
        if kind == "worker":
            columns += ", triggers"
            values.append(dumps(_triggers(db, uuid, body.get("triggers"))))
        db.execute(
            f"INSERT INTO {table} ({columns}, updated_at) VALUES ({', '.join('?' for _ in values)}, ?)", [*values, now]
        )
        return {kind: slot_json(db, kind, slot_row(db, ws, kind, uuid))}

    return handler


def _update(kind: str) -> Any:
    def handler(req: Request) -> dict[str, Any]:
        db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
        row = slot_row(db, ws, kind, req.path_params["uuid"])
        name = text(body, "name")
        if name == "":
            raise bad_request("name cannot be empty", "invalidField")
        changes: dict[str, Any] = {"name": name or row["name"]}
        if "description" in body:
            changes["description"] = text(body, "description")
        if "folderUuid" in body:
            changes["folder_uuid"] = _folder(db, ws, kind, body)
        if kind == "worker" and "triggers" in body:
            changes["triggers"] = dumps(_triggers(db, row["uuid"], body["triggers"]))
        changes["updated_at"] = iso(req.ctx.clock())
        sets = ", ".join(f"{column} = ?" for column in changes)
        db.execute(f"UPDATE {SLOTS[kind][0]} SET {sets} WHERE uuid = ?", [*changes.values(), row["uuid"]])
        return {kind: slot_json(db, kind, slot_row(db, ws, kind, row["uuid"]))}

    return handler


def _remove(kind: str) -> Any:
    def handler(req: Request) -> JsonResponse:
        db, ws = req.ctx.db, req.ctx.workspace_uuid
        row = slot_row(db, ws, kind, req.path_params["uuid"])
        now = iso(req.ctx.clock())
        with db.transaction():
            db.execute(
                f"UPDATE {SLOTS[kind][0]} SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"])
            )
            db.execute(
                "UPDATE hosting_env_vars SET deleted_at = ?, updated_at = ? WHERE owner_uuid = ?"
                " AND deleted_at IS NULL",
                (now, now, row["uuid"]),
            )
            db.execute("DELETE FROM hosting_custom_domains WHERE owner_uuid = ?", (row["uuid"],))
        return JsonResponse({})

    return handler


def register(router: Router) -> None:
    r = router.route
    for kind in SLOTS:
        base = f"/v1/hosting/{kind}s"
        r("POST", f"{base}/list")(_list(kind))
        r("GET", f"{base}/{{uuid}}")(_get(kind))
        r("POST", base)(_create(kind))
        r("PUT", f"{base}/{{uuid}}")(_update(kind))
        r("DELETE", f"{base}/{{uuid}}")(_remove(kind))
    hosting_deployments.register(router)
    hosting_env.register(router)
    hosting_domains.register(router)
