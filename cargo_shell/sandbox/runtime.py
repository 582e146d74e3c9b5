"""The ``Sandbox`` facade the core uses: open a data directory, get an app and a token.

Creating, seeding, repairing and resetting the files is :mod:`cargo_shell.sandbox.lifecycle`'s
job (safe for any number of processes at once); this module wires the result into an app.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cargo_shell.private_files import open_private, private_dir
from cargo_shell.sandbox import engine as _engine  # noqa: F401  (importing it registers its migration)
from cargo_shell.sandbox import lifecycle
from cargo_shell.sandbox import modules as _modules  # noqa: F401  (every domain: migrations, seed hooks)
from cargo_shell.sandbox.app import SandboxApp, create_app, hash_token
from cargo_shell.sandbox.db import MIGRATIONS, Database
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.lifecycle import DB_FILE
from cargo_shell.sandbox.seed import seed_sandbox
from cargo_shell.sandbox.util import iso

TOKEN_FILE = "admin-token"
TOKEN_PREFIX = "cai_sandbox_"
ADMIN_NAME = "Sandbox admin"
PROVIDED_NAME = "Sandbox admin (provided)"

__all__ = ["DB_FILE", "Sandbox"]


def _stored_token(data_dir: Path) -> str:
    """The admin token kept beside the data (created at first use, under the sandbox lock)."""
    path = data_dir / TOKEN_FILE
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    with lifecycle.flocked(data_dir, fcntl.LOCK_EX):
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with os.fdopen(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "w") as handle:
            handle.write(token + "\n")
        return token


def ensure_tokens(db: Database, tokens: list[tuple[str, str]], now: float) -> None:
    """Make each (token, name) an admin token of the demo workspace (kept if it exists)."""
    workspace = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'workspace_uuid'")
    admin = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'")
    for value, name in tokens:
        if db.scalar("SELECT 1 FROM tokens WHERE token_hash = ?", (hash_token(value),)) is not None:
            continue  # reads only: opening an existing sandbox takes no write lock
        db.execute(
            "INSERT OR IGNORE INTO tokens (uuid, workspace_uuid, user_uuid, name, description, token_hash,"
            " permissions, created_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
            (str(uuid.uuid4()), workspace, admin, name, "Created by the sandbox", hash_token(value), iso(now)),
        )


def _build(path: Path, *, token: str, clock: Callable[[], float]) -> None:
    """Seed a fresh sandbox database at ``path``; the seeded marker is its last write."""
    db = Database(path)
    try:
        db.migrate()
        now = clock()
        seed_sandbox(db, now, before_marker=lambda: ensure_tokens(db, [(token, ADMIN_NAME)], now))
    finally:
        db.close()


def _migrate(path: Path) -> None:
    db = Database(path)
    try:
        db.migrate()
    finally:
        db.close()


class Sandbox:
    def __init__(self, app: SandboxApp, token: str, workspace_uuid: str, data_dir: Path) -> None:
        self.app = app
        self.token = token
        self.workspace_uuid = workspace_uuid
        self.data_dir = data_dir
        self.guard: lifecycle.RequestGuard | None = None

    @property
    def base_url(self) -> str:
        return self.app.base_url

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        token: str | None = None,
        reset: bool = False,
        clock: Callable[[], float] = time.time,
        faults: FaultSpec | None = None,
        base_url: str = "http://sandbox.local",
    ) -> Sandbox:
        """Open the sandbox stored in ``data_dir``, creating and seeding it at first use.

        ``reset`` re-seeds the data in place (the admin token file is kept); processes that have
        the sandbox open see the fresh data at their next request. A given ``token`` becomes an
        admin token of the demo workspace in addition to the stored one (again after a reset).
        """
        data_dir = private_dir(Path(data_dir))
        stored = _stored_token(data_dir)
        repair = partial(
            lifecycle.prepare,
            data_dir,
            build=partial(_build, token=stored, clock=clock),
            migrate=_migrate,
            migrations=sorted(MIGRATIONS),
        )
        repair(reset=reset)
        app = create_app(data_dir / DB_FILE, clock=clock, faults=faults, base_url=base_url)
        db = app.db
        tokens = [(stored, ADMIN_NAME)] + ([(token, PROVIDED_NAME)] if token else [])
        # the guard reads the mark first: a reset from now on makes it put the tokens back
        guard = lifecycle.RequestGuard(
            data_dir, on_new_generation=lambda: ensure_tokens(db, tokens, clock()), repair=repair
        )
        ensure_tokens(db, tokens, clock())
        workspace_uuid = str(db.scalar("SELECT value FROM sandbox_meta WHERE key = 'workspace_uuid'"))
        box = cls(app, token or stored, workspace_uuid, data_dir)
        box.guard = db.guard = guard
        return box

    def info(self) -> dict[str, Any]:
        return {"baseUrl": self.base_url, "workspaceUuid": self.workspace_uuid, "token": self.token}

    def close(self) -> None:
        self.app.close()
        if self.guard is not None:
            self.guard.close()
