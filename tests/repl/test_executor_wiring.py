"""The shell's executor is built with the front end's sleep: retries, polls and stages all use it."""

from __future__ import annotations

import pytest

from cargo_shell.errors import ServerError
from cargo_shell.executor import Executor, Plan, Policy
from cargo_shell.executor.policy import Verdict
from cargo_shell.sandbox.faults import FaultSpec

from .conftest import RunRepl, World


def test_a_retry_in_the_shell_sleeps_with_the_injected_sleep(world: World) -> None:
    slept: list[float] = []
    executor = world.ctx.make_executor(front_end="repl", sleep=slept.append)
    world.box.app.faults = FaultSpec.parse("503=1,retry-after=3")  # every attempt refused: the sender retries
    with pytest.raises(ServerError):
        executor.read("workspace folder list", {})
    assert executor.sender.attempts >= 2
    assert slept == [3.0] * (executor.sender.attempts - 1)  # Retry-After, on the injected sleep only


def test_sleep_and_clock_cannot_be_swapped_after_construction(world: World) -> None:
    executor: Executor = world.ctx.make_executor()
    with pytest.raises(AttributeError):
        executor.sleep = lambda _s: None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        executor.clock = lambda: 0.0  # type: ignore[misc]


def test_yes_on_a_typed_line_approves_that_line_and_leaves_the_shells_policy_alone(
    world: World, run_repl: RunRepl, monkeypatch: pytest.MonkeyPatch
) -> None:
    decided: list[tuple[str, bool, str]] = []
    decide = Policy.decide

    def spy(self: Policy, plan: Plan) -> Verdict:
        verdict = decide(self, plan)
        decided.append((plan.command, self.assume_yes, verdict.kind))
        return verdict

    monkeypatch.setattr(Policy, "decide", spy)
    line = "workspace folder create --name Typed --emoji-slug rocket --kind play"
    driven = run_repl(f"{line} --yes\r")
    assert "Typed" in driven.text
    assert ("workspace folder create", False, "allow") in decided  # approved by the line's --yes alone
    assert not any(shared_yes for _command, shared_yes, _kind in decided)
