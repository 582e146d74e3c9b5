"""Confirmation across the protocol: the person answers an MCP elicitation, or nothing runs.

The executor asks :class:`McpConfirmer` only when the policy says "ask" (a deny rule or
``--read-only`` has refused the call before). With a client that can elicit, the person sees the
plan — the exact ``cargo-shell ...`` command, its effect, what it touches by name, the credit
estimate — and accepts or declines; only an accepted form whose ``run`` box is ticked approves.
Without elicitation the call is refused with the plan and the two ways forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from cargo_shell.errors import ApprovalRequired
from cargo_shell.executor.confirm import Approval, InterruptChoice
from cargo_shell.executor.plan import Plan

ElicitAction = Literal["accept", "decline", "cancel"]
#: Asks the person (blocking, from the call's worker thread): (message, schema) -> (action, content).
Ask = Callable[[str, dict[str, Any]], tuple[ElicitAction, dict[str, Any] | None]]

#: The form the person fills: one box, unticked by default, so an accepted empty form approves nothing.
APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "run": {
            "type": "boolean",
            "title": "Run this action",
            "description": "Tick to run the command shown above; leave it or decline to cancel it.",
            "default": False,
        }
    },
    "required": ["run"],
}


def approval_message(plan: Plan) -> str:
    """What the person reads before answering: who proposed what, and the whole plan."""
    head = f"The assistant asks cargo-shell to run a {plan.effect} action. Nothing is sent until you accept."
    return f"{head}\n\n{plan.render()}"


def ways_forward(plan: Plan) -> str:
    return (
        f"Two ways forward: run it yourself in a terminal: {plan.command_line} — or allow it for this "
        f"profile, so it runs without asking: cargo-shell policy allow '{plan.command}'"
    )


class McpConfirmer:
    """The executor's confirmer for one tool call. ``ask`` is None when the client cannot elicit."""

    def __init__(self, ask: Ask | None, *, why_not: str = "this MCP client does not support elicitation") -> None:
        self.ask = ask
        self.why_not = why_not
        #: The person's answers in this call, in order ("yes"/"no").
        self.answers: list[str] = []

    def confirm(self, plan: Plan) -> Approval:
        if self.ask is None:
            raise ApprovalRequired(
                f"approval required: `{plan.command}` is a {plan.effect} action and nobody can be asked "
                f"({self.why_not}). It was not run.",
                plan=plan.to_json(),
                hint=ways_forward(plan),
            )
        action, content = self.ask(approval_message(plan), APPROVAL_SCHEMA)
        approved = action == "accept" and isinstance(content, dict) and content.get("run") is True
        self.answers.append("yes" if approved else "no")
        return Approval("yes" if approved else "no", source="mcp")

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice:
        """The client cancelled the call while its job ran: the job is cancelled too."""
        return "cancel"
