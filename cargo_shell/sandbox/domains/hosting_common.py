"""What the hosting modules share: the tables, the two kinds of slot (apps and workers) and their owners.

Deployments, environment variables and custom domains each belong to one app or one worker:
``kind`` says which, ``owner_uuid`` which one.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, register_migration
from cargo_shell.sandbox.fields import uuid_ref
from cargo_shell.sandbox.http import bad_request
from cargo_shell.sandbox.util import live_row

#: kind -> (table, noun, reason when missing)
SLOTS = {"app": ("hosting_apps", "App", "appNotFound"), "worker": ("hosting_workers", "Worker", "workerNotFound")}


@register_migration("450_hosting_tables")
def _m450(conn: sqlite3.Connection) -> None:
    for table, extra in (("hosting_apps", ""), ("hosting_workers", ", triggers TEXT NOT NULL")):
        conn.execute(
            f"CREATE TABLE {table} (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, name TEXT NOT NULL,"
            " slug TEXT NOT NULL, description TEXT, folder_uuid TEXT, user_uuid TEXT NOT NULL,"
            f" promoted_deployment_uuid TEXT, charged_until TEXT NOT NULL{extra}, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, deleted_at TEXT)"
        )
    conn.execute(
        "CREATE TABLE hosting_deployments (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, kind TEXT NOT NULL,"
        " owner_uuid TEXT NOT NULL, status TEXT NOT NULL, error_message TEXT, build_log TEXT,"
        " source_files TEXT NOT NULL, meta TEXT NOT NULL, user_uuid TEXT NOT NULL, promoted_at TEXT,"
        " promoted_by_user_uuid TEXT, finished_at TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX hosting_deployments_by_owner ON hosting_deployments (workspace_uuid, owner_uuid)")
    conn.execute(
        "CREATE TABLE hosting_env_vars (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, kind TEXT NOT NULL,"
        " owner_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT, value_sha256 TEXT, is_secret INTEGER NOT NULL,"
        " user_uuid TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE hosting_custom_domains (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL,"
        " kind TEXT NOT NULL, owner_uuid TEXT NOT NULL, hostname TEXT NOT NULL UNIQUE, status TEXT NOT NULL,"
        " verified_at TEXT, charged_until TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )


def address(kind: str, slug: str) -> str:
    return f"https://{slug}.{kind}.sandbox.invalid"


def slot_row(db: Database, ws: str, kind: str, uuid: Any) -> dict[str, Any]:
    table, noun, reason = SLOTS[kind]
    return live_row(db, table, ws, uuid, noun, reason)


def owner_of(db: Database, ws: str, src: dict[str, Any], *, kind_required: bool) -> tuple[str, dict[str, Any]]:
    """The app or worker a request is about: ``kind`` with ``appUuid`` or ``workerUuid`` (or one of them)."""
    kind = src.get("kind")
    if kind is None and not kind_required:
        given = [k for k in SLOTS if uuid_ref(src, f"{k}Uuid") is not None]
        if len(given) != 1:
            raise bad_request("Give appUuid or workerUuid (exactly one)", "missingField")
        kind = given[0]
    if not isinstance(kind, str) or kind not in SLOTS:
        raise bad_request("kind must be app or worker", "invalidField")
    uuid = uuid_ref(src, f"{kind}Uuid")
    if uuid is None:
        raise bad_request(f"{kind}Uuid is required when kind is {kind}", "missingField")
    other = "worker" if kind == "app" else "app"
    if uuid_ref(src, f"{other}Uuid") is not None:
        raise bad_request(f"{other}Uuid does not go with kind {kind}", "invalidField")
    return kind, slot_row(db, ws, kind, uuid)


def owner_key(kind: str) -> str:
    return "appUuid" if kind == "app" else "workerUuid"
