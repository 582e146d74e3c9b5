"""Release lifecycle shared by workflows (``wf_releases``) and agents (``ai_releases``).

A release belongs to an owner (a workflow or an agent). Each owner has at most one draft,
created on first use from its deployed release, and at most one deployed release: deploying
archives the previous one and promotes the draft under a new, unique version.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.fields import strings, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request
from cargo_shell.sandbox.util import as_int, new_uuid

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


def requested_version(body: dict[str, Any]) -> str | None:
    """The ``version`` of a deploy body (None: pick the next one); 400 unless it looks like 1.2.0."""
    version = body.get("version")
    if version is not None and (not isinstance(version, str) or not VERSION_RE.match(version)):
        raise ApiError(400, "version must be a string like 1.2.0", "invalidReleaseVersion")
    return version


@dataclass(frozen=True)
class ReleaseTable:
    table: str
    owner_column: str  # e.g. workflow_uuid
    owner_field: str  # the same in the API, e.g. workflowUuid
    owner_name: str  # for messages, e.g. "workflow"
    carried: dict[str, str | None]  # columns a new draft copies from the deployed release -> value when none
    to_json: Callable[[dict[str, Any]], dict[str, Any]]

    def list(self, req: Request) -> dict[str, Any]:
        q = req.query
        where, params = ["workspace_uuid = ?"], [req.ctx.workspace_uuid]
        for field, column in ((self.owner_field, self.owner_column), ("userUuid", "user_uuid")):
            if value := uuid_ref(q, field):
                where.append(f"{column} = ?")
                params.append(value)
        statuses = strings(q, "statuses")
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        limit, offset = as_int(q.get("limit"), "limit", 50), as_int(q.get("offset"), "offset", 0)
        rows = req.ctx.db.all(
            f"SELECT * FROM {self.table} WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return {"releases": [self.to_json(r) for r in rows]}

    def get(self, req: Request) -> dict[str, Any]:
        row = req.ctx.db.one(
            f"SELECT * FROM {self.table} WHERE uuid = ? AND workspace_uuid = ?",
            (req.path_params["uuid"], req.ctx.workspace_uuid),
        )
        if row is None:
            raise ApiError(404, "Release not found", "releaseNotFound")
        return {"release": self.to_json(row)}

    def deployed(self, db: Database, ws: str, owner: Any) -> dict[str, Any] | None:
        return db.one(
            f"SELECT * FROM {self.table} WHERE {self.owner_column} = ? AND workspace_uuid = ? AND status = 'deployed'",
            (owner, ws),
        )

    def response(self, db: Database, ws: str, uuid: str) -> dict[str, Any]:
        """``{"release": ...}`` for a release just written."""
        row = db.one(f"SELECT * FROM {self.table} WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
        assert row is not None
        return {"release": self.to_json(row)}

    def draft(self, db: Database, ws: str, user: str, owner: Any, stamp: str) -> dict[str, Any]:
        """The owner's draft, created from its deployed release when missing (the caller checked the owner)."""
        row = db.one(
            f"SELECT * FROM {self.table} WHERE {self.owner_column} = ? AND workspace_uuid = ? AND status = 'draft'",
            (owner, ws),
        )
        if row is not None:
            return row
        deployed = self.deployed(db, ws, owner)
        carried = {c: deployed[c] if deployed else default for c, default in self.carried.items()}
        columns = ("uuid", "workspace_uuid", self.owner_column, "user_uuid", "parent_uuid", "status",
                   "created_at", "updated_at", *carried)  # fmt: skip
        uuid = new_uuid()
        db.execute(
            f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})",
            (uuid, ws, owner, user, deployed["uuid"] if deployed else None, "draft", stamp, stamp, *carried.values()),
        )
        found = db.one(f"SELECT * FROM {self.table} WHERE uuid = ?", (uuid,))
        assert found is not None
        return found

    def check_parent(self, conn: sqlite3.Connection, parent: Any, owner: Any) -> None:
        if parent is not None and not isinstance(parent, str):
            raise ApiError(400, "parentUuid must be a uuid string", "invalidField")
        if (
            parent
            and not conn.execute(
                f"SELECT 1 FROM {self.table} WHERE uuid = ? AND {self.owner_column} = ?", (parent, owner)
            ).fetchone()
        ):
            raise ApiError(400, f"The parent release does not belong to this {self.owner_name}", "invalidParent")

    def next_version(self, conn: sqlite3.Connection, owner: Any) -> str:
        versions = [
            tuple(int(p) for p in v.split("."))
            for (v,) in conn.execute(f"SELECT version FROM {self.table} WHERE {self.owner_column} = ?", (owner,))
            if isinstance(v, str) and VERSION_RE.match(v)
        ]
        if not versions:
            return "1.0.0"
        major, minor, patch = max(versions)
        return f"{major}.{minor}.{patch + 1}"

    def deploy(
        self, conn: sqlite3.Connection, draft: dict[str, Any], version: str | None, stamp: str, **columns: Any
    ) -> None:
        """Archive the deployed release and promote ``draft`` with ``columns`` and the (next) version."""
        owner = draft[self.owner_column]
        version = version or self.next_version(conn, owner)
        if conn.execute(
            f"SELECT 1 FROM {self.table} WHERE {self.owner_column} = ? AND version = ?", (owner, version)
        ).fetchone():
            raise ApiError(400, f"Version {version} already exists", "invalidReleaseVersion")
        conn.execute(
            f"UPDATE {self.table} SET status = 'archived', updated_at = ?"
            f" WHERE {self.owner_column} = ? AND status = 'deployed'",
            (stamp, owner),
        )
        sets = "".join(f", {c} = ?" for c in columns)
        conn.execute(
            f"UPDATE {self.table} SET status = 'deployed', version = ?, deployed_at = ?, updated_at = ?{sets}"
            " WHERE uuid = ?",
            (version, stamp, stamp, *columns.values(), draft["uuid"]),
        )
