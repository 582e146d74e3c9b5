"""Append-only audit log: one JSON line per executed (or refused) action, secrets masked."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargo_shell.executor.plan import mask_secrets


@dataclass
class AuditEntry:
    command: str
    effect: str
    arguments: dict[str, Any]
    outcome: str
    approval: str | None = None
    request_ids: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    credits: float | None = None
    error: str | None = None
    front_end: str = "cli"


class AuditLog:
    def __init__(
        self,
        path: Path,
        *,
        profile: str,
        workspace_uuid: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.profile = profile
        self.workspace_uuid = workspace_uuid
        self.clock = clock
        self._fd: int | None = None

    def append(self, entry: AuditEntry) -> None:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
            "profile": self.profile,
            "workspaceUuid": self.workspace_uuid,
            "frontEnd": entry.front_end,
            "command": entry.command,
            "effect": entry.effect,
            "arguments": mask_secrets(entry.arguments),
            "approval": entry.approval,
            "requestIds": entry.request_ids,
            "jobIds": entry.job_ids,
            "outcome": entry.outcome,
            "credits": entry.credits,
        }
        if entry.error:
            line["error"] = entry.error
        data = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(self._fd, data)  # one O_APPEND write per line: lines of concurrent shells do not interleave

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    def read(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with self.path.open(encoding="utf-8") as handle:
            for text in handle:
                try:
                    out.append(json.loads(text))
                except ValueError:
                    continue
        return out[-limit:] if limit else out
