"""Listing jobs refreshes unfinished ones from the API (bounded, no retries); 404 marks a job gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cargo_shell.executor import JobStore, Policy, RequestSent
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox
from tests.helpers import run_cli

from .conftest import FakeClock, MakeExecutor

TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"
CREATE = get_registry().get("orchestration batch create")
RECORDS = {"kind": "records", "records": [{"domain": "a.example"}]}
MISSING = "00000000-0000-4000-8000-00000000dead"


def _start(make_executor: MakeExecutor, **options: Any) -> tuple[Any, str]:
    executor = make_executor(policy=Policy(assume_yes=True), **options)
    outcome = executor.run(CREATE, {"workflow-uuid": TOOL_WF, "data": RECORDS})
    assert outcome.job_id
    return executor, outcome.job_id


def _row(store: JobStore, job_id: str, base_url: str, workspace: str | None) -> None:
    store.record_start(
        job_id=job_id, kind="batch", command=CREATE.name, command_line="cargo-shell orchestration batch create",
        profile="default", base_url=base_url, workspace_uuid=workspace, status="pending", detail={"actionId": "a1"},
    )  # fmt: skip


def test_finished_batches_are_shown_finished(make_executor: MakeExecutor, clock: FakeClock, tmp_path: Path) -> None:
    executor, job_id = _start(make_executor)
    store = executor.jobs
    assert store is not None and store.get(job_id).status == "pending"  # type: ignore[union-attr]
    clock.advance(120)  # the batch runs to its end on the server
    assert executor.refresh_jobs() == 1
    record = store.get(job_id)
    assert record is not None and record.status == "success" and record.finished_at is not None
    assert store.list(active_only=True) == []
    lines = [json.loads(t) for t in (tmp_path / "audit.jsonl").read_text().splitlines()]
    sent = next(line for line in lines if line["phase"] == "sent")
    assert lines[-1]["actionId"] == sent["actionId"] and lines[-1]["via"] == "jobs list"
    assert lines[-1]["outcome"] in ("ok", "partial-failure") and lines[-1]["jobIds"] == [job_id]
    assert executor.refresh_jobs() == 0  # nothing unfinished is left: no request at all


def test_a_job_the_api_no_longer_knows_is_gone_and_others_targets_are_left_alone(
    make_executor: MakeExecutor, box: Sandbox
) -> None:
    events: list[Any] = []
    executor = make_executor(events=events.append)
    store = executor.jobs
    assert store is not None
    _row(store, MISSING, box.base_url, box.workspace_uuid)
    _row(store, "11111111-0000-4000-8000-000000000001", "https://api.elsewhere.example", box.workspace_uuid)
    assert executor.refresh_jobs() == 1
    assert store.get(MISSING).status == "gone"  # type: ignore[union-attr]
    assert store.get("11111111-0000-4000-8000-000000000001").status == "pending"  # type: ignore[union-attr]
    assert len([e for e in events if isinstance(e, RequestSent)]) == 1  # only this target's job was asked about


def test_refresh_is_bounded_and_stops_at_the_first_network_failure(make_executor: MakeExecutor, box: Sandbox) -> None:
    events: list[Any] = []
    executor = make_executor(events=events.append)
    store = executor.jobs
    assert store is not None
    for n in range(15):
        _row(store, f"22222222-0000-4000-8000-{n:012d}", box.base_url, box.workspace_uuid)
    assert executor.refresh_jobs(limit=4) == 4
    assert len([e for e in events if isinstance(e, RequestSent)]) == 4
    box.app.faults = FaultSpec.parse("reset=1")
    events.clear()
    assert executor.refresh_jobs() == 0
    assert len([e for e in events if isinstance(e, RequestSent)]) == 1  # one try, no retries, then it stops


def test_jobs_after_a_sandbox_reset_are_marked_gone() -> None:
    started = run_cli(
        "--yes", "orchestration", "batch", "create", "--workflow-uuid", TOOL_WF, "--data", json.dumps(RECORDS)
    )
    job_id = started.json["batch"]["uuid"]
    assert run_cli("sandbox", "reset").exit_status == 0
    listed = run_cli("jobs")
    assert listed.exit_status == 0
    [job] = [j for j in listed.json["jobs"] if j["jobId"] == job_id]
    assert job["status"] == "gone" and job["finishedAt"] is not None
    assert run_cli("jobs", "list", "--active").json["jobs"] == []


def test_the_shell_toolbar_refreshes_at_most_every_15_seconds(
    make_executor: MakeExecutor, box: Sandbox, clock: FakeClock
) -> None:
    events: list[Any] = []
    executor = make_executor(events=events.append)
    assert executor.jobs is not None
    for n in range(3):  # unknown to the API: each refresh (one job at a time) marks one gone
        _row(executor.jobs, f"33333333-0000-4000-8000-00000000000{n}", box.base_url, box.workspace_uuid)

    def asked() -> int:
        return len([e for e in events if isinstance(e, RequestSent)])

    executor.refresh_jobs(limit=1, every_s=15)
    assert asked() == 1
    clock.advance(5)
    executor.refresh_jobs(limit=1, every_s=15)
    assert asked() == 1  # too soon: no request
    clock.advance(11)
    executor.refresh_jobs(limit=1, every_s=15)
    assert asked() == 2
