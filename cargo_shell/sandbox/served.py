"""Which servers are serving a sandbox directory right now (what ``sandbox info`` reports).

``sandbox serve`` writes ``servers/<pid>.json`` (``{"baseUrl", "pid", "startedAt"}``) in the
sandbox directory once its socket is bound, and removes it on exit. A record counts as live
only while its process exists *and* its address accepts a connection, so a record left by a
killed server (or a reused pid) is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVERS_DIR = "servers"


def write_record(data_dir: Path, base_url: str) -> dict[str, Any]:
    """Record this process as serving ``data_dir`` at ``base_url`` (mode 0600, written whole)."""
    folder = Path(data_dir) / SERVERS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    record = {"baseUrl": base_url, "pid": os.getpid(), "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    final = folder / f"{os.getpid()}.json"
    partial = folder / f".{os.getpid()}.json.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle)
    os.replace(partial, final)
    return record


def remove_record(data_dir: Path, record: dict[str, Any]) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(data_dir) / SERVERS_DIR / f"{record['pid']}.json").unlink()


def live_servers(data_dir: Path, *, connect_timeout: float = 1.0) -> list[dict[str, Any]]:
    """The live records of ``data_dir``, the most recently started first."""
    folder = Path(data_dir) / SERVERS_DIR
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            pid, url = int(record["pid"]), str(record["baseUrl"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _process_exists(pid) and _accepts(url, connect_timeout):
            found.append({"baseUrl": url, "pid": pid, "startedAt": record.get("startedAt")})
    found.sort(key=lambda r: str(r["startedAt"] or ""), reverse=True)
    return found


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    except OSError:
        return False
    return True


def _accepts(url: str, timeout: float) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False
