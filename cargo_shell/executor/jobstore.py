"""Local record of every started job (runs, batches, messages) in SQLite.

``cargo-shell jobs`` lists them; ``cargo-shell jobs wait ID`` re-attaches after a restart.
Each row remembers where the job lives (profile, base URL, workspace) so a re-attach from
another profile is refused rather than polling the wrong workspace. A row is written the moment
the API accepts the job (before its response is used for anything else); ``detail`` keeps the
audit log's ``actionId`` of the action that started it (and its stage, in a staged rollout).
Statuses are refreshed from the API when listed (``executor.tracking.refresh``); a job the API
no longer knows is marked :data:`GONE`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cargo_shell.private_files import private_sqlite

#: The status of a job the API answers 404 for (deleted, or its sandbox was reset).
GONE = "gone"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    command TEXT NOT NULL,
    command_line TEXT NOT NULL,
    profile TEXT NOT NULL,
    base_url TEXT NOT NULL,
    workspace_uuid TEXT,
    status TEXT NOT NULL,
    done INTEGER,
    failed INTEGER,
    total INTEGER,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL,
    detail TEXT
);
"""


@dataclass
class JobRecord:
    job_id: str
    kind: str
    command: str
    command_line: str
    profile: str
    base_url: str
    workspace_uuid: str | None
    status: str
    done: int | None
    failed: int | None
    total: int | None
    started_at: float
    updated_at: float
    finished_at: float | None
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "jobId": self.job_id,
            "kind": self.kind,
            "command": self.command,
            "commandLine": self.command_line,
            "profile": self.profile,
            "workspaceUuid": self.workspace_uuid,
            "status": self.status,
            "done": self.done,
            "failed": self.failed,
            "total": self.total,
            "startedAt": _iso(self.started_at),
            "updatedAt": _iso(self.updated_at),
            "finishedAt": _iso(self.finished_at) if self.finished_at else None,
        }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class JobStore:
    """The job table, on one connection opened on first use (:meth:`open` opens it ahead of time).

    The database is in WAL mode with ``synchronous=NORMAL``: a commit costs well under a millisecond
    instead of a few fsyncs (tens of milliseconds on a busy disk), which is the window in which a
    killed process would lose a job the API just accepted. A WAL commit survives the process being
    killed; only a power loss can take the last ones.
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        """Open the database now (the executor does before sending a request that starts a job)."""
        with self._lock:
            self._connection()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(private_sqlite(self.path), timeout=10, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one transaction (committed at the end of the block)."""
        with self._lock:
            conn = self._connection()
            with conn:
                yield conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def record_start(
        self,
        *,
        job_id: str,
        kind: str,
        command: str,
        command_line: str,
        profile: str,
        base_url: str,
        workspace_uuid: str | None,
        status: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        now = self.clock()
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO jobs (job_id, kind, command, command_line, profile, base_url, workspace_uuid,"
                " status, started_at, updated_at, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job_id, kind, command, command_line, profile, base_url, workspace_uuid, status, now, now,
                    json.dumps(detail or {}),
                ),
            )  # fmt: skip

    def update(
        self,
        job_id: str,
        *,
        status: str,
        done: int | None = None,
        failed: int | None = None,
        total: int | None = None,
        finished: bool = False,
    ) -> None:
        now = self.clock()
        with self._connect() as conn:
            conn.execute(
                "UPDATE jobs SET status=?, done=COALESCE(?, done), failed=COALESCE(?, failed),"
                " total=COALESCE(?, total), updated_at=?, finished_at=CASE WHEN ? THEN ? ELSE finished_at END"
                " WHERE job_id=?",
                (status, done, failed, total, now, finished, now, job_id),
            )

    def get(self, job_id: str) -> JobRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                rows = conn.execute("SELECT * FROM jobs WHERE job_id LIKE ? LIMIT 2", (job_id + "%",)).fetchall()
                row = rows[0] if len(rows) == 1 else None
        return _record(row) if row is not None else None

    def mark_workspace_gone(self, workspace_uuid: str) -> int:
        """Mark :data:`GONE` the unfinished jobs of one workspace (its sandbox was reset); returns how many."""
        now = self.clock()
        with self._connect() as conn:
            count = conn.execute(
                "UPDATE jobs SET status = ?, updated_at = ?, finished_at = ? WHERE workspace_uuid = ?"
                " AND finished_at IS NULL",
                (GONE, now, now, workspace_uuid),
            ).rowcount
        return int(count)

    def list(self, *, limit: int = 50, active_only: bool = False) -> list[JobRecord]:
        sql = "SELECT * FROM jobs"
        if active_only:
            sql += " WHERE finished_at IS NULL"
        sql += " ORDER BY started_at DESC LIMIT ?"
        with self._connect() as conn:
            rows = conn.execute(sql, (limit,)).fetchall()
        return [_record(r) for r in rows]


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"],
        kind=row["kind"],
        command=row["command"],
        command_line=row["command_line"],
        profile=row["profile"],
        base_url=row["base_url"],
        workspace_uuid=row["workspace_uuid"],
        status=row["status"],
        done=row["done"],
        failed=row["failed"],
        total=row["total"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        detail=json.loads(row["detail"] or "{}"),
    )
