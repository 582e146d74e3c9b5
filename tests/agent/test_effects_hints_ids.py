"""Through the real loop, executor and sandbox: a model's call is judged by what its arguments do,
a guard's whole hint reaches the model, and every call is keyed by an id of its own."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cargo_shell.agent import events as ev
from cargo_shell.agent.model import Message, ToolCall
from cargo_shell.agent.tools import build_tool_schemas
from cargo_shell.executor import Approval, Executor
from cargo_shell.executor.plan import Plan
from tests.agent.conftest import MakeAgent
from tests.agent.fakes import call, calls, last_result, say, tool_results

COMPANIES = "3843249c-53a1-41ae-9fd2-7861bb274742"
PLAY_WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"
ALL = {"conjonction": "and", "groups": []}
TABLE = "datasets_crm.models_companies"
FOLDER = {"name": "Q3 plays", "emoji-slug": "rocket", "kind": "play"}


def _count(executor: Executor) -> int:
    rows = executor.read("system-of-record client query", {"sql": f"SELECT count(*) AS n FROM {TABLE}"})["rows"]
    return int(rows[0]["n"])


def _folders(executor: Executor) -> list[str]:
    return [f["name"] for f in executor.read("workspace folder list", {})["folders"]]


def assert_history_valid(messages: list[Message]) -> None:
    """Each assistant tool call has exactly one tool result right after it, and ids are unique."""
    ids: list[str] = []
    for i, message in enumerate(messages):
        if message.get("role") != "assistant" or not message.get("tool_calls"):
            continue
        wanted = [part["id"] for part in message["tool_calls"]]
        assert all(wanted) and len(set(wanted)) == len(wanted), wanted
        ids += wanted
        results = []
        for after in messages[i + 1 :]:
            if after.get("role") != "tool":
                break
            results.append(after["tool_call_id"])
        assert sorted(results) == sorted(wanted), (wanted, results)
    assert len(set(ids)) == len(ids), ids


# -- §2: the effect of a call depends on its arguments --------------------------------------------------


def test_the_tool_index_marks_arguments_that_raise_the_effect() -> None:
    text = json.dumps(build_tool_schemas())
    assert "fetch(model-uuid, filter)[$ if enrich=true|sync=true]" in text
    assert "query(sql)[! if sql not read-only]" in text


def test_a_fetch_that_enriches_asks_the_person_and_says_why(make_agent: MakeAgent) -> None:
    plain = {"model-uuid": COMPANIES, "filter": ALL, "fetching-limit": 3}
    h = make_agent(
        [
            calls(
                call("orchestration", "segmentation segment fetch", plain),
                call("orchestration", "segmentation segment fetch", {**plain, "enrich": True}),
            ),
            lambda msgs: say(" / ".join(r["status"] for r in tool_results(msgs))),
        ],
        answers=["no"],
    )
    answer = h.agent.ask("Show three companies, enriched")
    assert answer.text == "ok / declined"
    planned = h.of(ev.ToolCallPlanned)
    assert [p.effect for p in planned] == ["read", "cost"]
    assert planned[0].effect_reasons == () and planned[1].effect_reasons[0].startswith("--enrich is true")
    [asked] = h.of(ev.ConfirmationAsked)
    assert asked.effect == "cost" and "cost because --enrich is true" in asked.plan_text
    [plan] = h.person.asked
    assert plan.values.get("enrich") is True


def test_sql_from_the_model_that_deletes_is_destructive_and_asks(make_agent: MakeAgent, executor: Executor) -> None:
    h = make_agent(
        [
            calls(
                call("orchestration", "system-of-record client query", {"sql": f"SELECT count(*) AS n FROM {TABLE}"}),
                call("orchestration", "system-of-record client query", {"sql": f"DELETE FROM {TABLE}"}),
            ),
            lambda msgs: say(" / ".join(r["status"] for r in tool_results(msgs))),
        ],
        answers=["no"],
    )
    assert h.agent.ask("Count the companies, then empty the table").text == "ok / declined"
    assert [p.effect for p in h.of(ev.ToolCallPlanned)] == ["read", "destructive"]
    [plan] = h.person.asked
    assert plan.effect == "destructive" and "is a DELETE statement" in plan.effect_reasons[0]
    assert _count(executor) == 500


# -- §5: guard hints reach the model -------------------------------------------------------------------


def test_a_guards_hint_reaches_the_model_with_the_command_to_use(make_agent: MakeAgent) -> None:
    def follow(msgs: list[Message]) -> list[Any]:
        refused = last_result(msgs)
        assert refused["status"] == "invalid_arguments" and "Start a batch instead" in refused["message"]
        assert refused["hint"].startswith(f"cargo-shell orchestration batch create --workflow-uuid {PLAY_WF} --data ")
        return say("Use: " + refused["hint"])

    h = make_agent(
        [calls(call("orchestration", "orchestration run create", {"workflow-uuid": PLAY_WF, "data": {}})), follow]
    )
    answer = h.agent.ask("Run the scoring play on one record")
    assert "orchestration batch create" in answer.text
    [result] = h.results()
    assert result.status == "invalid" and "hint" in json.loads(result.model_view)


def test_refusal_hints_for_the_person_do_not_reach_the_model(make_agent: MakeAgent) -> None:
    """'Re-run with --yes' is the person's to decide; the model only hears that it was not run."""

    class Nobody:
        def confirm(self, plan: Plan) -> Approval:
            from cargo_shell.errors import ApprovalRequired

            raise ApprovalRequired("nobody can be asked", plan=plan.to_json(), hint="Re-run with --yes to approve.")

    h = make_agent([calls(call("workspace", "workspace folder create", FOLDER)), say("Not created.")])
    h.agent.confirmer = Nobody()
    h.agent.ask("Make a folder")
    payload = json.loads(h.results()[0].model_view)
    assert payload["status"] == "not_run" and "hint" not in payload and "--yes" not in h.results()[0].model_view
    [answered] = h.of(ev.ConfirmationAnswered)
    assert answered.decision == "approval_required" and answered.call_id == h.results()[0].call_id


