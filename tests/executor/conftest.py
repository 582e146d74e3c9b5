"""Executor fixtures: a seeded sandbox on a fake clock, and executors wired to it in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.api.client import CargoClient
from cargo_shell.executor import Approval, AuditLog, Executor, JobStore, Plan, Policy, RetryConfig, RunContext
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.runtime import Sandbox
from tests.support import FakeClock, open_copy


class Answers:
    """A scripted confirmer: returns the given approvals in order and records the plans it saw."""

    def __init__(self, *answers: Approval, interrupt: str = "detach") -> None:
        self.answers = list(answers)
        self.plans: list[Plan] = []
        self.interrupt = interrupt

    def confirm(self, plan: Plan) -> Approval:
        self.plans.append(plan)
        return self.answers.pop(0)

    def on_interrupt(self, kind: str, job_id: str) -> Any:
        return self.interrupt


@pytest.fixture
def box(tmp_path: Path, clock: FakeClock, seeded_sandbox_template: Path) -> Iterator[Sandbox]:
    sandbox = open_copy(seeded_sandbox_template, tmp_path, clock)
    sandbox.app.sleep = clock.sleep
    yield sandbox
    sandbox.close()


def client_for(box: Sandbox) -> CargoClient:
    http = httpx.Client(transport=httpx.WSGITransport(app=box.app))
    return CargoClient(http, base_url=box.base_url, token=box.token, workspace_uuid=box.workspace_uuid)


MakeExecutor = Callable[..., Executor]


@pytest.fixture
def make_executor(box: Sandbox, clock: FakeClock, tmp_path: Path) -> Iterator[MakeExecutor]:
    clients: list[CargoClient] = []

    def make(**kwargs: Any) -> Executor:
        client = client_for(box)
        clients.append(client)
        defaults: dict[str, Any] = {
            "policy": Policy(),
            "jobs": JobStore(tmp_path / "jobs.db", clock=clock),
            "audit": AuditLog(tmp_path / "audit.jsonl", profile="default", workspace_uuid=box.workspace_uuid),
            "retry": RetryConfig(max_attempts=8, base_delay_s=0.2, max_delay_s=5, max_total_s=600),
            "context": RunContext("default", box.workspace_uuid, box.base_url, "cli"),
            "sleep": clock.sleep,
            "clock": clock,
        }
        defaults.update(kwargs)
        return Executor(client, **defaults)

    yield make
    for c in clients:
        c.close()


def spec(name: str) -> Any:
    return get_registry().get(name)


def first(executor: Executor, command: str, key: str, **where: Any) -> dict[str, Any]:
    items = executor.run(spec(command), {}).data[key]
    for item in items:
        if all(item.get(k) == v for k, v in where.items()):
            return dict(item)
    raise AssertionError(f"no {key} item matching {where}")
