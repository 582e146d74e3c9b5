"""The shell's wiring to the shared executor: one executor per shell, its confirmer and events.

Every direct command, replayed line and agent tool call runs through
:meth:`cargo_shell.executor.Executor.run` with the policy, the job store and the audit log.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.executor import Approval, Confirmer, EventSink, Executor, Outcome, Plan

if TYPE_CHECKING:
    from cargo_shell.session import Context

__all__ = ["Approval", "Confirmer", "Outcome", "Plan", "created_uuid", "make_executor", "script_argv"]


def make_executor(
    ctx: Context,
    *,
    confirmer: Confirmer | None,
    events: EventSink | None,
    front_end: str,
    assume_yes: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> Executor:
    """The context's executor (profile policy, job store, audit log) with this front end's hooks.

    ``sleep`` replaces every pause of the executor: retries, polls, stages (tests pass a fake clock's).
    """
    executor = ctx.make_executor(confirmer=confirmer, events=events or _ignore, front_end=front_end, sleep=sleep)
    executor.policy.assume_yes = executor.policy.assume_yes or assume_yes
    return executor


def _ignore(_event: Any) -> None:
    pass


def script_argv(outcome: Outcome) -> list[str]:
    """The words of the command that ran, as they go into a saved script (empty: nothing was sent).

    For a staged rollout that stopped early this is what was really sent, not the whole batch.
    """
    if outcome.plan is not None or outcome.ran_command_line is not None:
        words = shlex.split(outcome.command_line)
        return words[1:] if words and words[0] == "cargo-shell" else words
    return list(outcome.spec.words)


def created_uuid(outcome: Outcome) -> str | None:
    """The UUID of what a write created (so a replay can map it to the new one)."""
    if outcome.spec.effect == "read" or not isinstance(outcome.data, dict):
        return None
    key = outcome.spec.response_key
    obj = outcome.data.get(key) if key else None
    if isinstance(obj, dict) and isinstance(obj.get("uuid"), str):
        return str(obj["uuid"])
    return None
