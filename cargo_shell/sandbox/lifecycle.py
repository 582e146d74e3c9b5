"""Create, seed, repair and reset a sandbox's files safely, whatever runs at the same time.

Any number of processes and threads may open one data directory together, and one may reset it
while others have it open. One OS file lock (``flock`` on ``sandbox.lock``) orders them:

* every request and every engine step holds it **shared** (:class:`RequestGuard`);
* deciding migrations, seeding, repairing and resetting hold it **exclusive** (:func:`prepare`).

A new or reset sandbox is seeded in a private build folder beside the live one, then copied into
the live files with SQLite's backup API, datasets first and the main database last; the main
database carries the ``seed_state = done`` marker, so the marker arrives last. The live files are
overwritten in place, never deleted, so a process that has them open sees the new data at its
next request and never writes into a deleted file. A process killed while seeding leaves only a
build folder (removed by the next one) or a live database without the marker (re-seeded by the
next one to open it or to send it a request).

The lock file also carries one line, ``<seed state> <generation>``, written under the exclusive
lock: a request compares it with the line it saw last (one ``pread``), so it notices a reset
without a query, and a reset cut short without waiting for the next open.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cargo_shell.private_files import open_private, private_dir, private_sqlite

DB_FILE = "sandbox.db"
LOCK_FILE = "sandbox.lock"
DATASETS = "datasets"
BUILD_PREFIX = ".build-"
SEEDED = "done"

#: Seeds a fresh database at the given path (migrations, demo data, tokens, marker last).
Builder = Callable[[Path], None]


@contextmanager
def flocked(data_dir: Path, kind: int) -> Iterator[int]:
    """Hold the sandbox lock (``fcntl.LOCK_SH`` or ``LOCK_EX``) on a descriptor of our own."""
    fd = open_private(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, kind)
        yield fd
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def read_mark(fd: int) -> str:
    """The lock file's line (read under the lock; empty for a lock file no one marked yet)."""
    return os.pread(fd, 256, 0).decode("utf-8", "replace").strip()


def _write_mark(fd: int, mark: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, (mark + "\n").encode(), 0)


def mark_of(state: str | None, generation: str | None) -> str:
    return f"{state or 'none'} {generation or '-'}"


def seed_state(db_path: Path) -> tuple[str | None, str | None]:
    """(seed state, generation) of a database file; (None, None) when it is missing or unseeded.

    A database seeded before the marker existed (it has a workspace but no state) counts as seeded.
    """
    if not db_path.exists():
        return None, None
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        rows = dict(conn.execute("SELECT key, value FROM sandbox_meta").fetchall())
    except sqlite3.DatabaseError:  # no table yet, or not a database at all
        return None, None
    finally:
        conn.close()
    state = rows.get("seed_state") or (SEEDED if rows.get("workspace_uuid") else None)
    return state, rows.get("generation")


def pending_migrations(db_path: Path, names: list[str]) -> bool:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    except sqlite3.DatabaseError:
        return True
    finally:
        conn.close()
    return not set(names) <= done


def prepare(
    data_dir: Path,
    *,
    build: Builder,
    migrate: Callable[[Path], None],
    migrations: list[str],
    reset: bool = False,
) -> None:
    """Make ``data_dir`` hold a migrated, fully seeded sandbox (a fresh one when ``reset``)."""
    db_path = data_dir / DB_FILE
    if not reset:
        with flocked(data_dir, fcntl.LOCK_SH) as fd:
            state, generation = seed_state(db_path)
            if (
                state == SEEDED
                and read_mark(fd) == mark_of(state, generation)
                and not pending_migrations(db_path, migrations)
            ):
                return  # the common case: nothing to decide, no exclusive lock taken
    with flocked(data_dir, fcntl.LOCK_EX) as fd:
        for leftover in data_dir.glob(BUILD_PREFIX + "*"):
            shutil.rmtree(leftover, ignore_errors=True)  # a builder killed before it finished
        if reset or seed_state(db_path)[0] != SEEDED:
            _write_mark(fd, mark_of("installing", None))
            folder = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=data_dir))
            try:
                build(folder / DB_FILE)
                install(folder, data_dir)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            migrate(db_path)
        _write_mark(fd, mark_of(*seed_state(db_path)))