# -- §5: every call is keyed by its own id ---------------------------------------------------------------


def test_an_id_reused_in_a_later_reply_shows_and_runs_its_own_command(
    make_agent: MakeAgent, executor: Executor
) -> None:
    reused = "call_abc"
    h = make_agent(
        [
            [ToolCall(reused, "orchestration", json.dumps({"command": "segmentation segment list"}))],
            [ToolCall(reused, "workspace", json.dumps({"command": "workspace folder create", "args": FOLDER}))],
            say("Listed, then created."),
        ],
        answers=["yes"],
    )
    h.agent.ask("List segments, then make a folder")
    planned = h.of(ev.ToolCallPlanned)
    assert [p.command for p in planned] == ["segmentation segment list", "workspace folder create"]
    assert planned[1].command_line.startswith("cargo-shell workspace folder create --name 'Q3 plays'")
    assert planned[1].effect == "write"
    [asked] = h.of(ev.ConfirmationAsked)
    assert asked.command == "workspace folder create" and "Q3 plays" in asked.plan_text
    assert asked.call_id == planned[1].call_id != planned[0].call_id
    assert [r.call_id for r in h.results()] == [p.call_id for p in planned]
    assert "Q3 plays" in _folders(executor)
    assert_history_valid(h.model.requests[-1].messages)


@pytest.mark.parametrize("ids", [("", ""), ("same", "same")], ids=["empty", "duplicate"])
def test_calls_without_distinct_ids_in_one_reply_are_kept_apart(
    make_agent: MakeAgent, executor: Executor, ids: tuple[str, str]
) -> None:
    h = make_agent(
        [
            [
                ToolCall(ids[0], "workspace", json.dumps({"command": "workspace folder list"})),
                ToolCall(ids[1], "workspace", json.dumps({"command": "workspace folder create", "args": FOLDER})),
            ],
            lambda msgs: say(" / ".join(r["status"] for r in tool_results(msgs))),
        ],
        answers=["no"],
    )
    assert h.agent.ask("List folders and make one").text == "ok / declined"
    planned = h.of(ev.ToolCallPlanned)
    keys = [p.call_id for p in planned]
    assert all(keys) and len(set(keys)) == 2
    [asked] = h.of(ev.ConfirmationAsked)
    assert asked.call_id == keys[1] and asked.command == "workspace folder create"
    assert {r.call_id: r.status for r in h.results()} == {keys[0]: "ok", keys[1]: "declined"}
    assert "Q3 plays" not in _folders(executor)
    assert_history_valid(h.model.requests[-1].messages)


def test_a_stopped_turn_closes_the_call_that_reused_an_earlier_id(make_agent: MakeAgent) -> None:
    """The pending call must get its 'not run' result even though an earlier call had its id."""

    class StopsTheTurn:
        def confirm(self, plan: Plan) -> Approval:
            raise KeyboardInterrupt

    h = make_agent(
        [
            [ToolCall("x", "workspace", json.dumps({"command": "workspace folder list"}))],
            [ToolCall("x", "workspace", json.dumps({"command": "workspace folder create", "args": FOLDER}))],
        ]
    )
    h.agent.confirmer = StopsTheTurn()
    with pytest.raises(KeyboardInterrupt):
        h.agent.ask("List folders and make one")
    messages = h.agent.conversation.messages
    assert_history_valid(messages)
    assert json.loads(messages[-1]["content"])["status"] == "not_run"
