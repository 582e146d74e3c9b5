"""The shell's executor is built with the front end's sleep: retries, polls and stages all use it."""

from __future__ import annotations

import pytest

from cargo_shell.errors import ServerError
from cargo_shell.executor import Executor
from cargo_shell.repl.actions import make_executor
from cargo_shell.sandbox.faults import FaultSpec

from .conftest import World


def test_a_retry_in_the_shell_sleeps_with_the_injected_sleep(world: World) -> None:
    slept: list[float] = []
    executor = make_executor(world.ctx, confirmer=None, events=None, front_end="repl", sleep=slept.append)
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
