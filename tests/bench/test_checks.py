"""The verifier's vocabulary: every matcher can pass and fail, answers are read for numbers and
words, confirmations are counted, and reads through the verifier cannot write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cargo_shell.bench.checks import CheckError, Trace, inventory, match, numbers_in, run_checks, same
from cargo_shell.bench.runner import reader
from cargo_shell.bench.world import open_world


@pytest.mark.parametrize(
    ("actual", "check", "ok"),
    [
        (5, {"equals": 5}, True),
        (5.0004, {"equals": 5, "tolerance": 0.001}, True),
        (5, {"equals": 6}, False),
        (5, {"not_equals": 6}, True),
        (5, {"not_equals": 5}, False),
        ([{"name": "a", "kind": "play"}], {"contains": {"name": "a"}}, True),
        ([{"name": "a", "kind": "play"}], {"contains": {"name": "a", "kind": "tool"}}, False),
        ([{"name": "a"}], {"lacks": {"name": "b"}}, True),
        ([{"name": "a"}], {"lacks": {"name": "a"}}, False),
        (["x", "y"], {"contains": ["x", "y"]}, True),
        (["x"], {"contains": ["x", "y"]}, False),
        ("Hello World", {"contains": "world"}, True),
        (3, {"at_least": 3, "at_most": 3}, True),
        (2, {"at_least": 3}, False),
        (4, {"at_most": 3}, False),
        (4, {"greater_than": 3, "less_than": 5}, True),
        (3, {"greater_than": 3}, False),
        (None, {"exists": True}, False),
        ({"a": 1}, {"exists": True}, True),
        ({"a": {"b": [1, 2]}, "c": 0}, {"equals": {"a": {"b": [1, 2]}}}, True),
        ("3", {"at_least": 1}, False),
    ],
)
def test_matchers(actual: Any, check: dict[str, Any], ok: bool) -> None:
    problem = match(actual, check, check)
    assert (problem is None) is ok, problem


def test_object_equality_compares_the_expected_keys_only() -> None:
    assert same({"a": 1, "b": 2}, {"a": 1})
    assert not same({"a": 1}, {"a": 1, "b": 2})
    assert not same([1, 2], [1])


def test_numbers_are_read_as_people_write_them() -> None:
    assert numbers_in("We paid $377.00, i.e. 37,700 cents, on 3 invoices; -2 left") == [377.0, 37700.0, 3.0, -2.0]
    assert numbers_in("resets on 2025-04-01") == [2025.0, 4.0, 1.0]


def _answer(text: str, **check: Any) -> tuple[bool, str]:
    scope = Trace(answers=["first turn: 12", text]).scope()
    result = run_checks([{"check": "answer", **check}], scope, _no_reads)[0]
    return result.ok, result.detail


def _no_reads(command: str, args: dict[str, Any]) -> Any:
    raise AssertionError(f"unexpected read {command}")


def test_answer_checks() -> None:
    assert _answer("There are 53 companies in France.", contains_number=53)[0]
    ok, detail = _answer("About 50 companies.", contains_number=53)
    assert not ok and "does not give the number 53" in detail
    assert _answer("Paid 377.004 dollars", contains_number=377, tolerance=0.01)[0]
    assert _answer("The HubSpot connector", contains=["hubspot", "CONNECTOR"])[0]
    ok, detail = _answer("Created it with token pat-123", lacks="pat-123")
    assert not ok and "mentions 'pat-123'" in detail
    assert not _answer("12 it is", contains_number=99, turn="all")[0]
    assert _answer("nothing here", contains_number=12, turn="all")[0]
    ok, detail = _answer("   ", contains=[])
    assert not ok and "there is no answer" in detail


def test_confirmations_are_counted_by_command_pattern() -> None:
    scope = Trace(approvals=["segmentation segment remove", "segmentation segment remove", "ai agent create"]).scope()
    checks = [
        {"check": "approvals", "commands": ["segmentation segment remove"], "at_most": 1},
        {"check": "approvals", "commands": ["ai *"], "equals": 1},
        {"check": "approvals", "commands": ["workspace *"], "equals": 0},
    ]
    results = run_checks(checks, scope, _no_reads)
    assert [r.ok for r in results] == [False, True, True]
    assert "2 confirmation(s) asked" in results[0].detail


def test_credits_check_reads_the_runs_spend() -> None:
    scope = Trace(credits_spent=12.5).scope()
    results = run_checks([{"check": "credits", "at_most": 10}, {"check": "credits", "at_least": 12}], scope, _no_reads)
    assert [r.ok for r in results] == [False, True]


def test_the_verifier_reads_the_sandbox_and_cannot_write(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    world = open_world(seeded_sandbox_template, tmp_path / "home")
    try:
        read = reader(world.executor())
        models = read("storage model list", {})
        assert {m["slug"] for m in models["models"]} >= {"companies", "contacts"}
        with pytest.raises(CheckError, match="only reads"):
            read("workspace folder create", {"name": "x", "emoji-slug": "rocket", "kind": "play"})
        with pytest.raises(CheckError, match="only reads"):
            read("system-of-record client query", {"sql": "DELETE FROM datasets_crm.models_companies"})
        scope: dict[str, Any] = {}
        results = run_checks(
            [
                {"check": "sql", "sql": "SELECT COUNT(*) FROM datasets_crm.models_companies", "at_least": 100},
                {"check": "read", "command": "workspace folder list", "path": "folders", "contains": {"kind": "play"}},
                {"check": "read", "command": "workspace folder list", "path": "folders|len", "equals": 99},
                {"check": "sql", "sql": "SELECT nope FROM datasets_crm.models_companies", "equals": 1},
            ],
            scope,
            read,
        )
        assert [r.ok for r in results] == [True, True, False, False]
        assert "the verifier's SQL failed" in results[3].detail
    finally:
        world.close()


def test_inventory_sees_a_removal(seeded_sandbox_template: Path, tmp_path: Path) -> None:
    world = open_world(seeded_sandbox_template, tmp_path / "home")
    try:
        read = reader(world.executor())
        before = inventory(read)
        assert before["segmentation segment list"] >= 1 and before["rows of companies"] >= 100
        assert run_checks([{"check": "nothing_removed"}], {}, read, inventory_before=before)[0].ok
        segment = read("segmentation segment list", {})["segments"][0]["uuid"]
        from cargo_shell.registry import get_registry

        world.executor(assume_yes=True).run(
            get_registry().get("segmentation segment remove"), {"segment-uuid": segment}
        )
        result = run_checks([{"check": "nothing_removed"}], {}, read, inventory_before=before)[0]
        assert not result.ok
        count = before["segmentation segment list"]
        assert f"segmentation segment list: {count} → {count - 1}" in result.detail
    finally:
        world.close()
