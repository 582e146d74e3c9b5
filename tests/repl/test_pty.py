"""The installed `cargo-shell` in a pseudo-terminal, with a stub model server and the sandbox.

Few and robust: generous timeouts, no fixed sleeps. Each test gets its own CARGO_SHELL_HOME.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.repl.stub_llm import Reply, StubLLM, tool, tool_payloads

TIMEOUT = 60
RECORDS = [{"domain": "acme.com", "name": "Acme"}, {"domain": "globex.com", "name": "Globex"}]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _binary() -> list[str]:
    exe = Path(sys.executable).parent / "cargo-shell"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cargo_shell"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_", "OPENAI_"))}
    env.update(
        CARGO_SHELL_HOME=str(home),
        CARGO_SHELL_NO_KEYRING="1",
        TERM="xterm-256color",
        PAGER="cat",
        NO_COLOR="1",
        COLUMNS="120",
        LINES="40",
        **extra,
    )
    return env


def _onboarded(home: Path) -> Path:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps({"onboarded": True, "profiles": {}}))
    return home


def _spawn(home: Path, *args: str, **extra: str) -> pexpect.spawn:
    cmd = _binary()
    child = pexpect.spawn(
        cmd[0],
        [*cmd[1:], *args],
        env=_env(home, **extra),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(40, 120),
    )
    return child


def _cli(home: Path, *args: str) -> Any:
    out = subprocess.run(
        [*_binary(), *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return json.loads(out.stdout)


def _enrich_steps() -> list[Any]:
    found: dict[str, Any] = {}

    def start(messages: list[dict[str, Any]]) -> Reply:
        if "workflow" not in found:  # first time: from the tool list; after a "no": the same again
            tools = tool_payloads(messages)[-1]["result"]["tools"]
            found["workflow"] = next(t for t in tools if t["name"] == "Enrich company")["workflowUuid"]
        args = {"workflow-uuid": found["workflow"], "data": {"kind": "records", "records": RECORDS}}
        return Reply("I will enrich 2 companies.", [tool("orchestration", "orchestration batch create", args)])

    def report(messages: list[dict[str, Any]]) -> Reply:
        batch = tool_payloads(messages)[-1]["result"]["batch"]
        return Reply(f"Enriched {batch['runsCount']} companies: batch {batch['status']}.")

    return [Reply(tool_calls=[tool("orchestration", "orchestration tool list")]), start, start, report]


def _state(home: Path) -> dict[str, Any]:
    keep = ("workflowUuid", "status", "runsCount", "executedRunsCount", "failedRunsCount")
    batches = _cli(home, "orchestration", "batch", "list")["batches"]
    folders = _cli(home, "workspace", "folder", "list")["folders"]
    return {
        "batches": sorted(json.dumps({k: b.get(k) for k in keep}) for b in batches),
        "folders": sorted(f["name"] for f in folders),
    }


def test_conversation_confirmation_direct_slash_save_and_replay(tmp_path: Path) -> None:
    home = _onboarded(tmp_path / "home")
    script = tmp_path / "session.cargo"
    with StubLLM(_enrich_steps()) as stub:
        child = _spawn(home, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-test", CARGO_SHELL_MODEL="gpt-4o-mini")
        child.expect("cargo› ")
        child.sendline("enrich acme and globex with the Enrich company tool")
        child.expect(r"Run it\?")
        child.sendline("n")
        child.expect(r"Run it\?")
        child.sendline("y")
        child.expect("Enriched 2 companies: batch success")
        child.expect("cargo› ")
        child.sendline("workspace folder create --name 'Q3 plays' --emoji-slug rocket --kind play")
        child.expect(r"Run it\?")
        child.sendline("y")
        child.expect("Q3 plays")
        child.expect("cargo› ")
        child.sendline("storage model list")
        child.expect("Companies")
        child.expect("cargo› ")
        child.sendline(f"/save {script}")
        child.expect("Saved 4 command")
        child.expect("cargo› ")
        child.sendline("/cost")
        child.expect(r"4 model call\(s\)")
        child.expect("cargo› ")
        child.sendeof()
        child.expect(pexpect.EOF)
        assert stub.leftover == 0
    lines = script.read_text().splitlines()
    assert lines[1:3] == ["cargo-shell orchestration tool list", lines[2]]
    assert lines[2].startswith("cargo-shell orchestration batch create")

    fresh = tmp_path / "fresh"
    replay = subprocess.run(
        [*_binary(), "replay", str(script), "--yes"],
        env=_env(fresh),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert _state(fresh) == _state(home)


def test_ctrl_c_during_a_job_offers_cancel(tmp_path: Path) -> None:
    home = _onboarded(tmp_path / "home")
    tools = _cli(home, "orchestration", "tool", "list")["tools"]
    workflow = next(t for t in tools if t["name"] == "Enrich company")["workflowUuid"]
    records = [{"domain": f"c{i}.example", "name": f"C{i}"} for i in range(40)]
    child = _spawn(home)
    child.expect("cargo› ")
    data = json.dumps({"kind": "records", "records": records})
    child.sendline(f"orchestration batch create --workflow-uuid {workflow} --data '{data}'")
    child.expect(r"Run it\?")
    child.sendline("y")
    child.expect("batch ([0-9a-f]{8})")
    batch = child.match.group(1)
    child.sendintr()
    child.expect(r"Stop waiting for batch")
    child.sendline("c")
    child.expect(["cancel requested", "already finished"])
    child.expect("cargo› ")
    child.sendline("/jobs")
    # its own output first: a bare "cargo› " can match a redraw while /jobs still runs, and a
    # Ctrl-D typed before the next prompt reads input is lost (the test would wait for EOF forever)
    child.expect(batch)
    child.expect("cargo› ")
    child.sendeof()
    child.expect(pexpect.EOF)


def test_first_run_onboards_onto_the_sandbox(tmp_path: Path) -> None:
    home = tmp_path / "new-user"
    child = _spawn(home)
    child.expect("Welcome to cargo-shell")
    child.expect(r"Choose 1 or 2")
    child.sendline("")
    child.expect(r"Choose 1, 2 or 3")
    child.sendline("")
    child.expect("Companies")
    child.expect(r"Answer n to decline")
    child.sendline("n")
    child.expect("not run")
    child.expect("cargo› ")
    child.sendline("whoami")
    child.expect("ada.admin@acme-demo.com")
    child.expect("cargo› ")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert json.loads((home / "config" / "config.json").read_text())["onboarded"] is True


@pytest.mark.parametrize(("extra", "status"), [((), 3), (("--yes",), 0)])
def test_p_without_a_terminal_never_waits(tmp_path: Path, extra: tuple[str, ...], status: int) -> None:
    home = _onboarded(tmp_path / "home")
    args = {"name": "From -p", "emoji-slug": "rocket", "kind": "play"}
    steps = [Reply(tool_calls=[tool("workspace", "workspace folder create", args)]), Reply("Done.")]
    with StubLLM(steps) as stub:
        env = _env(home, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-test")
        out = subprocess.run(
            [*_binary(), "-p", "make a folder", "--output", "json", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == status, out.stdout + out.stderr
    assert events[-1]["type"] == "final" and events[-1]["exitStatus"] == status


def test_a_spinner_and_the_toolbar_show_while_the_model_thinks(tmp_path: Path) -> None:
    import threading

    home = _onboarded(tmp_path / "home")
    _cli(home, "whoami")  # the sandbox exists before the shell opens it (first use is not what this tests)
    released = threading.Event()

    def slow(messages: list[dict[str, Any]]) -> Reply:
        released.wait(TIMEOUT)  # the model "thinks" until the test has seen the spinner
        return Reply("There are 40 companies.")

    with StubLLM([slow]) as stub:
        child = _spawn(home, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-test", CARGO_SHELL_MODEL="gpt-4o-mini")
        child.expect("cargo› ")
        child.sendline("how many companies do I have?")
        child.expect(r"thinking… \d+s")
        # the toolbar, drawn under the spinner: labelled cells, or only the values once the workspace name
        # and the credits (loaded in the background, at a time this test does not control) make it too wide
        esc = r"(?:\s|\x1b\[[0-9;]*m|·)+"  # spaces, the toolbar's styles or a separator before a value
        child.expect(f"(?:profile)?{esc}default{esc}")
        child.expect(f"{esc}gpt-4o-mini{esc}")
        released.set()
        child.expect("There are 40 companies.")
        child.expect("cargo› ")
        child.sendeof()
        child.expect(pexpect.EOF)
        assert stub.leftover == 0
