"""Staged rollout of segment and filter batches: resolved to record ids, sent in stages without overlap."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from cargo_shell.executor import Executor, Policy, StageFinished, StageStarted, staging
from cargo_shell.registry import get_registry
from cargo_shell.render.events import result_summary
from cargo_shell.repl.transcript import Transcript
from cargo_shell.sandbox.engine.runner import stable_number
from cargo_shell.sandbox.engine.storage_bridge import upsert_record
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox

from .conftest import Answers, FakeClock, MakeExecutor

PLAY_WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"  # play "Score new companies", one connector node
COMPANIES = "3843249c-53a1-41ae-9fd2-7861bb274742"
GOLD = "0710d992-8783-4f8b-9022-8fe1eba60683"  # segment of 126 companies
ENTERPRISE = "3a53ebe1-0bbf-4d74-b4db-9931e932a1d2"  # segment of 11 companies
ALL = {"conjonction": "and", "groups": []}
reg = get_registry()
CREATE = reg.get("orchestration batch create")


def _segment_ids(executor: Executor, segment_uuid: str) -> list[str]:
    segment = executor.read("segmentation segment get", {"segment-uuid": segment_uuid})["segment"]
    page = executor.read(
        "segmentation segment fetch",
        {"model-uuid": segment["modelUuid"], "filter": segment["filter"], "fetching-limit": 1000},
    )
    return [r["_id"] for r in page["records"]]


def _play_batches(executor: Executor) -> list[dict[str, Any]]:
    data = executor.read("orchestration batch list", {"workflow-uuids": [PLAY_WF], "limit": 50})
    return list(data["batches"])


def test_segment_batch_on_a_connector_play_runs_in_record_id_stages(make_executor: MakeExecutor) -> None:
    events: list[object] = []
    executor = make_executor(policy=Policy(assume_yes=True), events=events.append)
    expected = _segment_ids(executor, GOLD)
    assert len(expected) == 126
    before = {b["uuid"] for b in _play_batches(executor)}
    raw = {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": GOLD}}

    plan = executor.prepare(CREATE, raw)
    assert plan.rollout == [1, 50, 126]
    assert plan.estimate is not None and plan.estimate.records == 126
    assert "resolved from the segment" in plan.estimate.basis
    text = plan.render()
    assert "staged rollout: 1 → 50 → 126 records" in text and "recordIds batches of 1, 49, 76" in text
    assert plan.to_json()["rolloutNote"].startswith("the segment's 126 records")

    outcome = executor.run(CREATE, raw, wait=True)
    assert [e.size for e in events if isinstance(e, StageStarted)] == [1, 49, 76]
    assert [e.index for e in events if isinstance(e, StageFinished)] == [1, 2, 3]
    assert outcome.data["stoppedEarly"] is False and outcome.data["sentRecords"] == 126
    new = [b for b in _play_batches(executor) if b["uuid"] not in before]
    assert len(new) == 3 and all(b["data"]["kind"] == "recordIds" for b in new)
    assert all(b["data"]["modelUuid"] == COMPANIES for b in new)
    sent = [rid for b in new for rid in b["data"]["ids"]]
    assert len(sent) == len(set(sent)) == 126
    assert set(sent) == set(expected)
    assert sorted(len(b["data"]["ids"]) for b in new) == [1, 49, 76]


def _failing_domains(count: int) -> list[str]:
    """Domains the sandbox's company connector never finds (its simulation fails them on purpose)."""
    out: list[str] = []
    n = 0
    while len(out) < count:
        domain = f"ghost{n}.invalid"
        if stable_number("known", domain, modulo=20) == 0:
            out.append(domain)
        n += 1
    return out


