"""A CLI process stopped by a real signal while it waits for a batch leaves a consistent record.

Real processes on the embedded sandbox (a copy of the seeded template) and real signals, sent
once the child has printed the batch id on stderr (which it does after recording the job).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cargo_shell.executor.audit import AuditLog
from cargo_shell.executor.jobstore import JobStore
from tests.helpers import run_cli

TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"
#: 20 records: the sandbox spreads their runs over 5 s, so the batch is still running when the signal lands.
DATA = json.dumps({"kind": "records", "records": [{"domain": f"d{i}.example"} for i in range(20)]})


def _home(tmp_path: Path, template: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(template, home / "data" / "sandbox")
    (home / "data" / "sandbox" / ".notice-shown").touch()
    return home


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_API", "CARGO_WORKSPACE"))}
    env.update(CARGO_SHELL_HOME=str(home), CARGO_SHELL_NO_KEYRING="1", PYTHONUNBUFFERED="1")
    return env


def _start_batch(home: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start a waiting batch create; returns the process, the batch id and the stderr lines so far."""
    argv = [
        sys.executable, "-m", "cargo_shell", "--yes", "orchestration", "batch", "create",
        "--workflow-uuid", TOOL_WF, "--data", DATA, "--wait-until-finished",
    ]  # fmt: skip
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(home), start_new_session=True
    )
    assert child.stderr is not None
    seen: list[str] = []
    for line in child.stderr:  # synchronise on the child's own report, never on time
        seen.append(line)
        if line.startswith("started batch "):
            return child, line.split()[-1], seen
    child.wait()
    raise AssertionError(f"the child ended without starting a batch: {''.join(seen)}")


def _audit(home: Path) -> AuditLog:
    return AuditLog(home / "state" / "audit.jsonl", profile="", workspace_uuid=None)


def _finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=120)
    return child.returncode, out, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_during_a_wait_leave_the_job_and_the_audit_consistent(
    tmp_path: Path, seeded_sandbox_template: Path, signum: signal.Signals
) -> None:
    home = _home(tmp_path, seeded_sandbox_template)
    child, job_id, _ = _start_batch(home)
    child.send_signal(signum)
    status, out, err = _finish(child)

    assert status == 5, (out, err)
    body = json.loads(out)
    assert body["jobPending"]["jobId"] == job_id and signum.name in body["jobPending"]["reason"]
    assert f"cargo-shell jobs wait {job_id}" in err and "Traceback" not in err

    lines = _audit(home).read()
    sent, end = lines
    assert sent["phase"] == "sent" and sent["command"] == "orchestration batch create"
    assert end["phase"] == "outcome" and end["outcome"] == "terminated" and end["error"] == signum.name
    assert end["actionId"] == sent["actionId"] and end["jobIds"] == [job_id]
    record = JobStore(home / "state" / "jobs.db").get(job_id)
    assert record is not None and record.finished_at is None and record.detail["actionId"] == sent["actionId"]


def test_kill_9_during_a_wait_leaves_the_sent_line_and_jobs_wait_completes_it(
    tmp_path: Path, seeded_sandbox_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path, seeded_sandbox_template)
    child, job_id, _ = _start_batch(home)
    child.kill()
    status, _, _ = _finish(child)
    assert status == -signal.SIGKILL

    [sent] = _audit(home).read()  # written before the request left: the spend is on record
    assert sent["phase"] == "sent" and sent["decidedBy"] == "flag" and sent["arguments"]["workflow-uuid"] == TOOL_WF
    assert "checkCommand" in sent
    [entry] = _audit(home).actions()
    assert entry["outcome"] == "unknown"
    record = JobStore(home / "state" / "jobs.db").get(job_id)
    assert record is not None and record.detail["actionId"] == sent["actionId"]

    monkeypatch.setenv("CARGO_SHELL_HOME", str(home))
    waited = run_cli("jobs", "wait", job_id)
    assert waited.exit_status == 0, waited.stdout
    assert waited.json["batch"]["status"] == "success"
    last = _audit(home).read()[-1]
    assert (
        last["actionId"] == sent["actionId"]
        and last["phase"] == "outcome"
        and last["outcome"] in ("ok", "partial-failure")
    )
    [entry] = _audit(home).actions()
    assert entry["outcome"] == last["outcome"] and entry["jobIds"] == [job_id]


_KILL_AT_FIRST_EVENT_AFTER_THE_RESPONSE = """
import os, signal, sys
from cargo_shell.environment import Environment
from cargo_shell.executor import RequestSent
from cargo_shell.commands.context import Context

ctx = Context(Environment())
ctx.apply_globals({"yes": True})
sent = []

def sink(event):
    if isinstance(event, RequestSent) and event.method == "POST" and event.path == "/v1/orchestration/batches":
        sent.append(event)
    elif sent:  # the first thing that happens after the create's response
        os.kill(os.getpid(), signal.SIGKILL)

executor = ctx.make_executor(events=sink)
spec = executor.registry.get("orchestration batch create")
executor.run(spec, {"workflow-uuid": sys.argv[1], "data": {"kind": "records", "records": [{"domain": "k.example"}]}})
"""


def test_a_kill_right_after_the_batch_was_accepted_leaves_it_in_the_job_store(
    tmp_path: Path, seeded_sandbox_template: Path
) -> None:
    home = _home(tmp_path, seeded_sandbox_template)
    result = subprocess.run(
        [sys.executable, "-c", _KILL_AT_FIRST_EVENT_AFTER_THE_RESPONSE, TOOL_WF],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    records = JobStore(home / "state" / "jobs.db").list()
    [sent] = _audit(home).read()
    assert [r.command for r in records] == ["orchestration batch create"]
    assert records[0].detail["actionId"] == sent["actionId"]
