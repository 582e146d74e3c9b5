"""Who says yes: the Confirmer protocol and the Approval it returns.

The executor asks a confirmer only when the :class:`~cargo_shell.executor.policy.Policy`
says "ask"; front ends inject their own (the REPL a prompt_toolkit dialog, the agent one
that turns the question into a loop event and waits for the user's answer, the command line
``cargo_shell.commands.confirm``). A confirmer
must only ever relay a *person's* answer: an LLM claiming the user agreed is not an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from cargo_shell.executor.plan import Plan

Decision = Literal["yes", "no", "always", "edit"]
#: Who approved: a person at this terminal (``user``), a person asked through an MCP client
#: (``mcp``), a policy rule, a flag (``--yes``), or the defaults (reads).
ApprovalSource = Literal["user", "mcp", "rule", "flag", "default"]
InterruptChoice = Literal["cancel", "detach", "continue"]


@dataclass(frozen=True)
class Approval:
    """The answer to one plan.

    ``edit`` carries ``edited_args`` (flag name → value, the full new argument set); the
    executor re-validates, re-plans and asks again. ``always`` approves this command for
    the rest of the session. ``source`` is set by the executor for rule/flag/default
    approvals; confirmers answer with ``user``.
    """

    decision: Decision
    edited_args: dict[str, Any] | None = None
    source: ApprovalSource = "user"
    rule_id: int | None = None

    @property
    def approved(self) -> bool:
        return self.decision in ("yes", "always")


@runtime_checkable
class Confirmer(Protocol):
    def confirm(self, plan: Plan) -> Approval: ...


@runtime_checkable
class InterruptAware(Protocol):
    """Optional: a confirmer that can also answer "Ctrl-C while waiting: cancel or detach?"."""

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice: ...


@dataclass
class JobRef:
    kind: str
    job_id: str
    extra: dict[str, Any] = field(default_factory=dict)
