"""The shell object driven through a prompt_toolkit pipe, on the real sandbox and executor."""

from __future__ import annotations

import json
from typing import Any

from cargo_shell.agent import events as ev
from cargo_shell.executor import JobStore
from tests.agent.fakes import ScriptedModel, call, calls, last_result, say
from tests.repl.conftest import RunRepl, World

ENRICH_RECORDS = [{"domain": "acme.com", "name": "Acme"}, {"domain": "globex.com", "name": "Globex"}]


def test_direct_command_renders_a_table_with_names_first(run_repl: RunRepl) -> None:
    driven = run_repl("storage model list\r")
    lines = driven.text.splitlines()
    header = next(line for line in lines if "name" in line and "uuid" in line)
    assert header.index("name") < header.index("uuid")
    assert "Companies" in driven.text and "Contacts" in driven.text
    assert driven.repl.transcript.commands == [["storage", "model", "list"]]


def test_direct_command_errors_are_one_line_with_a_fix(run_repl: RunRepl) -> None:
    driven = run_repl("storage model get not-a-uuid\r!storage modle list\r")
    errors = [line for line in driven.text.splitlines() if line.startswith("✗")]
    assert len(errors) == 2
    assert "expected a UUID" in errors[0]
    assert "Did you mean model" in errors[1]
    assert driven.repl.transcript.commands == []


def test_slash_commands(run_repl: RunRepl, world: World, tmp_path: Any) -> None:
    script = tmp_path / "s.cargo"
    driven = run_repl(f"/help\r/skills\rwhoami\r/history\r/save {script}\r/cost\r/nope\r/exit\rstorage model list\r")
    text = driven.text
    assert "/replay" in text and "orchestration" in text
    assert "Did you mean" in text or "Type /help" in text
    assert "No model calls" in text
    assert script.read_text().splitlines()[1:] == ["cargo-shell whoami"]
    # /exit stops the loop: the command typed after it never ran
    assert driven.repl.transcript.commands == [["whoami"]]


def test_natural_language_without_a_model_explains_how_to_configure(run_repl: RunRepl) -> None:
    driven = run_repl("which models do I have?\r")
    assert "No language model is configured" in driven.text
    assert "OPENAI_API_KEY" in driven.text and "11434" in driven.text


def _enrich_script(tool_name: str = "Enrich company") -> list[Any]:
    found: dict[str, Any] = {}

    def start(msgs: list[Any]) -> list[Any]:
        tools = last_result(msgs)["result"]["tools"]
        found["tool"] = next(t for t in tools if t["name"] == tool_name)
        args = {
            "workflow-uuid": found["tool"]["workflowUuid"],
            "data": {"kind": "records", "records": ENRICH_RECORDS},
        }
        return calls(call("orchestration", "orchestration batch create", args))

    def after_no(msgs: list[Any]) -> list[Any]:
        assert last_result(msgs)["status"] == "declined"
        return start_again(msgs)

    def start_again(msgs: list[Any]) -> list[Any]:
        args = {
            "workflow-uuid": found["tool"]["workflowUuid"],
            "data": {"kind": "records", "records": ENRICH_RECORDS},
        }
        return calls(call("orchestration", "orchestration batch create", args))

    def report(msgs: list[Any]) -> list[Any]:
        batch = last_result(msgs)["result"]["batch"]
        return say(f"Enriched **{batch['runsCount']}** companies, status {batch['status']}.")

    return [calls(call("orchestration", "orchestration tool list")), start, after_no, report]


def test_natural_language_runs_a_batch_after_no_then_yes(run_repl: RunRepl, world: World, tmp_path: Any) -> None:
    model = ScriptedModel(_enrich_script())
    script = tmp_path / "session.cargo"
    keys = "enrich acme and globex with the Enrich company tool\rn\ry\r" + f"/save {script}\r/cost\r"
    driven = run_repl(keys, model=model)
    model.assert_done()
    text = driven.text
    assert text.count("Approve this action?") == 2
    assert "spends credits" in text
    assert "Enriched 2 companies, status success." in text or "Enriched **2** companies" in text
    assert "batch" in text and "2/2 runs" in text
    assert "model call(s)" in text
    lines = script.read_text().splitlines()
    assert lines[1] == "cargo-shell orchestration tool list"
    assert lines[2].startswith("cargo-shell orchestration batch create --workflow-uuid ")
    assert lines[3].startswith("#> created ")
    jobs = JobStore(world.ctx.env.paths.jobs_db).list()
    assert [(j.kind, j.status) for j in jobs] == [("batch", "success")]


