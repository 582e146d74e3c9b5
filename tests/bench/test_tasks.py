"""The task set as data: every file loads, and together they cover what the benchmark promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cargo_shell.bench.task import CATEGORIES, GOTCHAS, SKILL_NAMES, TaskError, load_tasks, parse_task

REQUIRED_GOTCHAS = {
    "filter-spelling",
    "play-vs-tool",
    "model-uuid-for-fetch",
    "ddl-before-sql",
    "invoice-cents",
    "partial-batch-failure",
    "staged-rollout",
}


def test_at_least_forty_tasks_load_with_unique_ids() -> None:
    tasks = load_tasks()
    assert len(tasks) >= 40
    assert len({t.id for t in tasks}) == len(tasks)


def test_every_skill_has_several_tasks() -> None:
    tasks = load_tasks()
    for skill in SKILL_NAMES:
        assert sum(1 for t in tasks if t.skill == skill) >= 4, skill


def test_every_category_and_required_trap_is_covered() -> None:
    tasks = load_tasks()
    assert {c for t in tasks for c in t.categories} == set(CATEGORIES)
    assert {t.gotcha for t in tasks} >= REQUIRED_GOTCHAS
    assert {t.gotcha for t in tasks if t.gotcha} <= set(GOTCHAS)


def test_every_task_has_an_oracle_a_decoy_and_a_reason() -> None:
    for task in load_tasks():
        assert task.oracle and task.decoy and task.decoy_why, task.id
        assert task.oracle != task.decoy, task.id


def test_tasks_ship_as_package_data() -> None:
    text = Path(__file__).resolve().parents[2].joinpath("pyproject.toml").read_text(encoding="utf-8")
    assert '"cargo_shell.bench"' in text
    assert '"cargo_shell.bench" = ["tasks/*.json"]' in text


def test_selection_by_id_skill_category_or_pattern() -> None:
    assert [t.id for t in load_tasks("remaining-credits")] == ["remaining-credits"]
    assert {t.skill for t in load_tasks("billing")} == {"billing"}
    assert all("injection" in t.categories for t in load_tasks("injection"))
    assert {t.id for t in load_tasks("inject-*,user-role")} == {
        "inject-agent-description",
        "inject-company-record",
        "inject-folder-name",
        "user-role",
    }
    assert load_tasks("no-such-task") == []


def _minimal() -> dict:
    return {
        "id": "t",
        "title": "T",
        "skill": "billing",
        "categories": ["lookup"],
        "turns": ["How many credits are left?"],
        "checks": [{"check": "answer", "contains": "x"}],
        "oracle": [{"say": "x"}],
        "decoy": [{"say": "y"}],
        "decoy_why": "wrong",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"skill": "sales"}, "skill: 'sales' is not one of"),
        ({"categories": ["lookup", "fun"]}, "categories: 'fun' is not one of"),
        ({"oracle": [{"command": "storage model lst"}, {"say": "x"}]}, "oracle[0]: command 'storage model lst' is not"),
        ({"decoy": [{"command": "storage model list"}]}, "decoy: must end with a 'say' step"),
        ({"user": [{"answer": "maybe"}]}, "user[0]: answer must be one of"),
        ({"user": [{"answer": "edit"}]}, "user[0]: an edit gives the changed arguments in args"),
        ({"checks": [{"check": "read", "command": "storage model list"}]}, "checks[0]: needs a matcher"),
        ({"checks": [{"check": "guess"}]}, "checks[0]: needs 'check': one of"),
        ({"after": {"n": {"read": "storage model list", "sql": "SELECT 1"}}}, "after.n: needs exactly one of"),
        ({"gotcha": "invoice-cents"}, "a task with a gotcha lists the category 'gotcha'"),
        ({"extra": 1}, "unknown field(s) extra"),
    ],
)
def test_a_broken_task_is_refused_naming_the_file_and_field(change: dict, message: str) -> None:
    with pytest.raises(TaskError) as caught:
        parse_task({**_minimal(), **change}, source="t.json")
    assert "task file t.json" in caught.value.message
    assert message in caught.value.message


def test_a_folder_of_own_tasks_loads(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(json.dumps(_minimal()), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a task", encoding="utf-8")
    assert [t.id for t in load_tasks(folder=tmp_path)] == ["t"]
    (tmp_path / "u.json").write_text("{ broken", encoding="utf-8")
    with pytest.raises(TaskError, match=r"u\.json: not valid JSON"):
        load_tasks(folder=tmp_path)


def test_the_model_receives_every_prompt_as_written() -> None:
    """cargo-shell masks secrets of well-known formats before any text reaches the model, so a
    prompt carrying one would hide part of the task from the model (its oracle would still pass,
    having the value in its script)."""
    from cargo_shell.secrets import mask_text

    for task in load_tasks():
        for turn in task.turns:
            assert mask_text(turn) == turn, (task.id, turn)