def test_filter_batch_stops_after_a_failing_stage(make_executor: MakeExecutor, box: Sandbox) -> None:
    # 60 big companies (so the play's condition lets them through to the connector) whose
    # domains the simulated connector cannot find: every run fails.
    for domain in _failing_domains(60):
        upsert_record(box.app.db, box.workspace_uuid, COMPANIES, {"domain": domain, "name": domain, "employees": 5000})
    flt = {
        "conjonction": "and",
        "groups": [
            {
                "conjonction": "and",
                "conditions": [{"kind": "string", "columnSlug": "domain", "operator": "endsWith", "value": ".invalid"}],
            }
        ],
    }
    events: list[object] = []
    executor = make_executor(policy=Policy(assume_yes=True), events=events.append)
    before = {b["uuid"] for b in _play_batches(executor)}
    raw = {"workflow-uuid": PLAY_WF, "data": {"kind": "filter", "modelUuid": COMPANIES, "filter": flt}}
    plan = executor.prepare(CREATE, raw)
    assert plan.rollout == [1, 50, 60]
    assert plan.estimate is not None and plan.estimate.records == 60

    outcome = executor.run(CREATE, raw, wait=True)
    finished = [e for e in events if isinstance(e, StageFinished)]
    assert len(finished) == 1 and finished[0].failed == 1
    assert outcome.data["stoppedEarly"] is True and outcome.data["sentRecords"] == 1
    assert outcome.job_failed and any("stopped after stage 1" in n for n in outcome.notices)
    new = [b for b in _play_batches(executor) if b["uuid"] not in before]
    assert len(new) == 1 and new[0]["data"]["kind"] == "recordIds" and len(new[0]["data"]["ids"]) == 1