def test_ctrl_c_while_following_a_job_offers_to_cancel_it(run_repl: RunRepl, world: World) -> None:
    tools = world.ctx.executor().read("orchestration tool list", {})["tools"]
    workflow = next(t for t in tools if t["name"] == "Enrich company")["workflowUuid"]
    data = json.dumps({"kind": "records", "records": ENRICH_RECORDS})
    presses = {"n": 0}

    def interrupting_sleep(seconds: float) -> None:
        presses["n"] += 1
        if presses["n"] == 1:
            raise KeyboardInterrupt
        world.clock.sleep(seconds)

    line = f"orchestration batch create --workflow-uuid {workflow} --data '{data}'\r"
    driven = run_repl(line + "y\rc\r", sleep=interrupting_sleep)
    assert "cancel requested for batch" in driven.text
    batch = world.ctx.executor().read("orchestration batch list", {})["batches"][0]
    assert batch["status"] in ("cancelled", "cancelling")
    [job] = JobStore(world.ctx.env.paths.jobs_db).list()
    assert job.status in ("cancelled", "cancelling")


def test_agent_events_reach_the_hook(run_repl: RunRepl, world: World) -> None:
    model = ScriptedModel([calls(call("storage", "storage model list")), say("You have 2 models.")])
    events: list[Any] = []
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from cargo_shell.repl.app import Repl

    with create_pipe_input() as pipe:
        pipe.send_text("what models do I have\r\x04")
        repl = Repl(world.ctx, input=pipe, output=DummyOutput(), model=model, refresh=False)
        repl.event_hook = events.append
        repl.run()
    kinds = {type(e).__name__ for e in events}
    assert {"ToolCallPlanned", "ToolResult", "Final"} <= kinds
    assert any(isinstance(e, ev.ToolResult) and e.status == "ok" for e in events)


def test_continued_lines_history_and_edit_before_approving(run_repl: RunRepl, world: World) -> None:
    create = "workspace folder create --name Drafts --emoji-slug rocket --kind play"
    edited = "workspace folder create --name 'Edited name' --emoji-slug rocket --kind play"
    keys = "storage model \\\rlist\r" + f"{create}\re\r\x15{edited}\ry\r"
    driven = run_repl(keys)
    assert driven.repl.transcript.commands[0] == ["storage", "model", "list"]
    names = {f["name"] for f in world.ctx.executor().read("workspace folder list", {})["folders"]}
    assert "Edited name" in names and "Drafts" not in names
    assert driven.text.count("Approve this action?") == 2  # re-planned after the edit, asked again
    history = world.ctx.env.paths.history_file.read_text()
    assert "+storage model \n+list\n" in history  # the continued line is kept as one entry
    assert create in history


def test_model_and_profile_slash_commands(run_repl: RunRepl, world: World) -> None:
    driven = run_repl("/model gpt-4.1-mini --save\r/profile\r/profile nope\r/policy\r")
    settings = world.ctx.store.profile(world.ctx.store.current_profile())["settings"]
    assert settings["model"] == "gpt-4.1-mini"
    assert "profile default: cloud" in driven.text
    assert "No profile named 'nope'" in driven.text
    assert "ask first" in driven.text


def test_line_mode_and_resume(world: World) -> None:
    import io

    from cargo_shell.shell_entry import open_shell

    world.ctx.env.stdin = io.StringIO("whoami\nstorage model list\n")
    assert open_shell(world.ctx, []) == 0
    world.ctx.env.stdin = io.StringIO("/history\n")
    assert open_shell(world.ctx, ["--resume"]) == 0
    out = world.out.getvalue()
    assert "Resumed conversation" in out and "(2 inputs, 2 commands)" in out
    assert "cargo-shell storage model list" in out.split("Resumed conversation")[1]


def test_a_partial_failure_is_reported_once(run_repl: RunRepl, world: World) -> None:
    tools = world.ctx.executor().read("orchestration tool list", {})["tools"]
    workflow = next(t for t in tools if t["name"] == "Enrich company")["workflowUuid"]
    records = [{"domain": "acme.com"}, {"name": "no domain at all"}]
    data = json.dumps({"kind": "records", "records": records})
    driven = run_repl(f"orchestration batch create --workflow-uuid {workflow} --data '{data}'\ry\r")
    assert driven.text.count("ended success but 1 of 2 run(s) failed") == 1, driven.text


def test_a_mistyped_command_gets_did_you_mean_not_the_model(run_repl: RunRepl) -> None:
    model = ScriptedModel([])  # any call to the model fails the test
    driven = run_repl("storage modle list\r", model=model)
    model.assert_done()
    assert "Did you mean `storage model list`?" in driven.text
    assert driven.repl.transcript.commands == []


def test_slash_model_sets_the_model_for_the_session(run_repl: RunRepl, world: World) -> None:
    from tests.repl.stub_llm import Reply, StubLLM

    with StubLLM([Reply("Hello from the stub.")]) as stub:
        world.ctx.env.environ.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-test")
        driven = run_repl("/model\r/model gpt-4o\r/model\rsay hello\r")
        assert stub.leftover == 0
    assert [r["model"] for r in stub.requests] == ["gpt-4o"]
    text = driven.text
    assert "model: gpt-4o-mini (the default)" in text
    assert "model: gpt-4o (set with /model for this session)" in text
    assert "/model gpt-4o --save" in text and "CARGO_SHELL_MODEL=gpt-4o" in text
    assert driven.repl.state.model == "gpt-4o"
    assert "Hello from the stub." in text
    profile = world.ctx.store.profile(world.ctx.resolved().profile)
    assert (profile.get("settings") or {}).get("model") is None  # not saved unless asked


