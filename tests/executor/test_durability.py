"""Once a job is accepted it is never reported as a plain failure, and the audit log says what was sent.

In-process against the sandbox app, with its fault injection switched on after the create (the
create succeeds, then every status check fails).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.errors import ApiError, ExitStatus, JobPending
from cargo_shell.executor import Approval, JobStarted, Policy
from cargo_shell.executor.audit import AuditLog
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox
from tests.helpers import run_cli

from .conftest import Answers, FakeClock, MakeExecutor

TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"
BATCH = get_registry().get("orchestration batch create")
RECORDS = {"kind": "records", "records": [{"domain": "a.example"}, {"domain": "b.example"}]}


def _lines(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(t) for t in (tmp_path / "audit.jsonl").read_text().splitlines()]


def _faults_after_start(box: Sandbox, spec: str) -> Any:
    def sink(event: Any) -> None:
        if isinstance(event, JobStarted):
            box.app.faults = FaultSpec.parse(spec)

    return sink


@pytest.mark.parametrize("fault", ["500=1", "reset=1"])
def test_failing_status_checks_report_the_accepted_batch_not_a_failure(
    box: Sandbox, make_executor: MakeExecutor, tmp_path: Path, fault: str
) -> None:
    executor = make_executor(policy=Policy(assume_yes=True), events=_faults_after_start(box, fault))
    with pytest.raises(JobPending) as caught:
        executor.run(BATCH, {"workflow-uuid": TOOL_WF, "data": RECORDS, "wait-until-finished": True})
    error = caught.value
    assert error.exit_status == ExitStatus.JOB_PENDING == 5
    pending = error.to_json()["jobPending"]
    job_id = pending["jobId"]
    assert pending["waitCommand"] == f"cargo-shell jobs wait {job_id}" and pending["kind"] == "batch"
    assert job_id in error.message and "do not re-run" in error.message
    assert error.hint == f"Re-attach: cargo-shell jobs wait {job_id}"
    assert executor.jobs is not None and executor.jobs.get(job_id) is not None

    box.app.faults = None
    remote = executor.read("orchestration batch get", {"batch-uuid": job_id})
    assert remote["batch"]["uuid"] == job_id  # the batch really exists: a retry would pay twice

    sent, failed = _lines(tmp_path)
    assert sent["phase"] == "sent" and sent["decidedBy"] == "flag" and sent["command"] == "orchestration batch create"
    assert failed["phase"] == "outcome" and failed["outcome"] == "wait-failed" and failed["jobIds"] == [job_id]
    assert failed["actionId"] == sent["actionId"] == pending["actionId"]

    again = make_executor().attach(job_id, "batch")  # `cargo-shell jobs wait ID` in a new process
    assert again.job_status == "success"
    done = _lines(tmp_path)[-1]
    assert done["actionId"] == sent["actionId"] and done["outcome"] == "ok" and done["via"] == "jobs wait"
    [entry] = AuditLog(tmp_path / "audit.jsonl", profile="", workspace_uuid=None).actions()
    assert entry["outcome"] == "ok" and entry["phases"] == ["sent", "outcome", "outcome"]
    assert entry["arguments"]["workflow-uuid"] == TOOL_WF and entry["approval"] == "flag"


def test_the_command_line_says_the_batch_exists_with_exit_5(box: Sandbox, seeded_sandbox_template: Path) -> None:
    """The issue's case: `--wait-until-finished`, then every status check answers 500."""
    inner = httpx.WSGITransport(app=box.app)

    class FailAfterCreate(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = inner.handle_request(request)
            if request.method == "POST" and request.url.path == "/v1/orchestration/batches":
                box.app.faults = FaultSpec.parse("500=1")
            return response

    result = run_cli(
        "--token", box.token, "--base-url", box.base_url, "--yes",
        "orchestration", "batch", "create", "--workflow-uuid", TOOL_WF, "--data", json.dumps(RECORDS),
        "--wait-until-finished",
        transport=FailAfterCreate(), env_overrides={"CARGO_SHELL_RETRIES": "1"},
    )  # fmt: skip
    assert result.exit_status == 5, result.stdout
    body = result.json
    job_id = body["jobPending"]["jobId"]
    assert (
        "could not be read (Sandbox fault injection: simulated HTTP 500)" in body["errorMessage"]
        and job_id in body["errorMessage"]
    )
    assert f"hint: Re-attach: cargo-shell jobs wait {job_id}" in result.stderr
    assert run_cli("jobs").json["jobs"][0]["jobId"] == job_id


def test_ctrl_c_detach_is_exit_5_with_the_job_in_the_result(make_executor: MakeExecutor, clock: FakeClock) -> None:
    def interrupt_once(seconds: float) -> None:
        raise KeyboardInterrupt

    executor = make_executor(confirmer=Answers(Approval("yes"), interrupt="detach"), sleep=interrupt_once)
    outcome = executor.run(BATCH, {"workflow-uuid": TOOL_WF, "data": RECORDS, "wait-until-finished": True})
    assert outcome.detached and outcome.exit_status() == ExitStatus.JOB_PENDING
    assert outcome.data["jobPending"]["jobId"] == outcome.job_id == outcome.data["batch"]["uuid"]
    assert outcome.data["jobPending"]["waitCommand"] == f"cargo-shell jobs wait {outcome.job_id}"


def test_ctrl_c_at_the_cancel_question_detaches(make_executor: MakeExecutor) -> None:
    class Impatient(Answers):
        def on_interrupt(self, kind: str, job_id: str) -> Any:
            raise KeyboardInterrupt  # Ctrl-C again while being asked

    def interrupt_once(seconds: float) -> None:
        raise KeyboardInterrupt

    executor = make_executor(confirmer=Impatient(Approval("yes")), sleep=interrupt_once)
    outcome = executor.run(BATCH, {"workflow-uuid": TOOL_WF, "data": RECORDS, "wait-until-finished": True})
    assert outcome.detached and any("cargo-shell jobs wait" in n for n in outcome.notices)


def test_a_failing_create_is_still_a_plain_error(box: Sandbox, make_executor: MakeExecutor, tmp_path: Path) -> None:
    box.app.faults = FaultSpec.parse("500=1,match=/v1/orchestration")
    executor = make_executor(policy=Policy(assume_yes=True), retry=None)
    with pytest.raises(ApiError) as caught:
        executor.run(BATCH, {"workflow-uuid": TOOL_WF, "data": RECORDS, "wait-until-finished": True})
    assert not isinstance(caught.value, JobPending)  # nothing was accepted: no job to speak of
    sent, error = _lines(tmp_path)
    assert sent["phase"] == "sent" and error["outcome"] == "error" and error["jobIds"] == []


def test_the_job_is_recorded_before_the_job_started_event(make_executor: MakeExecutor, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    executor = make_executor(policy=Policy(assume_yes=True))

    def sink(event: Any) -> None:
        if isinstance(event, JobStarted):
            assert executor.jobs is not None
            record = executor.jobs.get(event.job_id)
            seen["record"] = record
            seen["audit"] = _lines(tmp_path)

    executor.run(BATCH, {"workflow-uuid": TOOL_WF, "data": RECORDS}, events=sink)
    assert seen["record"] is not None and seen["record"].detail["actionId"] == seen["audit"][0]["actionId"]
    assert [line["phase"] for line in seen["audit"]] == ["sent"]


def test_interrupts_after_a_job_end_the_json_event_stream_with_the_job() -> None:
    """`--output json`: the final `error` event of a run stopped after a job was accepted names it (exit 5)."""
    import io

    from cargo_shell.commands.context import Context
    from cargo_shell.environment import Environment
    from cargo_shell.errors import JobInterrupted, Terminated
    from cargo_shell.repl.jsonevents import JsonEvents

    pending = {"jobId": "b-1", "kind": "batch", "waitCommand": "cargo-shell jobs wait b-1"}
    cases = [
        (JobInterrupted("batch b-1 was started ...", pending=pending, signal_name="SIGTERM"), 5),
        (Terminated(15, "SIGTERM"), 143),
        (KeyboardInterrupt(), 130),
    ]
    for exc, status in cases:
        out = io.StringIO()
        events = JsonEvents(Context(Environment(stdout=out, stderr=io.StringIO(), stdin=io.StringIO())))
        assert events.fail(exc) == status
        [line] = [json.loads(t) for t in out.getvalue().splitlines()]
        assert line["type"] == "error" and line["exitStatus"] == status
        if status == 5:
            assert line["jobPending"]["jobId"] == "b-1" and line["hint"] == "Re-attach: cargo-shell jobs wait b-1"
