"""The agent's seam to the executor: plan, classify and run one command.

Every tool call goes through :class:`cargo_shell.executor.Executor`, so the confirmation policy,
guards, retries, staged rollouts and job polling are exactly those of the command line. The
loop only adds its relay confirmer (which turns the executor's question into loop events) and
routes the executor's progress events to the tool call that caused them. Every plan made here
is marked as proposed by the model (``proposer="model"``), which the policy judges more
strictly (the ``--yes`` scope, local paths).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel

from cargo_shell.errors import CargoShellError
from cargo_shell.executor import Confirmer, Executor, Outcome
from cargo_shell.executor.plan import arg_values, command_line
from cargo_shell.registry import CommandSpec
from cargo_shell.registry.effects import effective_effect
from cargo_shell.registry.spec import Effect

if TYPE_CHECKING:
    from cargo_shell.executor.plan import Plan

Verdict = Literal["allow", "ask", "deny"]


@dataclass(frozen=True)
class PlanView:
    command_line: str
    text: str
    verdict: Verdict
    #: What the call does: its command's effect, raised by its arguments when the registry says so.
    effect: Effect
    reason: str = ""
    effect_reasons: tuple[str, ...] = ()
    #: The prepared plan itself (None when it could not be planned): what is run, approved and sent.
    plan: Plan | None = None


class ActionRunner(Protocol):
    def preview(self, spec: CommandSpec, params: BaseModel) -> PlanView:
        """The plan as text and whether the policy will allow, ask or deny it (no side effects)."""
        ...

    def run(
        self,
        spec: CommandSpec,
        params: BaseModel,
        *,
        confirmer: Confirmer,
        on_event: Callable[[Any], None],
        plan: Plan | None = None,
    ) -> Outcome:
        """Run through the executor; raises ``Declined`` when the person (or a rule) says no.

        ``plan``: the one :meth:`preview` made for this call, run as it is (not planned again)."""
        ...


class ExecutorRunner:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    @property
    def known_secrets(self) -> tuple[str, ...]:
        """The Cargo API token in use, for the masker."""
        return self.executor.client.secrets()

    def preview(self, spec: CommandSpec, params: BaseModel) -> PlanView:
        try:
            plan = self.executor.prepare(spec, params, proposer="model")
        except CargoShellError as exc:
            # The same error comes back from run() and is reported to the model there.
            values = arg_values(spec, params)
            effect = effective_effect(spec, values)
            text = f"cannot plan: {exc.message}"
            return PlanView(command_line(spec, values), text, "allow", effect.effect, effect_reasons=effect.reasons)
        verdict = self.executor.policy.decide(plan)
        text = plan.render()
        return PlanView(
            plan.command_line, text, verdict.kind, plan.effect, verdict.reason, plan.effect_reasons, plan=plan
        )

    def run(
        self,
        spec: CommandSpec,
        params: BaseModel,
        *,
        confirmer: Confirmer,
        on_event: Callable[[Any], None],
        plan: Plan | None = None,
    ) -> Outcome:
        if plan is not None:
            return self.executor.run(plan, confirmer=confirmer, events=on_event, proposer="model")
        return self.executor.run(spec, params, confirmer=confirmer, events=on_event, proposer="model")
