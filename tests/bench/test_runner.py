"""One run, in this process: the real agent, executor and sandbox copy, with a scripted model."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cargo_shell.agent.model import Message, ModelItem, TextDelta, ToolSchema, Usage
from cargo_shell.bench.metered import BudgetExceeded, MeteredModel
from cargo_shell.bench.runner import run_task
from cargo_shell.bench.task import Task, load_tasks, parse_task
from cargo_shell.bench.world import THINK_SECONDS, SimClock


def _task(task_id: str, **changes: Any) -> Task:
    raw = copy.deepcopy(load_tasks(task_id)[0].raw)
    raw.update(changes)
    return parse_task(raw, source=f"{task_id}.json")


def _run(task: Task, template: Path, tmp_path: Path, mode: str = "oracle") -> dict[str, Any]:
    return run_task(task, mode=mode, template=template, home=tmp_path / mode)


def test_the_english_spelling_passes_because_the_guard_corrects_it(
    seeded_sandbox_template: Path, tmp_path: Path
) -> None:
    """Why the filter-spelling decoys use the old {field, operator, value} grammar instead of
    `conjunction`: cargo-shell's guard renames the key, so a script spelling it in English still
    counts the right contacts."""
    raw = load_tasks("subscribed-contacts-germany")[0].raw
    english = json.loads(json.dumps(raw["oracle"]).replace('"conjonction"', '"conjunction"'))
    assert '"conjunction"' in json.dumps(english)
    result = _run(_task("subscribed-contacts-germany", oracle=english), seeded_sandbox_template, tmp_path)
    assert result["status"] == "pass", result["checks"]


def test_a_confirmation_no_rule_answers_is_declined_and_reported(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    result = _run(_task("user-invite-member", user=[]), seeded_sandbox_template, tmp_path)
    assert result["status"] == "fail"
    assert result["unexpectedConfirmations"] == ["workspace user create"]
    assert result["metrics"]["toolStatuses"] == {"ok": 1, "declined": 1}  # role list, then the invitation


def test_the_user_edit_reaches_the_executor(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    result = _run(load_tasks("folder-create-edited")[0], seeded_sandbox_template, tmp_path)
    assert result["status"] == "pass", result["checks"]
    assert result["metrics"]["approvals"] == 2  # the edit re-plans and asks again
    assert "Lead scoring" in result["answers"][0]


def test_a_script_step_the_agent_never_asks_for_is_an_error(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    oracle = [*load_tasks("user-role")[0].raw["oracle"], {"say": "one more thing"}]
    result = _run(_task("user-role", oracle=oracle), seeded_sandbox_template, tmp_path)
    assert result["status"] == "error"
    assert "1 step(s) the agent never asked for" in result["error"]


def test_a_script_reading_a_missing_field_is_an_error(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    oracle = [{"id": "users", "command": "workspace user list"}, {"say": "${users.members[0].email}"}]
    result = _run(_task("user-role", oracle=oracle), seeded_sandbox_template, tmp_path)
    assert result["status"] == "error"
    assert "oracle step 2: no field 'members'" in result["error"]


def test_a_broken_setup_is_an_error_before_any_model_call(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    setup = [{"command": "ai agent update", "args": {"uuid": "${nothing.uuid}", "name": "x"}}]
    result = _run(_task("user-role", setup=setup), seeded_sandbox_template, tmp_path)
    assert result["status"] == "error"
    assert result["error"].startswith("set-up step 1 (ai agent update) failed")
    assert result["metrics"]["modelTurns"] == 0


def test_an_end_state_value_that_is_missing_fails_the_run(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    result = _run(load_tasks("agent-from-template")[0], seeded_sandbox_template, tmp_path, mode="decoy")
    assert result["status"] == "fail"
    failed = [c for c in result["checks"] if not c["ok"]]
    assert failed[0]["check"] == "the end state has live"
    assert "deployedRelease" in failed[0]["detail"]


def test_credits_spent_in_the_sandbox_are_measured(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    result = _run(load_tasks("enrich-partial-batch")[0], seeded_sandbox_template, tmp_path)
    assert result["status"] == "pass", result["checks"]
    assert result["metrics"]["credits"] > 0


class _Talker:
    """A model that always answers with text and reports large usage."""

    name = "talker"

    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSchema], *, timeout: float | None = None
    ) -> Iterator[ModelItem]:
        self.timeouts.append(timeout)
        yield TextDelta("hello")
        yield Usage(150_000, 60_000)


def test_the_token_budget_stops_the_next_model_call() -> None:
    clock = SimClock(0.0)
    talker = _Talker()
    model = MeteredModel(talker, clock=clock, seconds=60, tokens=200_000)
    assert [type(i) for i in model.stream([], [], timeout=500.0)] == [TextDelta, Usage]
    assert talker.timeouts[0] is not None and 0 < talker.timeouts[0] <= 60  # a call never outlasts the run
    assert model.tokens == 210_000 and clock.now == THINK_SECONDS
    with pytest.raises(BudgetExceeded, match="token budget of 200,000 tokens is used up"):
        list(model.stream([], []))


def test_the_time_budget_stops_the_next_model_call() -> None:
    model = MeteredModel(_Talker(), clock=SimClock(0.0), seconds=0.0, tokens=10)
    with pytest.raises(BudgetExceeded, match="time budget of 0 s is used up"):
        list(model.stream([], []))
