"""The ``Sandbox`` facade the core uses: open a data directory, get an app and a token."""

from __future__ import annotations

import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cargo_shell.sandbox.app import SandboxApp, create_app, hash_token
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.seed import seed_sandbox
from cargo_shell.sandbox.util import iso

DB_FILE = "sandbox.db"
TOKEN_FILE = "admin-token"
TOKEN_PREFIX = "cai_sandbox_"


def _read_or_create_token(data_dir: Path) -> str:
    path = data_dir / TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def _wipe(data_dir: Path) -> None:
    for name in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "datasets", ignore_errors=True)


class Sandbox:
    def __init__(self, app: SandboxApp, token: str, workspace_uuid: str, data_dir: Path) -> None:
        self.app = app
        self.token = token
        self.workspace_uuid = workspace_uuid
        self.data_dir = data_dir

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

        ``reset`` wipes the data (the admin token file is kept). A given ``token`` becomes
        an admin token of the demo workspace in addition to the stored one.
        """
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if reset:
            _wipe(data_dir)
        stored = _read_or_create_token(data_dir)
        app = create_app(data_dir / DB_FILE, clock=clock, faults=faults, base_url=base_url)
        db = app.db
        workspace_uuid = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'workspace_uuid'")
        if workspace_uuid is None:
            workspace_uuid = seed_sandbox(db, clock())
        admin = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'")
        for value, name in ((stored, "Sandbox admin"), (token, "Sandbox admin (provided)")):
            if value and db.scalar("SELECT 1 FROM tokens WHERE token_hash = ?", (hash_token(value),)) is None:
                db.execute(
                    "INSERT INTO tokens (uuid, workspace_uuid, user_uuid, name, description, token_hash,"
                    " permissions, created_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                    (
                        str(uuid.uuid4()),
                        workspace_uuid,
                        admin,
                        name,
                        "Created by the sandbox at first start",
                        hash_token(value),
                        iso(clock()),
                    ),
                )
        return cls(app, token or stored, str(workspace_uuid), data_dir)

    def info(self) -> dict[str, Any]:
        return {"baseUrl": self.base_url, "workspaceUuid": self.workspace_uuid, "token": self.token}

    def close(self) -> None:
        self.app.close()
