"""What the agent loop reports while it works. The loop never prints; front ends render these.

Subscribe with one callable (:data:`AgentSink`). Executor progress (job polls, retries,
notices) arrives wrapped in :class:`ExecutorEvent` so a front end can reuse its executor
rendering. ``ToolResult.data`` is the full, unmasked result for the person at the keyboard;
what the model saw is ``model_view`` (masked, possibly trimmed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cargo_shell.agent.model import Usage


@dataclass(frozen=True)
class TextDelta:
    """A piece of the assistant's answer, as it streams."""

    text: str


@dataclass(frozen=True)
class ToolCallPlanned:
    """The model asked for a command; ``command_line`` is the equivalent CLI line (secrets masked).

    ``effect`` is the call's own (its arguments may raise it; ``effect_reasons`` say why).
    """

    call_id: str
    skill: str
    command: str
    args: dict[str, Any]
    effect: str
    command_line: str
    effect_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfirmationAsked:
    call_id: str
    command: str
    effect: str
    plan_text: str


@dataclass(frozen=True)
class ConfirmationAnswered:
    call_id: str
    command: str
    decision: str


@dataclass(frozen=True)
class ExecutorEvent:
    """Progress from the executor (job started/progress/finished, retries, notices)."""

    call_id: str
    event: Any


ResultStatus = Literal["ok", "invalid", "help", "declined", "denied", "api_error", "job_failed", "not_run"]


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    skill: str
    command: str | None
    status: ResultStatus
    data: Any
    model_view: str
    trimmed: bool = False


@dataclass(frozen=True)
class ModelCalled:
    """One model call finished; ``usage`` is None when the server did not report it."""

    model: str
    usage: Usage | None


@dataclass(frozen=True)
class SecretRevealed:
    """The API returned a secret to an action the model ran (a token just created).

    ``secrets`` are (JSON path, value). The model, transcripts, files and the audit log only
    ever see it masked; a front end shows it to the person once, on the terminal, saying so.
    It is never written to an event stream or a file.
    """

    call_id: str
    command: str
    secrets: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:  # never print the values by accident (logs, test failures)
        return f"SecretRevealed({self.call_id!r}, {self.command!r}, {[path for path, _ in self.secrets]!r})"


FinalReason = Literal["answer", "max_turns", "max_tool_calls", "timeout", "error", "interrupted"]


@dataclass(frozen=True)
class Final:
    text: str
    reason: FinalReason = "answer"


AgentEvent = (
    TextDelta
    | ToolCallPlanned
    | ConfirmationAsked
    | ConfirmationAnswered
    | ExecutorEvent
    | ToolResult
    | ModelCalled
    | SecretRevealed
    | Final
)
AgentSink = Callable[[AgentEvent], None]


def ignore(_event: AgentEvent) -> None:
    """The default sink."""