def test_slash_model_save_keeps_it_in_the_profile(run_repl: RunRepl, world: World) -> None:
    driven = run_repl("/model llama3.1 --save\r/model\r")
    profile = world.ctx.store.profile(world.ctx.resolved().profile)
    assert profile["settings"]["model"] == "llama3.1"
    assert "model: llama3.1 (profile" in driven.text
    assert "no language model is configured" in driven.text.lower()  # and says what is still missing


def _score_workflow(world: World) -> str:
    tools = world.ctx.executor().read("orchestration tool list", {})["tools"]
    return str(next(t for t in tools if t["name"] == "Score lead")["workflowUuid"])


def test_cancel_summary_reports_the_counts_the_api_gives(run_repl: RunRepl, world: World) -> None:
    records = [{"domain": f"company{i}.example", "employees": i} for i in range(49)]
    data = json.dumps({"kind": "records", "records": records})
    sleeps = {"n": 0}

    def interrupting_sleep(seconds: float) -> None:
        sleeps["n"] += 1
        world.clock.sleep(seconds / 2)  # half a poll interval: the sandbox has run part of the batch
        if sleeps["n"] == 1:
            raise KeyboardInterrupt

    line = f"orchestration batch create --workflow-uuid {_score_workflow(world)} --data '{data}'\r"
    driven = run_repl(line + "y\rc\r", sleep=interrupting_sleep)
    assert "cancel requested for batch" in driven.text
    batch = world.ctx.executor().read("orchestration batch list", {})["batches"][0]
    assert batch["status"] == "cancelled"
    assert 0 < batch["executedRunsCount"] < 49, batch
    shown = [line for line in driven.text.splitlines() if "batch " in line]
    assert f"cancelled, {batch['executedRunsCount']}/49 runs" in driven.text, shown
    assert "49/49" not in driven.text


def test_batch_progress_shows_the_total_from_the_start(run_repl: RunRepl, world: World) -> None:
    """The API counts a batch's runs only once it starts; the bar shows the records sent at once."""
    records = [{"domain": f"company{i}.example"} for i in range(30)]
    data = json.dumps({"kind": "records", "records": records})
    line = f"orchestration batch create --workflow-uuid {_score_workflow(world)} --data '{data}'\r"
    driven = run_repl(line + "y\r")
    lines = [line for line in driven.text.splitlines() if line.startswith(("batch ", "✓ batch", "• batch"))]
    assert lines, driven.text
    assert lines[0].endswith("pending, 0/30 runs"), lines
    assert all("/30 runs" in line for line in lines), lines
    assert lines[-1].endswith("success, 30/30 runs")


def test_a_500_record_file_is_summarised_on_screen_and_saved_whole(
    run_repl: RunRepl, world: World, tmp_path: Any, monkeypatch: Any
) -> None:
    from cargo_shell.repl.scripted import replay_script
    from cargo_shell.repl.transcript import read_script

    records = [{"domain": f"company{i}.example", "name": f"Company {i}", "employees": i} for i in range(500)]
    (tmp_path / "companies.json").write_text(json.dumps({"kind": "records", "records": records}))
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "out" / "session.cargo"
    line = f"orchestration batch create --workflow-uuid {_score_workflow(world)} --data @companies.json\r"
    driven = run_repl(line + f"y\r/history\r/jobs\r/save {script}\r")
    text = driven.text
    panel = text[text.index("Approve this action?") : text.index("→ yes")]
    assert len(panel.splitlines()) < 15, panel
    assert "@companies.json" in panel and "500 records" in panel and "KB" in panel
    assert "company499.example" not in text  # the whole value is never printed
    history = text[text.index("Commands that ran:") :]
    assert "‹@companies.json, " in history and "500 records" in history
    assert max(len(line) for line in text.splitlines()) < 400

    saved = script.read_text()
    assert len(saved) < 1000  # the script stays readable: the value is in a file beside it
    [command] = read_script(saved)
    data_word = command.argv[command.argv.index("--data") + 1]
    assert data_word.startswith("@session.cargo.data/")
    beside = script.parent / data_word[1:]
    assert json.loads(beside.read_text()) == {"kind": "records", "records": records}

    from rich.console import Console

    out = Console(file=__import__("io").StringIO(), width=100, no_color=True)
    monkeypatch.chdir(world.box.data_dir.parent)  # replay resolves the file beside the script, not here
    executor = world.ctx.make_executor(sleep=world.clock.sleep)
    executor.policy.assume_yes = True
    assert replay_script(world.ctx, script, console=out, executor=executor, dry_run=True) == 0
    dry = out.file.getvalue()  # type: ignore[attr-defined]
    assert "500 records" in dry and "company499" not in dry and len(dry.splitlines()) < 25
    assert replay_script(world.ctx, script, console=out, executor=executor) == 0
    batches = executor.read("orchestration batch list", {})["batches"]
    assert [b["runsCount"] for b in batches[:2]] == [500, 500]
