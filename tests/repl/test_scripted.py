"""Scripted use: -p exit statuses and JSON events (real OpenAI adapter against a local stub
server), `run FILE`, and replay of a saved session on a fresh sandbox."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cargo_shell import cli
from cargo_shell.repl.scripted import replay_script
from tests.repl.conftest import FakeClock, RunRepl, World, make_world
from tests.repl.stub_llm import Reply, StubLLM, tool

FOLDER = {"name": "Q3 plays", "emoji-slug": "rocket", "kind": "play"}


def _world_with_model(tmp_path: Path, seeded: Path, stub: StubLLM) -> World:
    data_dir = tmp_path / "sandbox-p"
    shutil.copytree(seeded, data_dir)
    llm = {
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": "sk-test-not-real",
        "CARGO_SHELL_MODEL": "gpt-4o-mini",
    }
    return make_world(data_dir, FakeClock(), llm)


def _events(world: World) -> list[dict[str, Any]]:
    return [json.loads(line) for line in world.out.getvalue().splitlines() if line.strip()]


def _prompt(world: World, *argv: str) -> int:
    try:
        return cli.dispatch(world.ctx, list(argv))
    finally:
        world.ctx.close()


def test_p_read_only_request_exits_0_with_json_events(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    steps = [Reply(tool_calls=[tool("storage", "storage model list")]), Reply("You have two models.")]
    with StubLLM(steps) as stub:
        world = _world_with_model(tmp_path, seeded_sandbox_template, stub)
        status = _prompt(world, "-p", "which models do I have?", "--output", "json")
    events = _events(world)
    assert status == 0
    types = [e["type"] for e in events]
    assert types[0] == "tool_call" and "result" in types and types[-2:] == ["assistant", "final"]
    assert events[-2]["text"] == "You have two models."
    assert events[-1]["exitStatus"] == 0 and events[-1]["usage"]["calls"] == 2
    result = next(e for e in events if e["type"] == "result")
    assert {m["name"] for m in result["data"]["models"]} == {"Companies", "Contacts"}


def test_p_write_without_a_terminal_needs_approval_exit_3(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    steps = [
        Reply(tool_calls=[tool("workspace", "workspace folder create", FOLDER)]),
        Reply("I could not create it: it needs your approval."),
    ]
    with StubLLM(steps) as stub:
        world = _world_with_model(tmp_path, seeded_sandbox_template, stub)
        status = _prompt(world, "-p", "create a play folder Q3 plays", "--output", "json")
        folders = world.ctx.executor().read("workspace folder list", {})["folders"]
    assert status == 3
    decisions = [e for e in _events(world) if e["type"] == "decision"]
    assert decisions and decisions[0]["decision"] == "approval_required"
    assert "Q3 plays" not in {f["name"] for f in folders}


def test_p_with_yes_runs_the_write_exit_0(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    steps = [Reply(tool_calls=[tool("workspace", "workspace folder create", FOLDER)]), Reply("Created.")]
    with StubLLM(steps) as stub:
        world = _world_with_model(tmp_path, seeded_sandbox_template, stub)
        status = _prompt(world, "-p", "create a play folder Q3 plays", "--yes")
        folders = world.ctx.executor().read("workspace folder list", {})["folders"]
    assert status == 0
    assert "Q3 plays" in {f["name"] for f in folders}
    assert "Created." in world.out.getvalue()


def test_p_failed_action_exits_1(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    steps = [
        Reply(tool_calls=[tool("orchestration", "segmentation segment get", {"segment-uuid": missing})]),
        Reply("That segment does not exist."),
    ]
    with StubLLM(steps) as stub:
        world = _world_with_model(tmp_path, seeded_sandbox_template, stub)
        status = _prompt(world, "-p", "show segment 0000", "--output", "json")
    assert status == 1
    assert any(e["type"] == "result" and e["status"] == "api_error" for e in _events(world))


def test_p_without_a_model_is_a_clear_error(world: World) -> None:
    from cargo_shell.errors import ConfigError

    with pytest.raises(ConfigError, match="No language model"):
        cli.dispatch(world.ctx, ["-p", "hello"])


def test_run_file_keeps_one_conversation_and_resume_continues(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# two questions\nhow many models?\n\nand users?\n")
    seen: list[int] = []

    def count_history(messages: list[dict[str, Any]]) -> Reply:
        seen.append(len([m for m in messages if m["role"] == "user"]))
        return Reply("ok")

    with StubLLM([count_history, count_history, count_history]) as stub:
        world = _world_with_model(tmp_path, seeded_sandbox_template, stub)
        assert _prompt(world, "run", str(prompts)) == 0
        assert _prompt(world, "--resume", "-p", "and a third?") == 0
    assert seen == [1, 2, 3]


def test_saved_session_replays_to_the_same_state(
    run_repl: RunRepl, world: World, tmp_path: Path, seeded_sandbox_template: Path
) -> None:
    tools = world.ctx.executor().read("orchestration tool list", {})["tools"]
    workflow = next(t for t in tools if t["name"] == "Enrich company")["workflowUuid"]
    data = json.dumps({"kind": "records", "records": [{"domain": "acme.com", "name": "Acme"}]})
    script = tmp_path / "session.cargo"
    keys = (
        "workspace folder create --name 'Q3 plays' --emoji-slug rocket --kind play\ry\r"
        f"orchestration batch create --workflow-uuid {workflow} --data '{data}'\ry\r"
        "workspace folder list\r"
        f"/save {script}\r"
    )
    run_repl(keys)
    assert "#> created" in script.read_text()

    def state(w: World) -> dict[str, Any]:
        ex = w.ctx.executor()
        batches = ex.read("orchestration batch list", {})["batches"]
        folders = ex.read("workspace folder list", {})["folders"]
        keep = ("workflowUuid", "status", "runsCount", "executedRunsCount", "failedRunsCount")
        return {
            "batches": sorted(json.dumps({k: b.get(k) for k in keep}) for b in batches),
            "folders": sorted((f["name"], f["kind"]) for f in folders),
        }

    fresh_dir = tmp_path / "fresh"
    shutil.copytree(seeded_sandbox_template, fresh_dir)
    fresh = make_world(fresh_dir, FakeClock())
    screen = io.StringIO()
    console = Console(file=screen, width=120, no_color=True)
    executor = fresh.ctx.make_executor(front_end="replay", assume_yes=True, sleep=fresh.clock.sleep)
    assert replay_script(fresh.ctx, script, console=console, executor=executor) == 0
    assert state(fresh) == state(world)

    # without --yes and without a terminal, the first write stops the replay with exit 3
    again = make_world(tmp_path / "again", FakeClock())
    strict = again.ctx.make_executor(front_end="replay")
    assert replay_script(again.ctx, script, console=console, executor=strict) == 3
    dry = again.ctx.make_executor(front_end="replay")
    assert replay_script(again.ctx, script, console=console, executor=dry, dry_run=True) == 0
    assert "Dry run: 3 command(s) planned" in screen.getvalue()
    for w in (fresh, again):
        w.ctx.close()
        w.box.close()
