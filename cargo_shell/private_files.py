"""Files and folders only their owner can read: everything cargo-shell writes under its home.

Folders are created 0700 (every missing level, as the XDG spec asks), files 0600, from the moment
they exist: a mode is given to ``open``/``mkdir`` rather than fixed by a chmod afterwards. An
existing file or folder that is looser (written by an older version) is tightened when it is opened
here. SQLite files are created here before ``sqlite3`` opens them, because SQLite gives its ``-wal``,
``-shm`` and ``-journal`` companions the mode of the main file; an existing database file is never
opened here (see :func:`private_sqlite`).

Files the user names (``--output-file``, ``/save FILE``) are the user's: they are not created here
and follow the user's umask.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path | str) -> Path:
    """``path`` as an existing folder; the levels created here are 0700, and so is ``path``."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for level in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(level, DIR_MODE)
    _tighten(path, DIR_MODE)
    return path


def open_private(path: Path | str, flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND) -> int:
    """``os.open`` creating the file 0600 (its folder 0700); a looser existing file is tightened."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077 or mode & FILE_MODE != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_file(path: Path | str) -> Path:
    """Make sure ``path`` exists as a private file (empty when new) and return it."""
    os.close(open_private(path, os.O_WRONLY | os.O_CREAT))
    return Path(path)


def private_sqlite(path: Path | str) -> Path:
    """Prepare a SQLite database file so that it and its companions are private; returns the path.

    An existing database is never opened here, only stat'ed and chmod'ed: closing any descriptor
    of a file drops every POSIX lock this process holds on it, SQLite's included, and another
    process could then believe it is the last user and delete the live WAL.
    """
    path = Path(path)
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE))
    for suffix in ("", *SQLITE_COMPANIONS):
        with contextlib.suppress(FileNotFoundError):
            _tighten(path.with_name(path.name + suffix), FILE_MODE)
    return path


def write_private(path: Path | str, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (UTF-8), private from its first byte."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _tighten(path: Path, wanted: int) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode != wanted and (mode & 0o077 or mode & wanted != wanted):
        os.chmod(path, wanted)
