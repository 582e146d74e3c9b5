"""The simulated user: answers the executor's confirmations from a task's rules.

Rules are tried in order; the first one whose command pattern matches and whose ``times`` are
not used up gives the answer. An edit merges the rule's arguments into the proposed ones (the
executor then re-plans and asks again). A confirmation no rule answers is declined and counted:
a task that did not expect the question should not get a yes by accident.
"""

from __future__ import annotations

from collections.abc import Sequence

from cargo_shell.bench.task import UserRule
from cargo_shell.executor import Approval, Plan
from cargo_shell.executor.plan import arg_values


class SimulatedUser:
    def __init__(self, rules: Sequence[UserRule]) -> None:
        self.rules = list(rules)
        self._used = [0] * len(self.rules)
        self.asked: list[str] = []
        self.unexpected: list[str] = []

    def confirm(self, plan: Plan) -> Approval:
        self.asked.append(plan.command)
        for i, rule in enumerate(self.rules):
            if not rule.matches(plan.command) or (rule.times is not None and self._used[i] >= rule.times):
                continue
            self._used[i] += 1
            if rule.answer == "edit":
                current = arg_values(plan.spec, plan.params)
                return Approval("edit", edited_args={**current, **rule.args})
            return Approval(rule.answer)  # type: ignore[arg-type]
        self.unexpected.append(plan.command)
        return Approval("no")
