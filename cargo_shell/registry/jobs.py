"""Polling recipes for background work, from the catalogue's ``polling`` block."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    kind: str
    get_command: str
    cancel_command: str | None
    response_key: str
    interval_s: float
    terminal: frozenset[str]
    #: After this many seconds of waiting, poll at ``slow_interval_s`` instead.
    slow_after_s: float = 60.0
    slow_interval_s: float = 10.0


JOB_KINDS: dict[str, JobKind] = {
    "run": JobKind(
        "run", "orchestration run get", "orchestration run cancel", "run", 2.0,
        frozenset({"success", "error", "cancelled", "skipped"}),
    ),
    "batch": JobKind(
        "batch", "orchestration batch get", "orchestration batch cancel", "batch", 5.0,
        frozenset({"success", "error", "cancelled", "skipped"}), slow_after_s=60.0, slow_interval_s=12.0,
    ),
    "message": JobKind(
        "message", "ai message get", "ai message cancel", "message", 2.0,
        frozenset({"success", "error", "cancelled"}), slow_after_s=120.0, slow_interval_s=5.0,
    ),
}  # fmt: skip
