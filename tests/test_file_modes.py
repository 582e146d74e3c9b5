"""Everything cargo-shell writes under its home is private: folders 0700, files 0600.

A realistic session on a fresh home under umask 022 (where a plain open() would give 0644): CLI
reads and writes, a batch with a job, a crash logged, the shell in a pty with a conversation and
a /save, a served sandbox and a login. Then every path under CARGO_SHELL_HOME is walked, once while
the server still has its SQLite files open (-wal/-shm present) and once after. The files the user
named (/save FILE, --output-file) follow the umask.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pexpect

from tests.repl.stub_llm import Reply, StubLLM

TIMEOUT = 120
UMASK = 0o022
ROOT = Path(__file__).resolve().parents[1]


def _binary() -> list[str]:
    exe = Path(sys.executable).parent / "cargo-shell"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cargo_shell"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_", "OPENAI_"))}
    env.update(CARGO_SHELL_HOME=str(home), CARGO_SHELL_NO_KEYRING="1", PYTHONPATH=str(ROOT), **extra)
    return env


def _umask() -> None:
    os.umask(UMASK)


def _run(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_umask,
    )


def _cli(home: Path, *args: str) -> Any:
    done = _run(home, *_binary(), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


_CRASH = textwrap.dedent(
    """
    import sys
    import cargo_shell.commands.own.session as commands
    from cargo_shell.cli import main

    def broken(ctx):
        raise RuntimeError("a bug nobody expected")

    commands.show_config = broken
    raise SystemExit(main(["config", "show"]))
    """
)


def _shell_session(home: Path, saved: Path) -> None:
    with StubLLM([Reply("Hello from the stub model.")]) as stub:
        child = pexpect.spawn(
            _binary()[0],
            _binary()[1:],
            env=_env(home, OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="sk-test", TERM="xterm", NO_COLOR="1"),
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(40, 120),
            preexec_fn=_umask,
        )
        child.expect(r"Choose 1 or 2")
        child.sendline("")
        child.expect(r"Choose 1, 2 or 3")
        child.sendline("")
        child.expect(r"Answer n to decline")
        child.sendline("n")
        child.expect("cargo› ")
        child.sendline("storage model list")
        child.expect("Companies")
        child.expect("cargo› ")
        child.sendline("say hello")
        child.expect("Hello from the stub model.")
        child.expect("cargo› ")
        child.sendline(f"/save {saved}")
        child.expect("Saved")
        child.expect("cargo› ")
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
        assert stub.leftover == 0


def _modes(home: Path) -> dict[str, str]:
    """Every path under ``home`` (and home itself) whose mode is not the private one."""
    wrong = {}
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            wrong[str(path.relative_to(home))] = oct(mode)
    return wrong


def test_every_file_under_the_home_is_private_and_user_files_follow_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = tmp_path / "user-files"
    mine.mkdir()

    # the command line: reads, a write, a batch (a job), a download to a file the user names
    models = _cli(home, "storage", "model", "list")["models"]
    _cli(home, "workspace", "folder", "create", "--name", "Q3", "--emoji-slug", "rocket", "--kind", "play", "--yes")
    tools = _cli(home, "orchestration", "tool", "list")["tools"]
    workflow = next(t for t in tools if t["name"] == "Enrich company")["workflowUuid"]
    data = json.dumps({"kind": "records", "records": [{"domain": "acme.com"}]})
    _cli(home, "orchestration", "batch", "create", "--workflow-uuid", workflow, "--data", data, "--yes")
    assert _cli(home, "jobs")["jobs"]
    companies = next(m["uuid"] for m in models if m["slug"] == "companies")
    no_filter = json.dumps({"conjonction": "and", "groups": []})
    csv = mine / "companies.csv"
    _cli(home, "segmentation", "segment", "download", "--model-uuid", companies, "--filter", no_filter,
         "--output-file", str(csv))  # fmt: skip

    # a crash: logged to state/cargo-shell.log
    crashed = _run(home, sys.executable, "-c", _CRASH)
    assert crashed.returncode == 1 and "Internal error" in crashed.stdout, crashed.stdout + crashed.stderr

    # the shell: onboarding, a command, a conversation with the model, /save to a file the user names
    script = mine / "session.cargo"
    _shell_session(home, script)

    # a served sandbox and a login to it: credentials and config
    server = subprocess.Popen(
        [*_binary(), "sandbox", "serve", "--port", "0"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=_umask,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        token = (home / "data" / "sandbox" / "admin-token").read_text().strip()
        who = _cli(home, "login", "--token", token, "--base-url", url, "--profile", "served")
        assert who["tokenStoredIn"] == "file"
        assert _cli(home, "workspace", "folder", "list")["folders"]  # through the server now
        companions = {p.name.rsplit("-", 1)[-1] for p in home.rglob("*.*-*")}
        assert {"wal", "shm"} <= companions  # the server has its databases open
        assert _modes(home) == {}
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(TIMEOUT)

    expected = [
        "config/config.json",
        "config/credentials.json",
        "state/jobs.db",
        "state/audit.jsonl",
        "state/cargo-shell.log",
        "state/history",
        "data/sandbox/sandbox.db",
        "data/sandbox/admin-token",
    ]
    assert [name for name in expected if not (home / name).is_file()] == []
    assert list((home / "state" / "conversations").glob("*.json"))
    assert list((home / "data" / "sandbox" / "datasets").glob("*.sqlite"))
    assert "a bug nobody expected" in (home / "state" / "cargo-shell.log").read_text()
    assert _modes(home) == {}
    for user_file in (csv, script):
        assert stat.S_IMODE(user_file.stat().st_mode) == 0o666 & ~UMASK, user_file


def test_files_left_readable_by_an_older_version_are_tightened_when_next_used(tmp_path: Path) -> None:
    import sqlite3

    from cargo_shell.executor.jobstore import JobStore
    from cargo_shell.private_files import private_dir

    state = tmp_path / "home" / "state"
    state.mkdir(parents=True, mode=0o755)
    os.chmod(state, 0o755)
    jobs = state / "jobs.db"
    older = sqlite3.connect(jobs, isolation_level=None)  # an older version, still running: its WAL exists
    try:
        older.execute("PRAGMA journal_mode = WAL")
        older.execute("CREATE TABLE t (x)")
        older.execute("INSERT INTO t VALUES (1)")
        for path in (jobs, state / "jobs.db-wal", state / "jobs.db-shm"):
            os.chmod(path, 0o644)
        JobStore(jobs).list()
        private_dir(state)
        assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in [state, *state.iterdir()]} == {
            "state": "0o700",
            "jobs.db": "0o600",
            "jobs.db-wal": "0o600",
            "jobs.db-shm": "0o600",
        }
    finally:
        older.close()
    deep = private_dir(tmp_path / "new" / "a" / "b")
    assert [oct(stat.S_IMODE(p.stat().st_mode)) for p in (deep.parent.parent, deep.parent, deep)] == ["0o700"] * 3
