"""Append-only audit log: one JSON line per executed (or refused) action, secrets masked."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargo_shell.secrets import mask_data, mask_text

#: One encoder for every line (``json.dumps`` with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


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
        self._stamp_second = -1
        self._stamp = ""
        self._heads: dict[tuple[str, str | None, str, str, str], str] = {}

    def _time(self) -> str:
        """The UTC timestamp (whole seconds; formatted once per second)."""
        second = int(self.clock())
        if second != self._stamp_second:
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
            self._stamp_second = second
        return self._stamp

    def _head(self, front_end: str, command: str, effect: str) -> str:
        """The encoded members that repeat from line to line (profile ... effect), kept per command."""
        key = (self.profile, self.workspace_uuid, front_end, command, effect)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= 1024:
                self._heads.clear()
            head = self._heads[key] = _encode(
                {
                    "profile": self.profile,
                    "workspaceUuid": self.workspace_uuid,
                    "frontEnd": front_end,
                    "command": command,
                    "effect": effect,
                }
            )[1:-1]
        return head

    def append(self, entry: AuditEntry) -> None:
        self.record(
            command=entry.command,
            effect=entry.effect,
            arguments=entry.arguments,
            outcome=entry.outcome,
            approval=entry.approval,
            request_ids=entry.request_ids,
            job_ids=entry.job_ids,
            credits=entry.credits,
            error=entry.error,
            front_end=entry.front_end,
        )

    def record(
        self,
        *,
        command: str,
        effect: str,
        arguments: dict[str, Any],
        outcome: str,
        approval: str | None,
        request_ids: list[str],
        job_ids: list[str],
        credits: float | None,
        error: str | None,
        front_end: str,
    ) -> None:
        """Write one line (``append`` without building an :class:`AuditEntry` first)."""
        rest: dict[str, Any] = {
            "arguments": mask_data(arguments) if arguments else {},
            "approval": approval,
            "requestIds": request_ids,
            "jobIds": job_ids,
            "outcome": outcome,
            "credits": credits,
        }
        if error:
            rest["error"] = mask_text(error)
        # {"time": ..., <head>, <rest>}: the same object as one dict encoded in this order.
        text = f'{{"time":"{self._time()}",{self._head(front_end, command, effect)},{_encode(rest)[1:]}\n'
        data = text.encode()
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
