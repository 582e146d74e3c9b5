"""Every decision is one audit line saying who decided: approved (user, rule, flag, default), declined,
denied by a rule, refused because nobody could be asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cargo_shell.errors import ApprovalRequired, Declined
from cargo_shell.executor import Approval, Policy, Rule
from cargo_shell.registry import get_registry
from tests.helpers import run_cli

from .conftest import Answers, MakeExecutor

CREATE = get_registry().get("workspace folder create")
LIST = get_registry().get("workspace folder list")
FOLDER = {"name": "Audit me", "emoji-slug": "rocket", "kind": "play"}


def _lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(t) for t in path.read_text().splitlines()] if path.exists() else []


def test_declined_by_the_user(make_executor: MakeExecutor, tmp_path: Path) -> None:
    with pytest.raises(Declined):
        make_executor(confirmer=Answers(Approval("no"))).run(CREATE, FOLDER)
    [line] = _lines(tmp_path)
    assert line["phase"] == "decision" and line["decision"] == "declined" and line["decidedBy"] == "user"
    assert line["outcome"] == "not-run" and line["arguments"]["name"] == "Audit me" and line["approval"] is None


def test_denied_by_a_rule_even_with_yes(make_executor: MakeExecutor, tmp_path: Path) -> None:
    policy = Policy([Rule(7, "deny", "workspace folder *")], assume_yes=True)
    executor = make_executor(policy=policy)
    with pytest.raises(Declined):
        executor.run(CREATE, FOLDER)
    with pytest.raises(Declined):
        executor.run(LIST, {})  # a read denied by a rule is a decision too
    create, read = _lines(tmp_path)
    assert (create["decision"], create["decidedBy"], create["ruleId"]) == ("denied", "rule", 7)
    assert (read["decision"], read["decidedBy"], read["command"]) == ("denied", "rule", "workspace folder list")
    assert "denied by policy rule #7" in create["error"]


def test_refused_when_nobody_can_be_asked(make_executor: MakeExecutor, tmp_path: Path) -> None:
    with pytest.raises(ApprovalRequired):
        make_executor().run(CREATE, FOLDER)
    [line] = _lines(tmp_path)
    assert line["decision"] == "refused" and line["decidedBy"] == "policy" and "nobody can be asked" in line["error"]


@pytest.mark.parametrize(
    ("options", "who", "rule_id"),
    [
        ({"policy": Policy(assume_yes=True)}, "flag", None),
        ({"policy": Policy([Rule(3, "allow", "workspace folder create")])}, "rule", 3),
        ({"confirmer": Answers(Approval("yes"))}, "user", None),
        ({"confirmer": Answers(Approval("always"))}, "user", None),
    ],
)
def test_approved_and_by_whom(
    make_executor: MakeExecutor, tmp_path: Path, options: dict[str, Any], who: str, rule_id: int | None
) -> None:
    make_executor(**options).run(CREATE, FOLDER)
    sent, done = _lines(tmp_path)
    assert sent["phase"] == "sent" and sent["decision"] == "approved" and sent["decidedBy"] == who
    assert sent.get("ruleId") == rule_id and done["outcome"] == "ok" and done["actionId"] == sent["actionId"]


def test_reads_are_approved_by_default_in_their_one_line(make_executor: MakeExecutor, tmp_path: Path) -> None:
    make_executor().run(LIST, {})
    [line] = _lines(tmp_path)
    assert (line["phase"], line["decision"], line["decidedBy"], line["outcome"]) == (
        "outcome", "approved", "default", "ok",
    )  # fmt: skip


def test_the_log_command_shows_one_entry_per_decision() -> None:
    run_cli("workspace", "folder", "create", "--name", "X", "--emoji-slug", "rocket", "--kind", "play")
    run_cli("--yes", "workspace", "folder", "create", "--name", "Y", "--emoji-slug", "rocket", "--kind", "play")
    entries = run_cli("log").json["entries"]
    refused, approved = entries[-2:]
    assert (refused["decision"], refused["decidedBy"], refused["outcome"]) == ("refused", "policy", "not-run")
    assert (approved["decision"], approved["decidedBy"], approved["outcome"]) == ("approved", "flag", "ok")
    assert approved["phases"] == ["sent", "outcome"] and approved["requestIds"]
    lines = run_cli("log", "--lines").json["entries"]
    assert [line["phase"] for line in lines[-3:]] == ["decision", "sent", "outcome"]
