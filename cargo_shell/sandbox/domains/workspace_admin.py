"""Workspace administration: token edits, per-user permissions, reports and assistant sessions.

Reports (a title and a description filed by a user) and sessions (an assistant session's title
and summary, upserted by its ``sessionId``) are stored as the client returns them; the client has
no call to list or read them back, so the sandbox keeps them for the record only.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.domains.workspace import check_permissions, member_row, require_admin, token_json
from cargo_shell.sandbox.domains.workspace_permissions import ACTIONS, EFFECTS
from cargo_shell.sandbox.fields import optional, strings, text
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, live_row, new_uuid, parse_iso, require

EMPTY = JsonResponse({})


@register_migration("305_reports_sessions")
def _tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE reports (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL,"
        " title TEXT NOT NULL, description TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE sessions (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL,"
        " session_id TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, finished_at TEXT,"
        " created_at TEXT NOT NULL, UNIQUE (workspace_uuid, user_uuid, session_id))"
    )


# -- tokens ------------------------------------------------------------------------------
def update_token(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = live_row(db, "tokens", ws, req.path_params["uuid"], "Token", "tokenNotFound")
    name = optional(body, "name", str, row["name"])
    if not name:
        raise bad_request("name must be a non-empty string", "invalidField")
    description = optional(body, "description", str) if "description" in body else row["description"]
    permissions = check_permissions(body["permissions"]) if "permissions" in body else loads(row["permissions"])
    db.execute(
        "UPDATE tokens SET name = ?, description = ?, permissions = ? WHERE uuid = ?",
        (name, description, None if permissions is None else dumps(permissions), row["uuid"]),
    )
    return {"token": token_json(live_row(db, "tokens", ws, row["uuid"], "Token", "tokenNotFound"))}


# -- per-user permissions ------------------------------------------------------------------
def _targets(db: Database, ws: str, body: dict[str, Any], now: str) -> list[str]:
    """The users named by ``userUuids`` (members) and ``emails`` (members, or invited with the
    workspace's default role)."""
    uuids, emails = strings(body, "userUuids"), strings(body, "emails")
    if not uuids and not emails:
        raise bad_request("Name the users: userUuids or emails (or both)", "missingField")
    targets = [member_row(db, ws, uuid)["uuid"] for uuid in uuids or []]
    for raw in emails or []:
        email = raw.strip().lower()
        if "@" not in email or " " in email:
            raise ApiError(400, f"Invalid email {raw!r}", "failedToCreateUsers")
        user = db.scalar("SELECT uuid FROM users WHERE email = ?", (email,))
        if user is None:
            user = new_uuid()
            db.execute(
                "INSERT INTO users VALUES (?, ?, NULL, NULL, ?, ?, ?)",
                (user, email, dumps({"invitedAt": now}), now, now),
            )
        if not db.scalar("SELECT 1 FROM memberships WHERE workspace_uuid = ? AND user_uuid = ?", (ws, user)):
            data = loads(db.scalar("SELECT data FROM workspaces WHERE uuid = ?", (ws,)), {})
            db.execute(
                "INSERT INTO memberships VALUES (?, ?, ?, ?, ?)", (ws, user, data.get("defaultRoleUuid"), now, now)
            )
        targets.append(str(user))
    return list(dict.fromkeys(targets))


def upsert_permission(req: Request) -> JsonResponse:
    require_admin(req)
    db, ws, body, now = req.ctx.db, req.ctx.workspace_uuid, req.body(), iso(req.ctx.clock())
    action, effect, resource = require(body, "action"), require(body, "effect"), require(body, "resourceUuid")
    if action not in ACTIONS:
        raise bad_request(f"Unknown action {action!r} (actions look like ai:agent:read or storage:*)", "invalidField")
    if effect not in EFFECTS:
        raise bad_request("effect takes allow or deny", "invalidField")
    with db.transaction():
        for user in _targets(db, ws, body, now):
            row = db.one(
                "SELECT actions FROM user_permissions WHERE workspace_uuid = ? AND user_uuid = ? AND effect = ?"
                " AND resource_uuid = ?",
                (ws, user, effect, resource),
            )
            actions = sorted({*(loads(row["actions"]) if row else []), action})
            db.execute(
                "INSERT INTO user_permissions VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                " actions = excluded.actions, updated_at = excluded.updated_at",
                (ws, user, effect, resource, dumps(actions), now, now),
            )
    return EMPTY


def remove_permission(req: Request) -> JsonResponse:
    require_admin(req)
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    user = member_row(db, ws, req.path_params["userUuid"])["uuid"]
    effect, resource = require(body, "effect"), require(body, "resourceUuid")
    if effect not in EFFECTS:
        raise bad_request("effect takes allow or deny", "invalidField")
    gone = db.execute(
        "DELETE FROM user_permissions WHERE workspace_uuid = ? AND user_uuid = ? AND effect = ? AND resource_uuid = ?",
        (ws, user, effect, resource),
    ).rowcount
    if not gone:
        raise ApiError(404, f"This user has no {effect} permission on {resource}", "permissionNotFound")
    return EMPTY


# -- reports and sessions ------------------------------------------------------------------
def create_report(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    uuid, now = new_uuid(), iso(req.ctx.clock())
    title, description = require(body, "title"), require(body, "description")
    db.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?)", (uuid, ws, req.ctx.user_uuid, title, description, now))
    return {
        "report": {
            "uuid": uuid,
            "workspaceUuid": ws,
            "userUuid": req.ctx.user_uuid,
            "title": title,
            "description": description,
            "createdAt": now,
        }
    }


def session_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"],
        "sessionId": row["session_id"],
        "title": row["title"],
        "summary": row["summary"],
        "finishedAt": row["finished_at"],
        "createdAt": row["created_at"],
    }


def upsert_session(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    session_id, title, summary = require(body, "sessionId"), require(body, "title"), require(body, "summary")
    finished = text(body, "finishedAt")
    finished_at = None if finished is None else iso(parse_iso(finished))
    key = (ws, req.ctx.user_uuid, session_id)
    db.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_uuid, user_uuid, session_id)"
        " DO UPDATE SET title = excluded.title, summary = excluded.summary, finished_at = excluded.finished_at",
        (new_uuid(), *key, title, summary, finished_at, iso(req.ctx.clock())),
    )
    row = db.one("SELECT * FROM sessions WHERE workspace_uuid = ? AND user_uuid = ? AND session_id = ?", key)
    assert row is not None
    return {"session": session_json(row)}


def seed_workspace_admin(db: Database, ws: str, rng: random.Random) -> None:
    """A finished assistant session of the admin."""
    user = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'")
    created = parse_iso(str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,))))
    stamp = iso(created + 88 * 86400)
    db.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (new_uuid(rng), ws, user, "sandbox-onboarding", "Sandbox tour", "Listed models and segments, ran a query.",
         stamp, stamp),
    )  # fmt: skip


def register(router: Router) -> None:
    r = router.route
    base = "/v1/workspaceManagement"
    r("PATCH", f"{base}/tokens/{{uuid}}")(update_token)
    r("POST", f"{base}/users/permissions")(upsert_permission)
    r("DELETE", f"{base}/users/{{userUuid}}/permissions")(remove_permission)
    r("POST", f"{base}/reports")(create_report)
    r("POST", f"{base}/sessions")(upsert_session)
