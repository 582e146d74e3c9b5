"""Environment variables of hosted apps and workers.

A secret value is write-only, as on the platform: every answer carries ``value: null`` for it.
The sandbox does not even keep it: it stores a SHA-256 fingerprint (proof that a value is set)
and nothing that could give the value back, since no deployment ever runs here to read it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.domains.hosting_common import owner_key, owner_of
from cargo_shell.sandbox.fields import optional, text
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, live_row, new_uuid

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_VALUE = 65536


def env_json(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "kind": kind,
        owner_key(kind): row["owner_uuid"],
        "key": row["key"],
        "value": None if row["is_secret"] else row["value"],
        "isSecret": bool(row["is_secret"]),
        "userUuid": row["user_uuid"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def stored_value(value: str, is_secret: bool) -> tuple[str | None, str | None]:
    """(value, fingerprint) as kept: a secret only as its SHA-256."""
    if is_secret:
        return None, hashlib.sha256(value.encode()).hexdigest()
    return value, None


def _value_and_secrecy(body: dict[str, Any]) -> tuple[str, bool]:
    value = text(body, "value")
    if value is None:
        raise bad_request("value is required", "missingField")
    if len(value) > MAX_VALUE:
        raise bad_request(f"value is longer than {MAX_VALUE} characters", "invalidField")
    is_secret = optional(body, "isSecret", bool)
    if is_secret is None:
        raise bad_request("isSecret is required (true keeps the value write-only)", "missingField")
    return value, is_secret


def _env_var(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "hosting_env_vars", ws, uuid, "Environment variable", "envVarNotFound")


def list_env_vars(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    kind, owner = owner_of(db, ws, req.query, kind_required=False)
    rows = db.all(
        "SELECT * FROM hosting_env_vars WHERE workspace_uuid = ? AND kind = ? AND owner_uuid = ? AND deleted_at IS NULL"
        " ORDER BY key",
        (ws, kind, owner["uuid"]),
    )
    return {"envVars": [env_json(r) for r in rows]}


def create_env_var(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    kind, owner = owner_of(db, ws, body, kind_required=True)
    key = text(body, "key")
    if not key or not KEY_RE.match(key):
        raise bad_request("key is a variable name: letters, digits and underscores, not starting with a digit")
    value, is_secret = _value_and_secrecy(body)
    if db.scalar(
        "SELECT 1 FROM hosting_env_vars WHERE owner_uuid = ? AND key = ? AND deleted_at IS NULL", (owner["uuid"], key)
    ):
        raise ApiError(400, f"This {kind} already has a variable {key}: update it instead", "duplicateKey")
    uuid, now = new_uuid(), iso(req.ctx.clock())
    kept, fingerprint = stored_value(value, is_secret)
    db.execute(
        "INSERT INTO hosting_env_vars VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (uuid, ws, kind, owner["uuid"], key, kept, fingerprint, int(is_secret), req.ctx.user_uuid, now, now),
    )
    return {"envVar": env_json(_env_var(db, ws, uuid))}


def update_env_var(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _env_var(db, ws, req.path_params["uuid"])
    value, is_secret = _value_and_secrecy(body)
    kept, fingerprint = stored_value(value, is_secret)
    db.execute(
        "UPDATE hosting_env_vars SET value = ?, value_sha256 = ?, is_secret = ?, updated_at = ? WHERE uuid = ?",
        (kept, fingerprint, int(is_secret), iso(req.ctx.clock()), row["uuid"]),
    )
    return {"envVar": env_json(_env_var(db, ws, row["uuid"]))}


def remove_env_var(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _env_var(db, ws, req.path_params["uuid"])
    now = iso(req.ctx.clock())
    db.execute("UPDATE hosting_env_vars SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
    return JsonResponse({})


def register(router: Router) -> None:
    r = router.route
    base = "/v1/hosting/env-vars"
    r("GET", base)(list_env_vars)
    r("POST", base)(create_env_var)
    r("PATCH", f"{base}/{{uuid}}")(update_env_var)
    r("DELETE", f"{base}/{{uuid}}")(remove_env_var)
