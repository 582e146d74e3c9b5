"""SQLite storage shared by every sandbox domain.

One connection per thread (WAL mode lets the background worker and request threads
share the file). Schema changes are append-only named migrations, registered from any
module with :func:`register_migration` and applied in name order by :meth:`Database.migrate`.
Names start with a number: ``001``-``099`` are the core (data domains), ``100`` and up
belong to the orchestration/ai domains.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from cargo_shell.private_files import private_dir, private_sqlite

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: dict[str, Migration] = {}


def register_migration(name: str) -> Callable[[Migration], Migration]:
    """Decorator adding a migration; a name is applied once per database file."""

    def decorator(fn: Migration) -> Migration:
        if name in MIGRATIONS and MIGRATIONS[name] is not fn:
            raise ValueError(f"duplicate migration name {name!r}")
        MIGRATIONS[name] = fn
        return fn

    return decorator


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


def _connect(path: Path | str, *, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=uri, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def read_only_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, src: str | None) -> int:
    """SQLite authorizer allowing reads only (no writes, pragmas, attach or transactions)."""
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 in ("table_info", "table_xinfo"):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # asked when a table-valued function (json_each) is set up; schema writes
        # still need PRAGMA writable_schema, which stays denied
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class Database:
    """The metadata database plus one SQLite file per dataset holding the model tables."""

    def __init__(self, path: Path) -> None:
        self.path = private_sqlite(Path(path))
        self.datasets_dir = private_dir(self.path.parent / "datasets")
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        #: Set by the sandbox runtime: the scope each request and engine step runs in
        #: (:class:`cargo_shell.sandbox.lifecycle.RequestGuard`); none for a bare database.
        self.guard: Callable[[], AbstractContextManager[None]] | None = None
        self.conn.execute("PRAGMA journal_mode = WAL")

    def request_scope(self) -> AbstractContextManager[None]:
        """Run one request (or engine step) as a unit a concurrent reset cannot cut in two."""
        return self.guard() if self.guard is not None else contextlib.nullcontext()

    def _track(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        with self._lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._track(_connect(self.path))
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    def dataset_path(self, dataset_uuid: str) -> Path:
        return self.datasets_dir / f"{dataset_uuid}.sqlite"

    def dataset_conn(self, dataset_uuid: str, *, readonly: bool = False) -> sqlite3.Connection:
        """This thread's connection to the file holding one dataset's model tables.

        ``readonly`` connections are opened with ``mode=ro`` (queries that may carry
        user-written SQL go through them, under :func:`read_only_authorizer`).
        """
        cache: dict[tuple[str, bool], sqlite3.Connection] | None = getattr(self._local, "datasets", None)
        if cache is None:
            cache = {}
            self._local.datasets = cache
        conn = cache.get((dataset_uuid, readonly))
        if conn is None:
            path = self.dataset_path(dataset_uuid)
            if readonly:
                if not path.exists():
                    self.dataset_conn(dataset_uuid)
                conn = self._track(_connect(f"file:{path}?mode=ro", uri=True))
                conn.set_authorizer(read_only_authorizer)
            else:
                conn = self._track(_connect(private_sqlite(path)))
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            cache[(dataset_uuid, readonly)] = conn
        return conn

    def open_readonly(self, dataset_uuid: str) -> sqlite3.Connection:
        """A new (untracked, caller-closed) read-only connection, e.g. for a streamed download."""
        path = self.dataset_path(dataset_uuid)
        if not path.exists():
            self.dataset_conn(dataset_uuid)
        conn = _connect(f"file:{path}?mode=ro", uri=True)
        conn.set_authorizer(read_only_authorizer)
        return conn

    def migrate(self) -> list[str]:
        """Apply every registered migration not yet applied; returns the names applied.

        What is pending is decided inside the same write transaction that applies it, so two
        processes migrating one file at once apply each migration once (the second one waits).
        """
        from cargo_shell.sandbox import schema  # noqa: F401  (registers the core migrations)

        applied: list[str] = []
        if not self._pending():
            return applied  # the common case: read only, no write lock taken
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
            for name in sorted(MIGRATIONS):
                if name not in done:
                    MIGRATIONS[name](conn)
                    conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (name,))
                    applied.append(name)
        return applied

    def _pending(self) -> bool:
        try:
            done = {row[0] for row in self.conn.execute("SELECT name FROM _migrations")}
        except sqlite3.OperationalError:  # no table yet
            return True
        return not set(MIGRATIONS) <= done

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; a nested call joins the outer transaction."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.close()
        self._local = threading.local()
