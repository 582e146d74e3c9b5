"""Input classification and completion (registry words, flags, values, resource names)."""

from __future__ import annotations

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from cargo_shell.registry import get_registry
from cargo_shell.registry.resources import Resource
from cargo_shell.repl.completer import ShellCompleter
from cargo_shell.repl.parse import parse_line
from cargo_shell.repl.resources import Snapshot, collect
from cargo_shell.repl.slash import COMMANDS, find, summaries
from tests.repl.conftest import RunRepl, World


@pytest.mark.parametrize(
    ("text", "kind", "argv"),
    [
        ("storage model list --output table", "direct", ["storage", "model", "list", "--output", "table"]),
        ("!whoami", "direct", ["whoami"]),
        ("! cargo-shell storage model list", "direct", ["storage", "model", "list"]),
        ("cargo-shell whoami", "direct", ["whoami"]),
        ("whoami", "direct", ["whoami"]),
        ("jobs", "direct", ["jobs"]),
        ("config show", "direct", ["config", "show"]),
        ("/save out.cargo", "slash", ["save", "out.cargo"]),
        ("storage is nearly full, why?", "natural", []),
        ("log in to my workspace please", "natural", []),
        ("enrich my hot leads", "natural", []),
        ("   ", "empty", []),
    ],
)
def test_parse_line(text: str, kind: str, argv: list[str]) -> None:
    parsed = parse_line(text, get_registry())
    assert parsed.kind == kind
    assert parsed.argv == argv


def test_unbalanced_quote_is_reported_not_raised() -> None:
    parsed = parse_line("storage model get 'abc", get_registry())
    assert parsed.kind == "direct" and parsed.error and "quotation" in parsed.error


def _complete(completer: ShellCompleter, text: str) -> list[str]:
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]


def test_completion_of_words_flags_and_values() -> None:
    companies = Resource("model", "3843249c-0000-4000-8000-000000000001", "Companies", "model")
    snap = Snapshot(resources={"model": [companies]})
    completer = ShellCompleter(get_registry(), summaries(), snap)
    assert _complete(completer, "/sa") == ["/save"]
    assert "storage" in _complete(completer, "sto")
    assert _complete(completer, "storage mo") == ["model"]
    assert "list" in _complete(completer, "storage model ")
    flags = _complete(completer, "storage column list --")
    assert "--model-uuid" in flags and "--output" in flags
    assert _complete(completer, "storage column list --model-uuid ") == ["3843249c-0000-4000-8000-000000000001"]
    assert _complete(completer, "storage column list --model-uuid comp") == ["3843249c-0000-4000-8000-000000000001"]
    assert _complete(completer, "storage model get ") == ["3843249c-0000-4000-8000-000000000001"]
    assert set(_complete(completer, "storage column list --output ")) == {"json", "table"}
    kinds = _complete(completer, "workspace folder create --kind ")
    assert "play" in kinds and "tool" in kinds
    assert _complete(completer, "enrich my hot leads") == []


def test_a_slash_command_is_declared_once_and_help_completion_and_routing_read_it(run_repl: RunRepl) -> None:
    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names)) and "help" in names and "exit" in names
    completer = ShellCompleter(get_registry(), summaries())
    assert _complete(completer, "/") == ["/" + name for name in names]
    help_text = run_repl("/help\r").text
    for command in COMMANDS:
        assert f"/{command.name}" in help_text and command.summary in help_text
        assert all(find(name) is command for name in (command.name, *command.aliases))
    assert find("quit") is find("exit") and "quit" not in summaries()  # an alias is routed, not offered


def test_resource_snapshot_from_the_sandbox(world: World) -> None:
    snap = collect(world.ctx.executor())
    names = {r.name for r in snap.resources["model"]}
    assert names == {"Companies", "Contacts"}
    workflow_arg = get_registry().get("orchestration batch create").arg("workflow-uuid")
    assert {r.name for r in snap.for_arg(workflow_arg)} >= {"Enrich company"}
    assert snap.workspace_name == "Acme Demo"
    assert snap.credits is not None and snap.credits > 0


def test_workflow_uuid_completes_to_the_workflow_uuid_of_the_tool(world: World) -> None:
    """Picking the tool "Enrich company" for --workflow-uuid inserts its workflowUuid, not its uuid."""
    tools = world.ctx.executor().read("orchestration tool list", {})["tools"]
    enrich = next(t for t in tools if t["name"] == "Enrich company")
    completer = ShellCompleter(get_registry(), summaries(), collect(world.ctx.executor()))
    event = CompleteEvent(completion_requested=True)
    offered = list(completer.get_completions(Document("orchestration batch create --workflow-uuid enrich"), event))
    assert [c.text for c in offered] == [enrich["workflowUuid"]]
    assert offered[0].display_text == "Enrich company" and offered[0].display_meta_text == "tool workflow"
    every = _complete(completer, "orchestration batch create --workflow-uuid ")
    assert enrich["workflowUuid"] in every and enrich["uuid"] not in every
    assert not {t["uuid"] for t in tools} & set(every)


def test_toolbar_credits_go_down_when_a_batch_spends(world: World) -> None:
    """Credits left = the subscription's available minus used (extra top-up credits shown apart)."""
    from cargo_shell.render.toolbar import ToolbarState, toolbar_text

    executor = world.ctx.make_executor(sleep=world.clock.sleep)  # the sandbox runs on the fake clock: polls move it
    sub = executor.read("billing subscription get", {})["subscription"]
    before = collect(executor)
    expected = sub["subscriptionAvailableCreditsCount"] - sub["subscriptionCreditsUsedCount"]
    assert before.credits == expected
    assert before.extra_credits == sub["additionalAvailableCreditsCount"]
    workflow = next(t for t in executor.read("orchestration tool list", {})["tools"] if t["name"] == "Enrich company")
    spec = get_registry().get("orchestration batch create")
    data = {"kind": "records", "records": [{"domain": "acme.com"}, {"domain": "globex.com"}]}
    executor.policy.assume_yes = True
    outcome = executor.run(spec, {"workflow-uuid": workflow["workflowUuid"], "data": data}, wait=True)
    spent = outcome.data["batch"]["creditsUsedCount"]
    assert spent > 0
    after = collect(executor)
    assert after.credits == before.credits - spent
    text = toolbar_text(ToolbarState(credits=after.credits, extra_credits=after.extra_credits))
    assert f"credits {after.credits:,.0f} left" in text and "+500 extra" in text


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("storage modle list", "storage model list"),
        ("strage model list --output table", "storage model list --output table"),
        ("orchestration tool lsit", "orchestration tool list"),
        ("storage modle", "storage model"),
        ("whoamii", "whoami"),
        ("jbos", "jobs"),
    ],
)
def test_a_command_with_a_typo_is_caught_not_sent_to_the_model(text: str, suggestion: str) -> None:
    parsed = parse_line(text, get_registry())
    assert parsed.kind == "direct"
    assert parsed.suggestion == suggestion


@pytest.mark.parametrize(
    "text",
    ["storage models are too many, can you clean up?", "logs of yesterday please", "who am i", "ai agents for sales"],
)
def test_questions_that_start_like_commands_still_go_to_the_model(text: str) -> None:
    parsed = parse_line(text, get_registry())
    assert parsed.kind == "natural" and parsed.suggestion is None
