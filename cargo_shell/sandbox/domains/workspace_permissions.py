"""Permissions given to one user on one resource, on top of the permissions of the user's role.

Each row is a user, an effect (allow or deny), a resource uuid and the actions given; a user's
``permissions`` are the role's followed by these, as ``{effect, actions, resources: [uuid]}``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, loads, register_migration
from cargo_shell.sandbox.seed import DOMAINS

#: Every action a permission can name: a domain, or a resource kind of a domain, with ``*``, read or write.
RESOURCE_KINDS = (
    "ai:agent", "ai:mcpServer", "content:file", "hosting:app", "hosting:worker", "orchestration:workflow",
    "workspaceManagement:folder",
)  # fmt: skip
ACTIONS = tuple(sorted(f"{scope}:{verb}" for scope in (*DOMAINS, *RESOURCE_KINDS) for verb in ("*", "read", "write")))
EFFECTS = ("allow", "deny")


@register_migration("304_user_permissions")
def _table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE user_permissions (workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL, effect TEXT NOT NULL,"
        " resource_uuid TEXT NOT NULL, actions TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " PRIMARY KEY (workspace_uuid, user_uuid, effect, resource_uuid))"
    )


def user_permissions(db: Database, ws: str, user_uuid: str) -> list[dict[str, Any]]:
    rows = db.all(
        "SELECT effect, resource_uuid, actions FROM user_permissions WHERE workspace_uuid = ? AND user_uuid = ?"
        " ORDER BY created_at, resource_uuid, effect",
        (ws, user_uuid),
    )
    return [{"effect": r["effect"], "actions": loads(r["actions"]), "resources": [r["resource_uuid"]]} for r in rows]
