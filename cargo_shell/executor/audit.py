"""Append-only audit log: JSON lines that say what was decided, sent and what came of it, secrets masked.

Every action has an ``actionId`` and is written in phases, each line as soon as it is known, so a
process killed half-way still leaves the record of what it sent:

* ``decision``: an action that was not run (declined by the user, denied by a rule, refused because
  nobody could be asked), with who decided;
* ``sent``: a write, destructive or cost action was approved (by whom) and is being sent, written
  before the request leaves;
* ``stage``: one stage of a staged rollout was accepted (its job id and record count);
* ``outcome``: how it ended. A read has only this line (with its arguments and approval). An
  outcome may be written later by another process (``cargo-shell jobs wait``) for the same id.

:meth:`AuditLog.actions` joins the lines of each action into one entry (``cargo-shell log``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cargo_shell.private_files import open_private
from cargo_shell.secrets import mask_data, mask_text

#: One encoder for every line (``json.dumps`` with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: What an action's merged entry says when no outcome line followed its ``sent`` line.
NO_OUTCOME = "unknown"


def new_action_id() -> str:
    """16 random hex digits: unique enough to join the lines of one action across processes."""
    return os.urandom(8).hex()


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

    def write(self, *, command: str, effect: str, front_end: str, rest: dict[str, Any]) -> None:
        """Write one line: ``{"time", <profile ... effect>, **rest}`` (``rest`` is written as given)."""
        text = f'{{"time":"{self._time()}",{self._head(front_end, command, effect)},{_encode(rest)[1:]}\n'
        data = text.encode()
        if self._fd is None:
            self._fd = open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(self._fd, data)  # one O_APPEND write per line: lines of concurrent shells do not interleave

    # -- the phases ---------------------------------------------------------------------------
    def decision(
        self,
        *,
        action_id: str,
        command: str,
        effect: str,
        arguments: dict[str, Any],
        decision: str,
        decided_by: str,
        reason: str,
        front_end: str,
        rule_id: int | None = None,
    ) -> None:
        """An action that was not run: ``declined`` (user), ``denied`` (rule) or ``refused`` (nobody to ask)."""
        rest: dict[str, Any] = {
            "actionId": action_id,
            "phase": "decision",
            "arguments": mask_data(arguments) if arguments else {},
            "decision": decision,
            "decidedBy": decided_by,
        }
        if rule_id is not None:
            rest["ruleId"] = rule_id
        rest.update(approval=None, outcome="not-run", error=mask_text(reason))
        self.write(command=command, effect=effect, front_end=front_end, rest=rest)

    def sent(
        self,
        *,
        action_id: str,
        command: str,
        effect: str,
        arguments: dict[str, Any],
        decided_by: str,
        front_end: str,
        rule_id: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """An approved action about to be sent (written before the request leaves)."""
        rest = _approved(action_id, "sent", arguments, decided_by, rule_id)
        if extra:
            rest.update(extra)
        self.write(command=command, effect=effect, front_end=front_end, rest=rest)

    def stage(
        self,
        *,
        action_id: str,
        command: str,
        effect: str,
        stage: int,
        stages: int,
        records: int,
        job_ids: list[str],
        request_ids: list[str],
        front_end: str,
    ) -> None:
        """One stage of a staged rollout was accepted by the API."""
        rest = {
            "actionId": action_id,
            "phase": "stage",
            "stage": stage,
            "stages": stages,
            "records": records,
            "requestIds": request_ids,
            "jobIds": job_ids,
        }
        self.write(command=command, effect=effect, front_end=front_end, rest=rest)

    def outcome(
        self,
        *,
        action_id: str,
        command: str,
        effect: str,
        outcome: str,
        request_ids: list[str],
        job_ids: list[str],
        credits: float | None,
        front_end: str,
        error: str | None = None,
        arguments: dict[str, Any] | None = None,
        decided_by: str | None = None,
        rule_id: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """How an action ended. ``arguments`` and ``decided_by`` when no ``sent`` line came first (reads)."""
        if arguments is not None:
            rest = _approved(action_id, "outcome", arguments, decided_by or "default", rule_id)
        else:
            rest = {"actionId": action_id, "phase": "outcome"}
        rest.update(requestIds=request_ids, jobIds=job_ids, outcome=outcome, credits=credits)
        if error:
            rest["error"] = mask_text(error)
        if extra:
            rest.update(mask_data(extra))
        self.write(command=command, effect=effect, front_end=front_end, rest=rest)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------
    def read(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """The raw lines, oldest first (unreadable lines skipped)."""
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with self.path.open(encoding="utf-8") as handle:
            for text in handle:
                try:
                    line = json.loads(text)
                except ValueError:
                    continue
                if isinstance(line, dict):
                    out.append(line)
        return out[-limit:] if limit else out

    def actions(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """One entry per action, its lines joined in order (the last outcome wins), oldest first.

        An action whose ``sent`` line has no outcome line after it says ``"outcome": "unknown"``:
        the process ended before it knew (its jobs, if any, are in ``cargo-shell jobs``).
        """
        merged: dict[str, dict[str, Any]] = {}
        for index, line in enumerate(self.read()):
            key = str(line.get("actionId") or f"#{index}")
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {**line, "phases": []}
                entry.pop("phase", None)
                entry.setdefault("outcome", NO_OUTCOME)
                entry.setdefault("requestIds", [])
                entry.setdefault("jobIds", [])
            phase = line.get("phase")
            if phase:
                entry["phases"].append(phase)
            if phase == "stage":
                entry.setdefault("stages", []).append({k: line.get(k) for k in ("stage", "records", "jobIds")})
                entry["requestIds"] = _union(entry["requestIds"], line.get("requestIds"))
                entry["jobIds"] = _union(entry["jobIds"], line.get("jobIds"))
            elif phase == "outcome" and entry["phases"][:-1]:
                for name, value in line.items():
                    if name in ("requestIds", "jobIds"):
                        entry[name] = _union(entry[name], value)
                    elif name not in ("time", "phase", "arguments"):
                        entry[name] = value
                entry["updated"] = line.get("time")
        out = list(merged.values())
        return out[-limit:] if limit else out


def _approved(action_id: str, phase: str, arguments: dict[str, Any], by: str, rule_id: int | None) -> dict[str, Any]:
    rest: dict[str, Any] = {
        "actionId": action_id,
        "phase": phase,
        "arguments": mask_data(arguments) if arguments else {},
        "decision": "approved",
        "decidedBy": by,
    }
    if rule_id is not None:
        rest["ruleId"] = rule_id
    rest["approval"] = by
    return rest


def _union(first: Any, second: Any) -> list[Any]:
    out = list(first or [])
    out += [item for item in second or [] if item not in out]
    return out
