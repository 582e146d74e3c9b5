"""The context repository's storage: one managed repository per workspace, its files and commits.

On the platform the repository is a git repository that agents read and write through a runtime.
Here it is a file tree in SQLite: a row per file (folders are the paths' prefixes, as in git, so
there are no empty folders) and a row per commit, each change of the tree being one commit.
"""

from __future__ import annotations

import hashlib
import posixpath
import random
import re
import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, register_migration
from cargo_shell.sandbox.http import ApiError
from cargo_shell.sandbox.util import iso, new_uuid

DEFAULT_BRANCH = "main"
MAX_PATH_CHARS = 1024
#: Bigger files are refused by reads (``tooLarge``) and writes.
MAX_FILE_BYTES = 5 * 1024 * 1024
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


@register_migration("403_context_tables")
def _m403(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE context_repositories (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL UNIQUE,"
        " default_branch TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE context_files (workspace_uuid TEXT NOT NULL, path TEXT NOT NULL, content BLOB NOT NULL,"
        " updated_at TEXT NOT NULL, PRIMARY KEY (workspace_uuid, path))"
    )
    conn.execute(
        "CREATE TABLE context_commits (seq INTEGER PRIMARY KEY AUTOINCREMENT, workspace_uuid TEXT NOT NULL,"
        " sha TEXT NOT NULL, message TEXT NOT NULL, created_at TEXT NOT NULL)"
    )


def repository(db: Database, ws: str, stamp: str, rng: random.Random | None = None) -> dict[str, Any]:
    """The workspace's managed repository; every workspace has one (made on first use)."""
    row = db.one("SELECT * FROM context_repositories WHERE workspace_uuid = ?", (ws,))
    if row is None:
        db.execute(
            "INSERT OR IGNORE INTO context_repositories VALUES (?,?,?,?,?)",
            (new_uuid(rng), ws, DEFAULT_BRANCH, stamp, stamp),
        )
        row = db.one("SELECT * FROM context_repositories WHERE workspace_uuid = ?", (ws,))
    assert row is not None
    return row


def repository_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"],
        "source": {"kind": "managed", "defaultBranch": row["default_branch"]},
        "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }  # fmt: skip


def clean_path(value: Any, *, field: str = "path", reason: str = "invalidBody", root_ok: bool = False) -> str:
    """A repository path as stored: relative, ``/``-separated, no ``.``/``..``/empty segments.

    400 ``reason`` for what is not a path at all; 403 ``deniedPath`` for a way out of the
    repository or into ``.git``.
    """
    if not isinstance(value, str) or len(value) > MAX_PATH_CHARS or _BAD_CHARS.search(value):
        raise ApiError(400, f"{field} must be a repository path (text, at most {MAX_PATH_CHARS} characters)", reason)
    parts = [p for p in value.strip().strip("/").split("/") if p not in ("", ".")]
    if ".." in parts or (parts and parts[0] == ".git") or ".git" in parts:
        raise ApiError(403, f"{value!r} is outside the repository's files (.. and .git are off limits)", "deniedPath")
    path = "/".join(parts)
    if not path and not root_ok:
        raise ApiError(400, f"{field} must name a file, not the repository root", reason)
    return path


def file_content(db: Database, ws: str, path: str) -> bytes | None:
    value = db.scalar("SELECT content FROM context_files WHERE workspace_uuid = ? AND path = ?", (ws, path))
    return None if value is None else bytes(value)


def all_paths(db: Database, ws: str) -> list[str]:
    return [r["path"] for r in db.all("SELECT path FROM context_files WHERE workspace_uuid = ? ORDER BY path", (ws,))]


def is_folder(paths: list[str], path: str) -> bool:
    return not path or any(p.startswith(path + "/") for p in paths)


def commit(
    conn: sqlite3.Connection, ws: str, message: str, stamp: str, writes: dict[str, bytes], removes: list[str]
) -> dict[str, str]:
    """Apply one change of the tree (inside the caller's transaction) and record it as a commit."""
    for path in removes:
        conn.execute("DELETE FROM context_files WHERE workspace_uuid = ? AND path = ?", (ws, path))
    for path, content in writes.items():
        conn.execute(
            "INSERT INTO context_files VALUES (?,?,?,?) ON CONFLICT (workspace_uuid, path) DO UPDATE SET"
            " content = excluded.content, updated_at = excluded.updated_at",
            (ws, path, content, stamp),
        )
    parent = conn.execute(
        "SELECT sha FROM context_commits WHERE workspace_uuid = ? ORDER BY seq DESC LIMIT 1", (ws,)
    ).fetchone()
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(((parent[0] if parent else "") + "\n" + message + "\n" + stamp).encode())
    for path in sorted(writes):
        digest.update(b"\nW " + path.encode() + b"\n" + writes[path])
    for path in sorted(removes):
        digest.update(b"\nD " + path.encode())
    sha = digest.hexdigest()
    conn.execute("INSERT INTO context_commits (workspace_uuid, sha, message, created_at) VALUES (?,?,?,?)",
                 (ws, sha, message, stamp))  # fmt: skip
    conn.execute("UPDATE context_repositories SET updated_at = ? WHERE workspace_uuid = ?", (stamp, ws))
    return {"sha": sha, "message": message}


def parent_folder(path: str) -> str:
    return posixpath.dirname(path)


DEMO_FILES = {
    "README.md": "# Acme Demo context\n\nWhat our agents know about the business.\n\n- Who we sell to: [[icp]]\n"
    "- How we reach them: [Outbound playbook](playbooks/outbound.md)\n",
    "icp.md": "---\ntitle: Ideal customer profile\ndescription: Which companies we sell to.\nrelated: [personas/"
    "revops-leader.md]\n---\n# Ideal customer profile\n\nB2B software companies with 50-500 employees in Europe "
    "or North America.\nThe buyer is usually a [[personas/revops-leader|RevOps leader]].\n",
    "personas/revops-leader.md": "# RevOps leader\n\nOwns the CRM and the tooling budget. Cares about clean data "
    "and fewer manual steps.\n",
    "playbooks/outbound.md": "# Outbound playbook\n\n1. Pick accounts that match the [[icp]].\n2. Find the RevOps "
    "leader.\n3. Quote from the [[pricing]] page (to be written).\n",
}


def seed_context(db: Database, ws: str, rng: random.Random) -> None:
    """The demo workspace's repository with a few linked notes (one link is still broken)."""
    created = str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,)))
    with db.transaction() as conn:
        repository(db, ws, created, rng)
        files = {path: text.encode() for path, text in DEMO_FILES.items()}
        commit(conn, ws, "Add the demo notes", created, files, [])


def stamp_of(ctx: Any) -> str:
    return iso(ctx.clock())
