"""What the executor writes to the audit log for its actions: refusals, sent lines, outcomes.

The phases and the line format are :mod:`cargo_shell.executor.audit`'s; this module picks, for an
action, who decided, which arguments and job ids to name, and what to add (rollout stages, the
command that checks an ambiguous create).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.errors import ApprovalRequired, Declined
from cargo_shell.executor.audit import new_action_id
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import Plan, given_values
from cargo_shell.executor.planning import check_command
from cargo_shell.executor.retry import creates_or_spends
from cargo_shell.registry.spec import CommandSpec

if TYPE_CHECKING:
    from cargo_shell.executor.pipeline import Executor


def refusal(executor: Executor, plan: Plan, exc: Declined | ApprovalRequired) -> None:
    """One line for an action that was not run, with who decided."""
    if executor.audit is None:
        return
    if isinstance(exc, ApprovalRequired):
        decision, by, rule_id = "refused", "policy", None
    else:
        decision = "declined" if exc.decided_by in ("user", "mcp") else "denied"  # a person said no, or a rule/flag
        by, rule_id = exc.decided_by, exc.rule_id
    executor.audit.decision(
        action_id=new_action_id(),
        command=plan.command,
        effect=plan.effect,
        arguments=plan.values,
        decision=decision,
        decided_by=by,
        reason=exc.message,
        front_end=executor.context.front_end,
        rule_id=rule_id,
    )


def sent(executor: Executor, outcome: Outcome) -> None:
    """The ``sent`` line of an approved write/destructive/cost action, before its request leaves."""
    if executor.audit is None or outcome.plan is None:
        return
    plan, approval = outcome.plan, outcome.approval
    extra: dict[str, Any] = {}
    if plan.rollout:
        extra["rollout"] = list(plan.rollout)
    if creates_or_spends(plan.spec, plan.effect):
        check = check_command(executor.registry, plan.spec, plan.values)
        if check:
            extra["checkCommand"] = check
    executor.audit.sent(
        action_id=outcome.action_id,
        command=plan.command,
        effect=plan.effect,
        arguments=plan.values,
        decided_by=approval.source if approval else "default",
        front_end=executor.context.front_end,
        rule_id=approval.rule_id if approval else None,
        extra=extra,
    )


def finished(
    executor: Executor,
    outcome: Outcome,
    label: str,
    *,
    error: str | None = None,
    spec: CommandSpec | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The outcome line of ``outcome``'s action; a read's only line also carries its arguments and approval."""
    if executor.audit is None:
        return
    plan = outcome.plan
    spec = spec or outcome.spec
    effect = plan.effect if plan is not None and spec is outcome.spec else spec.effect
    arguments = None
    if effect == "read" and spec is outcome.spec:  # a read has no sent line: this one line says it all
        values = plan.values if plan is not None and plan.params is outcome.params else None
        arguments = values if values is not None else given_values(outcome.spec, outcome.params)
    job_ids = [s["jobId"] for s in outcome.stages if s.get("jobId")] or ([outcome.job_id] if outcome.job_id else [])
    approval = outcome.approval
    if outcome.stages:
        extra = {**(extra or {}), "stages": [_stage_line(s) for s in outcome.stages]}
    executor.audit.outcome(
        action_id=outcome.action_id or new_action_id(),
        command=spec.name,
        effect=effect,
        outcome=label,
        request_ids=list(outcome.request_ids),
        job_ids=job_ids,
        credits=outcome.credits,
        front_end=executor.context.front_end,
        error=error,
        arguments=arguments,
        decided_by=approval.source if approval else None,
        rule_id=approval.rule_id if approval else None,
        extra=extra,
    )


def _stage_line(stage: dict[str, Any]) -> dict[str, Any]:
    return {k: stage.get(k) for k in ("stage", "records", "sent", "jobId", "status", "failed")}