def test_small_segment_runs_as_one_segment_batch(make_executor: MakeExecutor) -> None:
    events: list[object] = []
    executor = make_executor(policy=Policy(assume_yes=True), events=events.append)
    before = {b["uuid"] for b in _play_batches(executor)}
    raw = {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": ENTERPRISE}}
    plan = executor.prepare(CREATE, raw)
    assert plan.rollout is None and plan.rollout_data is None
    assert plan.estimate is not None and plan.estimate.records == 11
    outcome = executor.run(CREATE, raw)
    assert not [e for e in events if isinstance(e, StageStarted)] and not outcome.stages
    new = [b for b in _play_batches(executor) if b["uuid"] not in before]
    assert len(new) == 1 and new[0]["data"] == {"kind": "segment", "segmentUuid": ENTERPRISE}


def test_filter_limit_is_respected_across_pages(make_executor: MakeExecutor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "FETCH_PAGE", 30)  # three pages: 30, 30, 10
    executor = make_executor()
    raw = {"workflow-uuid": PLAY_WF, "data": {"kind": "filter", "modelUuid": COMPANIES, "filter": ALL, "limit": 70}}
    plan = executor.prepare(CREATE, raw)
    assert plan.rollout == [1, 50, 70]
    assert plan.rollout_data is not None and len(set(plan.rollout_data["ids"])) == 70
    page = executor.read("segmentation segment fetch", {"model-uuid": COMPANIES, "filter": ALL, "fetching-limit": 70})
    assert plan.rollout_data["ids"] == [r["_id"] for r in page["records"]]


def test_unresolvable_segment_falls_back_to_one_batch(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    missing = "00000000-0000-4000-8000-000000000000"
    plan = executor.prepare(CREATE, {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": missing}})
    assert plan.rollout is None and plan.rollout_data is None


def test_the_whole_rollout_is_reported_not_its_last_stage(make_executor: MakeExecutor, tmp_path: Path) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    raw = {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": GOLD}}
    outcome = executor.run(CREATE, raw, wait=True)
    data = outcome.data
    assert data["status"] == "success" and outcome.job_status == "success"
    assert [s["records"] for s in data["stages"]] == [1, 49, 76] and all(s["sent"] is True for s in data["stages"])
    assert data["totalRecords"] == data["sentRecords"] == 126 and data["notSentRecords"] == 0
    assert data["runs"] == 126 == sum(s["runs"] for s in data["stages"])
    assert data["failedRuns"] == sum(s["failed"] for s in data["stages"])
    assert data["credits"] == outcome.credits == sum(s["credits"] for s in data["stages"]) and data["credits"] > 0
    assert data["jobIds"] == [s["jobId"] for s in data["stages"]] and "batch" not in data
    assert outcome.partial_failure == (data["failedRuns"] > 0)
    assert outcome.command_line == outcome.plan.command_line  # type: ignore[union-attr]  # all of it ran
    summary = result_summary(data, CREATE.name)
    assert summary.startswith("rollout success: 3/3 stages, 126/126 records sent")
    assert f"{data['failedRuns']} of 126 runs failed" in summary

    lines = [json.loads(t) for t in (tmp_path / "audit.jsonl").read_text().splitlines()]
    mine = [line for line in lines if line["command"] == CREATE.name]
    assert [line["phase"] for line in mine] == ["sent", "stage", "stage", "stage", "outcome"]
    assert mine[0]["rollout"] == [1, 50, 126] and len({line["actionId"] for line in mine}) == 1
    assert [line["jobIds"] for line in mine[1:4]] == [[j] for j in data["jobIds"]]
    assert mine[-1]["jobIds"] == data["jobIds"] and [s["sent"] for s in mine[-1]["stages"]] == [True] * 3


def test_detaching_during_a_stage_says_what_was_and_was_not_sent(
    make_executor: MakeExecutor, clock: FakeClock, tmp_path: Path
) -> None:
    state = {"stage": 0, "interrupted": False}

    def events(event: object) -> None:
        if isinstance(event, StageStarted):
            state["stage"] = event.index

    def sleep(seconds: float) -> None:
        if state["stage"] == 2 and not state["interrupted"]:
            state["interrupted"] = True
            raise KeyboardInterrupt  # Ctrl-C while stage 2 runs; the person answers "detach"
        clock.sleep(seconds)

    executor = make_executor(
        policy=Policy(assume_yes=True), confirmer=Answers(interrupt="detach"), sleep=sleep, events=events
    )
    before = {b["uuid"] for b in _play_batches(executor)}
    outcome = executor.run(
        CREATE, {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": GOLD}}, wait=True
    )

    assert outcome.detached and outcome.exit_status() == 5
    first, second, third = outcome.data["stages"]
    assert first["sent"] is True and first["status"] == "success" and first["records"] == 1
    assert second["sent"] is True and second["status"] not in ("success", "error") and second["records"] == 49
    assert third == {"stage": 3, "records": 76, "sent": False}
    assert outcome.data["sentRecords"] == 50 and outcome.data["notSent"]["records"] == 76
    assert outcome.data["jobPending"]["jobId"] == second["jobId"] == outcome.job_id
    [notice] = [n for n in outcome.notices if n.startswith("Staged rollout detached during stage 2 of 3")]
    assert f"stage 1 (1 record, batch {first['jobId']}, success)" in notice
    assert "Not sent: stage 3 (76 records)" in notice and f"cargo-shell jobs wait {second['jobId']}" in notice
    new = [b for b in _play_batches(executor) if b["uuid"] not in before]
    assert len(new) == 2  # stage 3 was never sent

    # What is saved (and replayed) is what ran: the 50 records of stages 1 and 2, not the 126.
    transcript = Transcript()
    transcript.record(outcome)
    [argv] = transcript.commands
    sent = json.loads(argv[argv.index("--data") + 1])
    assert sent["kind"] == "recordIds" and len(sent["ids"]) == 50
    assert sent["ids"] == [rid for b in sorted(new, key=lambda b: len(b["data"]["ids"])) for rid in b["data"]["ids"]]
    rest = shlex.split(outcome.data["notSent"]["commandLine"])
    assert len(json.loads(rest[rest.index("--data") + 1])["ids"]) == 76
    last = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert last["outcome"] == "detached" and [s["sent"] for s in last["stages"]] == [True, True, False]


def test_a_stage_that_cannot_be_sent_stops_the_rollout_and_says_so(make_executor: MakeExecutor, box: Sandbox) -> None:
    def events(event: object) -> None:
        if isinstance(event, StageStarted) and event.index == 2:  # stage 1 ran; now the creates fail
            box.app.faults = FaultSpec.parse("500=1,match=/v1/orchestration/batches")

    executor = make_executor(policy=Policy(assume_yes=True), events=events)
    outcome = executor.run(
        CREATE, {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": GOLD}}, wait=True
    )
    box.app.faults = None
    first, second, third = outcome.data["stages"]
    assert first["sent"] is True and second["sent"] == "unknown" and third["sent"] is False
    assert second["checkCommand"].startswith("cargo-shell orchestration batch list")
    assert outcome.job_failed and outcome.data["status"] == "stopped" and outcome.data["sentRecords"] == 1
    assert any("may have been sent: check with" in n and "Not sent:" in n for n in outcome.notices)
    assert outcome.command_line.count('"ids":[') == 1 and "--data" in outcome.command_line
