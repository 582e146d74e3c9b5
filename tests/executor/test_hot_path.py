"""The read path: per-call event sinks, plan texts built on demand, one audit line, bodies never alias params."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cargo_shell.api.request import build_request
from cargo_shell.errors import UsageError
from cargo_shell.executor import Notice, RequestSent
from cargo_shell.executor.plan import Plan, arg_values, command_line, given_values
from cargo_shell.registry import get_registry
from cargo_shell.registry.spec_load import spec_from_dict

from .conftest import MakeExecutor

BATCH = "520c8456-5b2b-40a5-b71f-720ec32b15aa"
reg = get_registry()


def test_events_go_to_the_per_call_sink_and_the_executors_own(make_executor: MakeExecutor) -> None:
    own: list[Any] = []
    mine: list[Any] = []
    executor = make_executor(events=own.append)
    executor.run(reg.get("orchestration batch get"), {"batch-uuid": BATCH}, events=mine.append)
    assert [type(e) for e in mine] == [RequestSent] and own == mine
    executor.run(reg.get("workspace folder list"), {})
    assert len(mine) == 1 and len(own) == 2  # the per-call sink is gone after its call


def test_per_call_sink_is_removed_when_the_call_fails(make_executor: MakeExecutor) -> None:
    mine: list[Any] = []
    executor = make_executor()
    with pytest.raises(UsageError):
        executor.run(reg.get("orchestration batch get"), {"batch-uuid": "nope"}, events=mine.append)
    with executor.events_to(mine.append):
        executor.emit(Notice("inside"))
    executor.emit(Notice("outside"))
    assert [e.message for e in mine] == ["inside"]


def test_a_reads_plan_still_shows_its_command_line_and_masked_request(make_executor: MakeExecutor) -> None:
    outcome = make_executor().run(reg.get("orchestration batch get"), {"batch-uuid": BATCH})
    plan = outcome.plan
    assert plan is not None and outcome.data["batch"]["uuid"] == BATCH
    assert plan.command_line == f"cargo-shell orchestration batch get {BATCH}"
    assert plan.request == {"method": "GET", "path": f"/v1/orchestration/batches/{BATCH}"}
    assert plan.to_json()["arguments"] == {"batch-uuid": BATCH}
    assert repr(plan) == f"Plan('orchestration batch get', 'cargo-shell orchestration batch get {BATCH}')"


def test_each_read_writes_one_audit_line_with_its_request_id(make_executor: MakeExecutor, tmp_path: Path) -> None:
    executor = make_executor()
    outcome = executor.run(reg.get("orchestration batch get"), {"batch-uuid": BATCH})
    executor.run(reg.get("workspace folder list"), {})
    lines = [json.loads(t) for t in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [line["command"] for line in lines] == ["orchestration batch get", "workspace folder list"]
    assert lines[0]["requestIds"] == outcome.request_ids and outcome.request_ids[0].startswith("req_")
    assert lines[0]["arguments"] == {"batch-uuid": BATCH} and lines[0]["approval"] == "default"
    assert list(lines[0]) == [
        "time", "profile", "workspaceUuid", "frontEnd", "command", "effect", "actionId", "phase",
        "arguments", "decision", "decidedBy", "approval", "requestIds", "jobIds", "outcome", "credits",
    ]  # fmt: skip
    assert lines[0]["phase"] == "outcome" and lines[0]["decision"] == "approved"
    assert lines[0]["actionId"] != lines[1]["actionId"]


def test_explicit_plan_texts_are_kept() -> None:
    spec = reg.get("workspace folder list")
    params = spec.params_model.model_validate({})
    assert Plan(spec, params, "given line", None).command_line == "given line"
    assert Plan(spec, params, request=None).request is None
    assert Plan(spec, params).command_line == command_line(spec, {})


AGENT = {
    "command": "t icon set",
    "skill": "ai",
    "summary": "test",
    "effect": "write",
    "http": {"method": "POST", "path": "/v1/t/{uuid}", "params_in": "json"},
    "args": [
        {"name": "uuid", "type": "string", "in": "path", "positional": True, "required": True},
        {"name": "icon", "type": "json"},
        {"name": "icon-face", "type": "string", "field": "icon.face"},
    ],
}


def test_bodies_are_built_from_copies_of_the_values() -> None:
    spec = spec_from_dict(AGENT)
    params = spec.params_model.model_validate({"uuid": "a b", "icon": {"color": "red"}, "icon-face": "smile"})
    values = given_values(spec, params)
    req = build_request(spec, params, values=values)
    assert req.path == "/v1/t/a%20b" and req.json == {"icon": {"color": "red", "face": "smile"}}
    assert values["icon"] == {"color": "red"} and arg_values(spec, params)["icon"] == {"color": "red"}
    assert build_request(spec, params).json == req.json
