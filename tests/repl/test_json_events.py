"""`--output json`: every line is a typed event of the set the README documents, and every run
ends with exactly one final event (``final`` or ``error``), last — for a normal run, a model
error, a refused approval and an interrupted run. The real entry point (``cli.main``, so
nothing can slip past as an untyped line), the real OpenAI adapter against a local stub, the
real sandbox; the interrupted run is the installed binary stopped by a real SIGINT."""

from __future__ import annotations

import dataclasses
import json
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.runtime import Sandbox
from tests.helpers import CliResult, run_cli
from tests.repl.stub_llm import Failure, Reply, StubLLM, tool
from tests.repl.test_pty import TIMEOUT, _binary, _env, _onboarded
from tests.support import FakeClock, open_copy

README = Path(__file__).resolve().parents[2] / "README.md"
FINAL = {"final", "error"}
COMPANIES = "3843249c-53a1-41ae-9fd2-7861bb274742"
FOLDER = {"name": "Q3 plays", "emoji-slug": "rocket", "kind": "play"}


def documented() -> dict[str, set[str]]:
    """{event type: its fields} from the README's event table."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| `type` | Fields |")
    table = text[start : text.index("\n\n", start)]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|", table, re.M)
    return {kind: set(re.findall(r"`(\w+)`", fields)) for kind, fields in rows if kind != "type"}


def check_stream(stdout: str) -> list[dict[str, Any]]:
    """Every line a JSON event of a documented type with documented fields; one final event, last."""
    docs = documented()
    assert set(docs) >= FINAL
    events = [json.loads(line) for line in stdout.splitlines()]
    assert events, "no events at all"
    for event in events:
        assert event.get("type") in docs, event
        assert set(event) - {"type"} <= docs[event["type"]], (event["type"], set(event) - docs[event["type"]])
    finals = [i for i, e in enumerate(events) if e["type"] in FINAL]
    assert finals == [len(events) - 1], [e["type"] for e in events]
    calls = [e["callId"] for e in events if e["type"] == "tool_call"]
    assert len(set(calls)) == len(calls) and all(calls)
    for event in events:
        if "callId" in event:
            assert event["callId"] in calls, event
    return events


@pytest.fixture
def box(tmp_path: Path, seeded_sandbox_template: Path) -> Iterator[Sandbox]:
    sandbox = open_copy(seeded_sandbox_template, tmp_path, FakeClock())
    yield sandbox
    sandbox.close()


def prompt(box: Sandbox, stub: StubLLM, *extra: str) -> CliResult:
    env = {
        "CARGO_API_URL": box.base_url,
        "CARGO_API_TOKEN": box.token,
        "CARGO_WORKSPACE_UUID": box.workspace_uuid,
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": "sk-test-not-real",
        "CARGO_SHELL_MODEL": "gpt-4o-mini",
    }
    transport = httpx.WSGITransport(app=box.app)
    return run_cli("-p", "do the thing", "--output", "json", *extra, env_overrides=env, transport=transport)


def test_the_documented_progress_fields_are_those_of_the_executor_events() -> None:
    from cargo_shell.repl.jsonevents import PROGRESS_EVENTS, json_key

    fields = {json_key(f.name) for cls in PROGRESS_EVENTS for f in dataclasses.fields(cls)}
    assert documented()["progress"] == {"callId", "event", *fields}


def test_a_normal_run(box: Sandbox) -> None:
    fetch = {"model-uuid": COMPANIES, "filter": {"conjunction": "and", "groups": []}, "fetching-limit": 2}
    steps = [
        Reply(
            tool_calls=[
                tool("storage", "storage model list"),
                tool("orchestration", "segmentation segment fetch", fetch),
            ]
        ),
        Reply(tool_calls=[tool("workspace", "workspace folder create", FOLDER)]),
        Reply("Two models, and the folder is made."),
    ]
    with StubLLM(steps) as stub:
        out = prompt(box, stub, "--yes")
    events = check_stream(out.stdout)
    assert out.exit_status == 0 and stub.leftover == 0, out.stderr
    assert [e["type"] for e in events] == [
        "tool_call", "tool_call", "result", "notice", "result", "tool_call", "result", "assistant", "final",
    ]  # fmt: skip
    calls = {e["command"]: e for e in events if e["type"] == "tool_call"}
    notice = next(e for e in events if e["type"] == "notice")
    assert notice["callId"] == calls["segmentation segment fetch"]["callId"] and "conjonction" in notice["message"]
    assert calls["workspace folder create"]["effect"] == "write"
    results = {e["callId"]: e["status"] for e in events if e["type"] == "result"}
    assert results == {c["callId"]: "ok" for c in calls.values()}
    assert events[-1]["exitStatus"] == 0 and events[-1]["text"] == "Two models, and the folder is made."


@pytest.mark.parametrize("after_a_call", [False, True], ids=["first-call", "after-a-tool-call"])
def test_a_model_error(box: Sandbox, after_a_call: bool) -> None:
    steps: list[Any] = [Reply(tool_calls=[tool("storage", "storage model list")])] if after_a_call else []
    steps.append(Failure(400, "the model is overloaded"))
    with StubLLM(steps) as stub:
        out = prompt(box, stub)
    events = check_stream(out.stdout)
    assert out.exit_status == 1
    error = events[-1]
    assert error["type"] == "error" and error["exitStatus"] == 1
    assert "HTTP 400" in error["errorMessage"] and "overloaded" in error["errorMessage"]
    assert [e["type"] for e in events[:-1]] == (["tool_call", "result"] if after_a_call else [])
    assert error["conversation"]


def test_a_refused_approval(box: Sandbox) -> None:
    steps = [
        Reply(tool_calls=[tool("workspace", "workspace folder create", FOLDER)]),
        Reply("It needs your approval."),
    ]
    with StubLLM(steps) as stub:
        out = prompt(box, stub)
    events = check_stream(out.stdout)
    assert out.exit_status == 3
    assert [e["type"] for e in events] == ["tool_call", "plan", "decision", "result", "assistant", "final"]
    call_id = events[0]["callId"]
    decision = events[2]
    assert decision == {
        "type": "decision",
        "callId": call_id,
        "command": "workspace folder create",
        "decision": "approval_required",
    }
    assert events[3]["callId"] == call_id and events[3]["status"] == "denied"
    assert events[-1]["exitStatus"] == 3


def test_a_model_that_is_not_configured_is_an_error_event(box: Sandbox) -> None:
    env = {"CARGO_API_URL": box.base_url, "CARGO_API_TOKEN": box.token, "CARGO_WORKSPACE_UUID": box.workspace_uuid}
    out = run_cli("-p", "hello", "--output", "json", env_overrides=env, transport=httpx.WSGITransport(app=box.app))
    [error] = check_stream(out.stdout)
    assert error["type"] == "error" and "No language model" in error["errorMessage"] and error["hint"]
    assert out.exit_status == error["exitStatus"] == 1
    assert "hint:" in out.stderr


def test_an_interrupted_run(tmp_path: Path) -> None:
    """The binary waits for the model; a real SIGINT stops it: an error event, exit 130."""
    reached, release = threading.Event(), threading.Event()

    def stall(_messages: list[dict[str, Any]]) -> Reply:
        reached.set()
        release.wait(TIMEOUT)
        return Reply("too late")

    home = _onboarded(tmp_path / "home")
    steps: list[Any] = [Reply(tool_calls=[tool("storage", "storage model list")]), stall]
    with StubLLM(steps) as stub:
        env = _env(home, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-test", CARGO_SHELL_MODEL="gpt-4o-mini")
        child = subprocess.Popen(
            [*_binary(), "-p", "list my models", "--output", "json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert reached.wait(TIMEOUT), "the second model call never came"
            child.send_signal(signal.SIGINT)
            stdout, stderr = child.communicate(timeout=TIMEOUT)
        finally:
            release.set()
            if child.poll() is None:
                child.kill()
                child.wait()
    events = check_stream(stdout)
    assert child.returncode == 130, stderr
    assert [e["type"] for e in events] == ["tool_call", "result", "error"]
    assert events[-1]["exitStatus"] == 130 and events[-1]["errorMessage"] == "Interrupted"


def _replay(box: Sandbox, tmp_path: Path, script: str, *extra: str) -> CliResult:
    path = tmp_path / "session.sh"
    path.write_text(script, encoding="utf-8")
    env = {"CARGO_API_URL": box.base_url, "CARGO_API_TOKEN": box.token, "CARGO_WORKSPACE_UUID": box.workspace_uuid}
    transport = httpx.WSGITransport(app=box.app)
    return run_cli("replay", str(path), "--output", "json", *extra, env_overrides=env, transport=transport)


def test_replay_ends_with_one_final_event_when_a_step_needs_approval_or_fails(box: Sandbox, tmp_path: Path) -> None:
    refused = _replay(
        box, tmp_path, "storage model list\nworkspace folder create --name X --emoji-slug rocket --kind play\n"
    )
    events = check_stream(refused.stdout)
    assert refused.exit_status == 3
    assert [e["type"] for e in events] == ["result", "decision", "final"]
    assert events[1]["decision"] == "approval_required" and events[1]["command"] == "workspace folder create"
    assert events[-1]["exitStatus"] == 3

    missing = "00000000-0000-4000-8000-000000000000"
    failed = _replay(box, tmp_path, f"storage model list\nsegmentation segment get {missing}\nstorage model list\n")
    events = check_stream(failed.stdout)
    assert failed.exit_status == 1
    assert [e["type"] for e in events] == ["result", "error"]
    assert events[-1]["step"] == 2 and events[-1]["exitStatus"] == 1

    broken = _replay(box, tmp_path, "storage nothing here\n")
    [error] = check_stream(broken.stdout)
    assert error["type"] == "error" and "not a Cargo API command" in error["errorMessage"]
