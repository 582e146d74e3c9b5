"""What the model and the person get back from one tool call: the relayed confirmation, results, errors.

The loop decides *when* a call runs; this module decides what its answer says. A result is JSON
text in which ``<`` is escaped (no workspace data can fake a tag); errors the model can act on
come back as results with a status, refusals without the hints that tell a person how to approve.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from cargo_shell.agent import events as ev
from cargo_shell.agent.trimming import DEFAULT_BUDGET, trim_for_model
from cargo_shell.errors import (
    ApiError,
    ApiStatusError,
    ApprovalRequired,
    CargoShellError,
    Declined,
    JobFailed,
    NetworkError,
    UsageError,
)
from cargo_shell.executor.confirm import Approval, Confirmer, InterruptAware, InterruptChoice
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import Plan, arg_values
from cargo_shell.registry.spec import CommandSpec
from cargo_shell.secrets import Masker

DECLINED = "declined by the user"

#: Errors a model can act on: they become tool results; anything else stops the front end's turn.
MODEL_ERRORS: tuple[type[CargoShellError], ...] = (Declined, ApprovalRequired, JobFailed, ApiError, UsageError)


def quote_data(payload: dict[str, Any]) -> str:
    """Tool results as JSON text; ``<`` is escaped so no text in the data can fake a tag."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c")


class Relay:
    """The confirmer the executor sees: relays the person's answer and reports it as events."""

    def __init__(self, user: Confirmer, emit: ev.AgentSink, call_id: str) -> None:
        self.user = user
        self.emit = emit
        self.call_id = call_id
        self.answers: list[str] = []

    def confirm(self, plan: Plan) -> Approval:
        self.emit(ev.ConfirmationAsked(self.call_id, plan.command, plan.effect, plan.render()))
        try:
            approval = self.user.confirm(plan)
        except ApprovalRequired:  # nobody there to answer (no terminal): that is the decision
            self.emit(ev.ConfirmationAnswered(self.call_id, plan.command, "approval_required"))
            raise
        self.answers.append(approval.decision)
        self.emit(ev.ConfirmationAnswered(self.call_id, plan.command, approval.decision))
        return approval

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice:
        if isinstance(self.user, InterruptAware):
            return self.user.on_interrupt(kind, job_id)
        return "detach"

    @property
    def declined(self) -> bool:
        """The person's last answer was no."""
        return self.answers[-1:] == ["no"]


def success(spec: CommandSpec, params: BaseModel, outcome: Outcome) -> tuple[ev.ResultStatus, dict[str, Any]]:
    """(event status, what the model reads) for a call that ran: its data, job, notices, edits."""
    payload: dict[str, Any] = {"status": "ok", "command": spec.name, "result": outcome.data}
    if outcome.job_id:
        job: dict[str, Any] = {"kind": outcome.job_kind, "uuid": outcome.job_id, "status": outcome.job_status}
        if outcome.detached:
            job["note"] = "the user stopped waiting; the job keeps running"
        if outcome.partial_failure:
            job["partial_failure"] = True
        if outcome.credits is not None:
            job["credits_used"] = outcome.credits
        payload["job"] = job
    ran_with = arg_values(outcome.spec, outcome.params)
    if outcome.spec.name != spec.name or ran_with != arg_values(spec, params):
        payload["note"] = "the user edited the arguments before approving"
        payload["ran_with"] = ran_with
    if outcome.notices:
        payload["notices"] = list(outcome.notices)
    return ("job_failed" if outcome.job_failed else "ok"), payload


def error_result(command: str, exc: CargoShellError, *, declined_by_user: bool) -> tuple[ev.ResultStatus, Any, Any]:
    """(event status, what the user sees, what the model reads) for an error it can act on.

    The model reads the error's whole hint (a guard's hint is the command to use instead), except
    on refusals: their hints tell the person how to approve, which is not the model's to do.
    """
    base: dict[str, Any] = {"command": command, "message": exc.message}
    if isinstance(exc, Declined):
        if declined_by_user:
            payload = {**base, "status": "declined", "message": DECLINED}
            return "declined", payload, payload
        return "denied", exc.to_json(), {**base, "status": "not_run"}
    if isinstance(exc, ApprovalRequired):
        return "denied", exc.to_json(), {**base, "status": "not_run"}
    if isinstance(exc, JobFailed):
        return "job_failed", exc.job, {**base, "status": "job_failed", "job": exc.job}
    if isinstance(exc, ApiStatusError):
        payload = {**base, "status": "api_error", "http_status": exc.status, "reason": exc.reason}
        return "api_error", exc.to_json(), _with_hint(payload, exc)
    if isinstance(exc, NetworkError):
        return "api_error", exc.to_json(), _with_hint({**base, "status": "network_error"}, exc)
    if isinstance(exc, ApiError):
        # e.g. a create whose answer was lost: it may have happened, and was deliberately not resent
        payload = {**base, "status": "outcome_unknown", "check_with": exc.hint}
        return "api_error", exc.to_json(), payload
    return "invalid", exc.to_json(), _with_hint({**base, "status": "invalid_arguments"}, exc)


def _with_hint(payload: dict[str, Any], exc: CargoShellError) -> dict[str, Any]:
    return {**payload, "hint": exc.hint} if exc.hint else payload


def model_text(payload: Any, masker: Masker, *, budget: int = DEFAULT_BUDGET, raw: bool = False) -> tuple[str, bool]:
    """(the text the model reads, whether its result was trimmed): masked, the ``result`` trimmed.

    The shell's agent loop and the MCP server both answer tool calls with it, so a model reads
    the same thing whichever agent it runs in."""
    if raw:
        return masker.text(str(payload)), False
    masked = masker.data(payload)
    trimmed = False
    if isinstance(masked, dict) and "result" in masked:
        masked["result"], trimmed = trim_for_model(masked["result"], budget)
    return quote_data(masked), trimmed
