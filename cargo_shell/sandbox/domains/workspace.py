"""Workspace domain: current user/workspace, users, roles, tokens, workspace files (folders: ``workspace_folders``)."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from cargo_shell.sandbox import fields
from cargo_shell.sandbox.app import hash_token
from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains import workspace_folders
from cargo_shell.sandbox.domains.workspace_permissions import ACTIONS, EFFECTS, user_permissions
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request, not_found
from cargo_shell.sandbox.util import iso, live_row, live_rows, new_uuid, require

TOKEN_PREFIX = "cai_sandbox_"
#: ``Token.token`` in lists: the client requires the key, the sandbox never shows a secret twice.
MASKED_TOKEN = TOKEN_PREFIX + "********"
MAX_UPLOAD = 50 * 1024 * 1024
EMPTY = JsonResponse({})


def require_admin(req: Request) -> None:
    if not req.ctx.is_admin:
        raise ApiError(403, "Only workspace admins can manage users", "forbidden")


def _role(db: Database, ws: str, role_uuid: str | None) -> dict[str, Any] | None:
    row = db.one("SELECT * FROM roles WHERE uuid = ? AND workspace_uuid = ?", (role_uuid, ws))
    if row is None:
        return None
    return {
        "uuid": row["uuid"],
        "workspaceUuid": ws,
        "slug": row["slug"],
        "permissions": loads(row["permissions"]),
        "createdAt": row["created_at"],
    }


def user_json(db: Database, ws: str, row: dict[str, Any], role_uuid: str | None) -> dict[str, Any]:
    data, role = loads(row["data"], {}), _role(db, ws, role_uuid)
    permissions = (role["permissions"] if role else []) + user_permissions(db, ws, row["uuid"])
    return {
        "uuid": row["uuid"],
        "email": row["email"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "picture": data.get("picture"),
        "lastSignInAt": data.get("lastSignInAt"),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "webExtensionData": data.get("webExtensionData"),
        "workspaceUuid": ws,
        "permissions": permissions,
        "role": role,
    }


def member_row(db: Database, ws: str, user_uuid: Any) -> dict[str, Any]:
    row = db.one(
        "SELECT u.*, m.role_uuid FROM users u JOIN memberships m ON m.user_uuid = u.uuid"
        " WHERE m.workspace_uuid = ? AND u.uuid = ?",
        (ws, user_uuid),
    )
    if row is None:
        raise not_found("User", "userNotFound")
    return row


def workspace_json(db: Database, ws: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM workspaces WHERE uuid = ?", (ws,))
    if row is None:
        raise not_found("Workspace", "workspaceNotFound")
    data = loads(row["data"], {})
    defaults: dict[str, Any] = {
        "syncs": [],
        "temporalNamespace": "sandbox",
        "temporalTaskQueuePrefix": None,
        "openAiVectorStoreId": None,
        "chromeExtensionMasterAgentUuid": None,
        "chromeExtensionAvailableAgentUuids": None,
    }
    return {
        "uuid": row["uuid"],
        "name": row["name"],
        **defaults,
        **data,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


# -- current -------------------------------------------------------------------------
def current_user(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = member_row(db, ws, req.ctx.user_uuid)
    return {"user": user_json(db, ws, row, row["role_uuid"])}


def current_workspace(req: Request) -> dict[str, Any]:
    return {"workspace": workspace_json(req.ctx.db, req.ctx.workspace_uuid)}


# -- users ---------------------------------------------------------------------------
def list_users(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    rows = db.all(
        "SELECT u.*, m.role_uuid FROM users u JOIN memberships m ON m.user_uuid = u.uuid"
        " WHERE m.workspace_uuid = ? ORDER BY m.created_at, u.email",
        (ws,),
    )
    return {"users": [user_json(db, ws, r, r["role_uuid"]) for r in rows]}


def _role_uuid(db: Database, ws: str, slug: Any) -> str:
    uuid = db.scalar("SELECT uuid FROM roles WHERE workspace_uuid = ? AND slug = ?", (ws, slug))
    if uuid is None:
        slugs = [r["slug"] for r in db.all("SELECT slug FROM roles WHERE workspace_uuid = ?", (ws,))]
        raise ApiError(400, f"Unknown role {slug!r}; roles: {', '.join(slugs)}", "roleNotFound")
    return str(uuid)


def _admins(db: Database, ws: str) -> int:
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM memberships m JOIN roles r ON r.uuid = m.role_uuid"
            " WHERE m.workspace_uuid = ? AND r.slug = 'admin'",
            (ws,),
        )
    )


def create_user(req: Request) -> JsonResponse:
    require_admin(req)
    db, ws, body, now = req.ctx.db, req.ctx.workspace_uuid, req.body(), iso(req.ctx.clock())
    email = require(body, "userEmail").strip().lower()
    if "@" not in email or " " in email:
        raise ApiError(400, f"Invalid email {email!r}", "invalidUserEmail")
    role = _role_uuid(db, ws, require(body, "roleSlug"))
    with db.transaction():
        user = db.scalar("SELECT uuid FROM users WHERE email = ?", (email,))
        if user is None:
            user = new_uuid()
            db.execute(
                "INSERT INTO users VALUES (?, ?, NULL, NULL, ?, ?, ?)",
                (user, email, dumps({"invitedAt": now}), now, now),
            )
        if db.scalar("SELECT 1 FROM memberships WHERE workspace_uuid = ? AND user_uuid = ?", (ws, user)):
            raise ApiError(400, f"{email} is already a member of this workspace", "userAlreadyInWorkspace")
        db.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?)", (ws, user, role, now, now))
    return EMPTY


def update_user(req: Request) -> JsonResponse:
    require_admin(req)
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    member = member_row(db, ws, req.path_params["userUuid"])
    role = _role_uuid(db, ws, require(body, "roleSlug"))
    current = _role(db, ws, member["role_uuid"])
    if current and current["slug"] == "admin" and body["roleSlug"] != "admin" and _admins(db, ws) <= 1:
        raise ApiError(400, "This is the last admin of the workspace; promote someone else first", "lastAdmin")
    db.execute(
        "UPDATE memberships SET role_uuid = ?, updated_at = ? WHERE workspace_uuid = ? AND user_uuid = ?",
        (role, iso(req.ctx.clock()), ws, member["uuid"]),
    )
    return EMPTY


def remove_user(req: Request) -> JsonResponse:
    require_admin(req)
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    member = member_row(db, ws, require(body, "userUuid"))
    role = _role(db, ws, member["role_uuid"])
    if role and role["slug"] == "admin" and _admins(db, ws) <= 1:
        raise ApiError(400, "This is the last admin of the workspace; promote someone else first", "lastAdmin")
    db.execute("DELETE FROM memberships WHERE workspace_uuid = ? AND user_uuid = ?", (ws, member["uuid"]))
    return EMPTY


def list_roles(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    rows = db.all("SELECT uuid FROM roles WHERE workspace_uuid = ? ORDER BY created_at, slug", (ws,))
    return {"roles": [_role(db, ws, r["uuid"]) for r in rows]}


# -- tokens --------------------------------------------------------------------------
def token_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "token": MASKED_TOKEN,  # only its hash is kept: the secret is answered once, by create
        "name": row["name"],
        "description": row["description"],
        "permissions": loads(row["permissions"]),
        "workspaceUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"],
        "createdAt": row["created_at"],
        "deletedAt": row["deleted_at"],
    }


def list_tokens(req: Request) -> dict[str, Any]:
    return {"tokens": [token_json(r) for r in live_rows(req.ctx.db, "tokens", req.ctx.workspace_uuid)]}


def check_permissions(value: Any) -> list[dict[str, Any]] | None:
    """A token's permissions as stored: null, or ``{effect, actions, resources}`` entries whose actions
    are the platform's (``resources`` null when not given); 400 saying what is wrong."""
    if value is None:
        return None
    shape = "permissions must be null or a list of {effect: allow|deny, actions: [...], resources: null|[...]}"
    if not isinstance(value, list):
        raise bad_request(shape)
    out = []
    for i, entry in enumerate(value):
        if (
            not isinstance(entry, dict)
            or entry.get("effect") not in EFFECTS
            or not isinstance(entry.get("actions"), list)
        ):
            raise bad_request(shape)
        unknown = [a for a in entry["actions"] if a not in ACTIONS]
        if unknown:
            raise bad_request(f"permissions[{i}].actions: unknown action {unknown[0]!r} (e.g. storage:read)")
        resources = entry.get("resources")
        if resources is not None and not (isinstance(resources, list) and all(isinstance(r, str) for r in resources)):
            raise bad_request(f"permissions[{i}].resources must be null or a list of uuids")
        out.append({"effect": entry["effect"], "actions": list(entry["actions"]), "resources": resources})
    return out