def install(build: Path, data_dir: Path) -> None:
    """Copy a built sandbox over the live one in place: datasets first, the main database last."""
    live = data_dir / DB_FILE
    _unmark(live)
    live_sets = private_dir(data_dir / DATASETS)
    fresh = sorted(p.name for p in (build / DATASETS).glob("*.sqlite"))
    for name in fresh:
        copy_database(build / DATASETS / name, live_sets / name)
    for stale in live_sets.glob("*.sqlite"):
        if stale.name not in fresh:  # a dataset the new sandbox does not have: nothing refers to it
            for suffix in ("", "-wal", "-shm", "-journal"):
                stale.with_name(stale.name + suffix).unlink(missing_ok=True)
    copy_database(build / DB_FILE, live)


def copy_database(source: Path, target: Path) -> None:
    """Overwrite ``target``'s content with ``source``'s in one transaction (live readers stay valid)."""
    private_sqlite(target)
    dst = sqlite3.connect(target, isolation_level=None, timeout=30)
    try:
        try:
            dst.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            raise  # busy or locked: never a reason to delete anything
        except sqlite3.DatabaseError:  # not a database (a torn or foreign file): start it again
            dst.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            private_sqlite(target)
            dst = sqlite3.connect(target, isolation_level=None, timeout=30)
            dst.execute("PRAGMA journal_mode = WAL")
        src = sqlite3.connect(source)
        try:
            src.backup(dst)
        finally:
            src.close()
    finally:
        dst.close()


def _unmark(live: Path) -> None:
    """Clear the live marker first, so an install cut short is repaired rather than trusted."""
    if not live.exists():
        return
    conn = sqlite3.connect(live, isolation_level=None, timeout=30)
    try:
        conn.execute("INSERT OR REPLACE INTO sandbox_meta VALUES ('seed_state', 'installing')")
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise  # busy or locked: do not install over a database still marked seeded
    except sqlite3.DatabaseError:
        pass  # not a database: the install replaces it
    finally:
        conn.close()


class RequestGuard:
    """What every request and engine step runs under: the shared lock, then a look at the mark.

    Re-entrant per thread (an engine step inside a request takes nothing more). Each thread holds
    its own descriptor, because ``flock`` belongs to an open file description. When the sandbox was
    reset since the last look, ``on_new_generation`` runs (it puts back this process's tokens);
    when a reset was cut short, ``repair`` runs under the exclusive lock before the request goes on.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        on_new_generation: Callable[[], None],
        repair: Callable[[], None],
    ) -> None:
        self.data_dir = data_dir
        self.on_new_generation = on_new_generation
        self.repair = repair
        with flocked(data_dir, fcntl.LOCK_SH) as fd:
            self.mark = read_mark(fd)
        self._local = threading.local()
        self._fds: list[int] = []
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        local = self._local
        if getattr(local, "depth", 0):
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        fd = self._fd()
        fcntl.flock(fd, fcntl.LOCK_SH)
        local.depth = 1
        try:
            mark = read_mark(fd)
            if mark != self.mark:
                self._changed(fd, mark)
            yield
        finally:
            local.depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _changed(self, fd: int, mark: str) -> None:
        if not mark.startswith(SEEDED + " "):  # a reset (or first seed) was cut short: finish it first
            fcntl.flock(fd, fcntl.LOCK_UN)
            try:
                self.repair()
            finally:
                fcntl.flock(fd, fcntl.LOCK_SH)
            mark = read_mark(fd)
        with self._lock:
            if mark != self.mark:
                if mark.split(" ")[-1] != self.mark.split(" ")[-1]:
                    self.on_new_generation()
                self.mark = mark

    def _fd(self) -> int:
        fd: int | None = getattr(self._local, "fd", None)
        if fd is None:
            fd = open_private(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT)
            self._local.fd = fd
            with self._lock:
                self._fds.append(fd)
        return fd

    def close(self) -> None:
        with self._lock:
            fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._local = threading.local()
