"""What the shell takes from an executor's outcome: the command line for a saved script, a created UUID.

Every direct command, replayed line and agent tool call runs through
:meth:`cargo_shell.executor.Executor.run` on an executor made by the session context
(:meth:`cargo_shell.commands.context.Context.make_executor`).
"""

from __future__ import annotations

import shlex

from cargo_shell.executor import Outcome

__all__ = ["created_uuid", "script_argv"]


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
