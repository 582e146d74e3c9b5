"""Fixtures for agent tests: the real sandbox in tmp_path, the real executor on a fake clock,
and a factory wiring a scripted model and a scripted person into the real loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.agent import events as ev
from cargo_shell.agent.loop import Agent
from cargo_shell.agent.runner import ExecutorRunner
from cargo_shell.api.client import CargoClient
from cargo_shell.executor import Executor, Policy
from cargo_shell.sandbox.runtime import Sandbox
from tests.agent.fakes import ScriptedModel, ScriptedPerson, Step
from tests.support import FakeClock, open_copy


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock, seeded_sandbox_template: Path) -> Iterator[Sandbox]:
    box = open_copy(seeded_sandbox_template, tmp_path, clock)
    yield box
    box.close()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[CargoClient]:
    http = httpx.Client(transport=httpx.WSGITransport(app=sandbox.app))
    cargo = CargoClient(http, base_url=sandbox.base_url, token=sandbox.token, workspace_uuid=sandbox.workspace_uuid)
    yield cargo
    cargo.close()


@pytest.fixture
def executor(client: CargoClient, clock: FakeClock) -> Executor:
    return Executor(client, policy=Policy(), sleep=clock.sleep, clock=clock)


class Harness:
    """One wired agent plus everything a test wants to look at afterwards."""

    def __init__(self, agent: Agent, model: ScriptedModel, person: ScriptedPerson, events: list[Any]) -> None:
        self.agent = agent
        self.model = model
        self.person = person
        self.events = events

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def results(self) -> list[ev.ToolResult]:
        return self.of(ev.ToolResult)


MakeAgent = Callable[..., Harness]


@pytest.fixture
def make_agent(executor: Executor, sandbox: Sandbox) -> Iterator[MakeAgent]:
    made: list[Harness] = []

    def factory(steps: Sequence[Step], answers: Sequence[str | dict[str, Any]] = (), **options: Any) -> Harness:
        model = ScriptedModel(steps)
        person = ScriptedPerson(list(answers))
        events: list[Any] = []
        agent = Agent(model, ExecutorRunner(executor), person, emit=events.append, **options)
        harness = Harness(agent, model, person, events)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.model.assert_done()
        harness.person.assert_done()