def create_token(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    name = require(body, "name")
    permissions = check_permissions(body.get("permissions"))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    uuid, now = new_uuid(), iso(req.ctx.clock())
    db.execute(
        "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (
            uuid,
            ws,
            req.ctx.user_uuid,
            name,
            fields.text(body, "description"),
            hash_token(secret),
            dumps(permissions) if permissions is not None else None,
            now,
        ),
    )
    row = db.one("SELECT * FROM tokens WHERE uuid = ?", (uuid,))
    assert row is not None
    return {"token": {**token_json(row), "token": secret}}


def remove_token(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = live_row(db, "tokens", ws, req.path_params["uuid"], "Token", "tokenNotFound")
    db.execute("UPDATE tokens SET deleted_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), row["uuid"]))
    return EMPTY


# -- files ---------------------------------------------------------------------------
def upload_file(req: Request) -> dict[str, Any]:
    part = req.files.get("file")
    if part is None:
        raise ApiError(400, "No file part named 'file' in the multipart body", "noFile")
    filename, content, content_type = part
    if len(content) > MAX_UPLOAD:
        raise ApiError(
            413,
            "Files of 50 MiB or more use the multipart S3 upload, which the sandbox does not offer",
            "unavailableInSandbox",
        )
    s3_filename = f"uploads/{req.ctx.workspace_uuid}/{new_uuid()}/{filename}"
    content_type = content_type or "application/octet-stream"
    req.ctx.db.execute(
        "INSERT INTO workspace_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_uuid(),
            req.ctx.workspace_uuid,
            s3_filename,
            filename,
            content_type,
            len(content),
            content,
            iso(req.ctx.clock()),
        ),
    )
    return {"s3Filename": s3_filename, "contentType": content_type, "name": filename}


def list_file_columns(req: Request) -> dict[str, Any]:
    name = fields.text(req.query, "s3Filename")
    row = req.ctx.db.one(
        "SELECT content FROM workspace_files WHERE s3_filename = ? AND workspace_uuid = ?",
        (name, req.ctx.workspace_uuid),
    )
    if row is None:
        raise not_found("File", "fileNotFound")
    text = bytes(row["content"]).decode("utf-8-sig", "replace")
    header = next(csv.reader(io.StringIO(text)), [])
    columns = [{"name": h.strip(), "type": "string"} for h in header if h.strip()]
    if not columns:
        raise ApiError(400, "No columns found: the file has no CSV header row", "noColumnsFound")
    return {"columns": columns}


def register(router: Router) -> None:
    r = router.route
    base = "/v1/workspaceManagement"
    r("GET", "/v1/userManagement/users/current")(current_user)
    r("GET", f"{base}/workspaces/current")(current_workspace)
    r("GET", f"{base}/users/current")(current_user)
    r("GET", f"{base}/users/list")(list_users)
    r("POST", f"{base}/users")(create_user)
    r("PUT", f"{base}/users/{{userUuid}}")(update_user)
    r("DELETE", f"{base}/users")(remove_user)
    r("GET", f"{base}/roles/list")(list_roles)
    r("GET", f"{base}/tokens/list")(list_tokens)
    r("POST", f"{base}/tokens")(create_token)
    r("DELETE", f"{base}/tokens/{{uuid}}")(remove_token)
    r("POST", f"{base}/files/upload")(upload_file)
    r("GET", f"{base}/files/listColumns")(list_file_columns)
    workspace_folders.register(router)
