"""Polling on a fake clock: intervals, slow-down, partial failures, Ctrl-C cancel/detach, re-attach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cargo_shell.executor import Approval, JobProgress, JobStore, Policy
from cargo_shell.executor.polling import Poller
from cargo_shell.registry import get_registry

from .conftest import Answers, FakeClock, MakeExecutor

PLAY_WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"
SEGMENT = "3a53ebe1-0bbf-4d74-b4db-9931e932a1d2"
BATCH = get_registry().get("orchestration batch create")
SEGMENT_BATCH = {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": SEGMENT}}


def test_wait_polls_at_the_batch_interval_and_reports_partial_failure(
    make_executor: MakeExecutor, clock: FakeClock
) -> None:
    events: list[Any] = []
    executor = make_executor(policy=Policy(assume_yes=True), events=events.append)
    outcome = executor.run(BATCH, {**SEGMENT_BATCH, "wait-until-finished": True})
    assert outcome.job_status == "success"
    assert outcome.data["batch"]["status"] == "success"
    assert set(clock.sleeps) == {5.0}  # the catalogue's batch interval, no real sleeping
    progress = [e for e in events if isinstance(e, JobProgress)]
    polls = len(progress) + 1
    assert polls == len(clock.sleeps) + 1
    batch = outcome.job or {}
    if batch.get("failedRunsCount"):
        assert outcome.partial_failure and outcome.exit_status(strict=True) == 4
        assert outcome.exit_status() == 0
        assert any("run(s) failed" in n for n in outcome.notices)
    assert outcome.credits == batch.get("creditsUsedCount")


class ScriptedJob:
    """A fake job API: status sequence per poll (for slow-down and interrupt tests)."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.polls = 0
        self.cancelled = False

    def fetch(self, job_id: str) -> dict[str, Any]:
        status = "cancelled" if self.cancelled else self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        return {"batch": {"uuid": job_id, "status": status, "runsCount": 10, "executedRunsCount": 3}}

    def cancel(self, job_id: str) -> None:
        self.cancelled = True


def test_long_jobs_are_polled_less_often(clock: FakeClock) -> None:
    job = ScriptedJob(["running"] * 40 + ["success"])
    poller = Poller(
        fetch=job.fetch,
        cancel=None,
        sleep=clock.sleep,
        clock=clock,
        emit=lambda e: None,
        on_interrupt=lambda k, j: "detach",
    )
    result = poller.wait(get_registry().job_kind("batch"), "b1")
    assert result.status == "success" and result.polls == 41
    kind = get_registry().job_kind("batch")
    assert clock.sleeps[0] == kind.interval_s and clock.sleeps[-1] == kind.slow_interval_s
    assert all(s == kind.interval_s for s in clock.sleeps[: int(kind.slow_after_s // kind.interval_s)])


def interrupt_on(clock: FakeClock, nth: int) -> Any:
    calls = {"n": 0}

    def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] == nth:
            raise KeyboardInterrupt
        clock.sleep(seconds)

    return sleep


def test_ctrl_c_cancel_cancels_the_remote_batch(make_executor: MakeExecutor, clock: FakeClock) -> None:
    confirmer = Answers(Approval("yes"), interrupt="cancel")
    executor = make_executor(confirmer=confirmer, sleep=interrupt_on(clock, 1))
    outcome = executor.run(BATCH, {**SEGMENT_BATCH, "wait-until-finished": True})
    assert outcome.cancelled and outcome.job_status == "cancelled"
    assert outcome.exit_status() == 130
    remote = executor.run(get_registry().get("orchestration batch get"), {"batch-uuid": outcome.job_id}).data
    assert remote["batch"]["status"] == "cancelled"
    assert executor.jobs is not None
    record = executor.jobs.get(outcome.job_id or "")
    assert record is not None and record.status == "cancelled" and record.finished_at is not None


def test_ctrl_c_detach_then_reattach_after_restart(
    make_executor: MakeExecutor, clock: FakeClock, tmp_path: Path
) -> None:
    confirmer = Answers(Approval("yes"), interrupt="detach")
    executor = make_executor(confirmer=confirmer, sleep=interrupt_on(clock, 1))
    outcome = executor.run(BATCH, {**SEGMENT_BATCH, "wait-until-finished": True})
    assert outcome.detached and not outcome.cancelled
    assert any("cargo-shell jobs wait" in n for n in outcome.notices)
    job_id = outcome.job_id or ""
    store = JobStore(tmp_path / "jobs.db", clock=clock)
    assert store.get(job_id) is not None and store.get(job_id).finished_at is None  # type: ignore[union-attr]
    assert [r.job_id for r in store.list(active_only=True)] == [job_id]

    fresh = make_executor()  # a new process: only the job store is shared
    again = fresh.attach(job_id, "batch")
    assert again.job_status == "success"
    assert store.get(job_id).status == "success"  # type: ignore[union-attr]
    assert store.list(active_only=True) == []


def test_second_ctrl_c_after_cancel_detaches(clock: FakeClock) -> None:
    job_cancel_ignored = ScriptedJob(["running"] * 5)
    n = {"i": 0}

    def sleep(seconds: float) -> None:
        n["i"] += 1
        if n["i"] in (1, 2):
            raise KeyboardInterrupt
        clock.sleep(seconds)

    poller = Poller(
        fetch=job_cancel_ignored.fetch,
        cancel=lambda j: None,
        sleep=sleep,
        clock=clock,
        emit=lambda e: None,
        on_interrupt=lambda k, j: "cancel",
    )
    result = poller.wait(get_registry().job_kind("batch"), "b1")
    assert result.cancelled and result.detached
    assert job_cancel_ignored.polls == 2


ACTION = get_registry().get("orchestration action execute")
FORMULA = {"kind": "native", "actionSlug": "formula", "config": {"expression": "{{nodes.start.a}}"}}


def test_polling_interval_sets_the_pause_between_polls(make_executor: MakeExecutor, clock: FakeClock) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    raw = {"action": FORMULA, "data": {"a": 1}, "wait-until-finished": True}
    default = executor.run(ACTION, raw)
    assert default.job_status == "success"
    assert clock.sleeps and set(clock.sleeps) == {get_registry().job_kind("run").interval_s}
    clock.sleeps.clear()
    asked = executor.run(ACTION, {**raw, "polling-interval": 750})
    assert asked.job_status == "success"
    assert clock.sleeps and set(clock.sleeps) == {0.75}


def test_polling_faster_than_the_floor_is_refused_before_anything_is_sent(make_executor: MakeExecutor) -> None:
    from cargo_shell.errors import UsageError

    executor = make_executor(policy=Policy(assume_yes=True))
    raw = {"action": FORMULA, "data": {"a": 1}, "wait-until-finished": True, "polling-interval": 100}
    with pytest.raises(UsageError, match=r"--polling-interval: .*500"):
        executor.run(ACTION, raw)
    assert executor.sender.attempts == 0
