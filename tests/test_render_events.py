"""Executor events rendered to a string: one method per event type, the job's total known from its start."""

from __future__ import annotations

import io

from rich.console import Console

from cargo_shell.executor import events as ev
from cargo_shell.render.job_progress import JobEvents, JobProgress


def test_every_executor_event_type_is_drawn_by_its_own_method() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, no_color=True)
    sink = JobEvents(console, JobProgress(console))
    for event in (
        ev.Notice("the segment filter was corrected"),
        ev.RequestSent("POST", "/v1/orchestration/batches", 1),
        ev.RetryScheduled("POST", "/v1/orchestration/batches", 1, 2.0, "HTTP 503"),
        ev.JobStarted("batch", "b1b2b3b4-0000", "orchestration batch create", total=3),
        ev.JobProgress("batch", "b1b2b3b4-0000", "running", 1.0, done=1, failed=0, total=0),
        ev.JobProgress("batch", "b1b2b3b4-0000", "running", 2.0, done=1, failed=0, total=0),  # unchanged: no line
        ev.WaitInterrupted("batch", "b1b2b3b4-0000"),
        ev.JobCancelled("batch", "b1b2b3b4-0000"),
        ev.JobFinished("batch", "b1b2b3b4-0000", "cancelled", failed=1, total=3, done=2),
        ev.JobDetached("run", "r9"),
        ev.StageStarted(1, 2, 5, 10),
        ev.StageFinished(1, 2, 5, 0, "success"),
    ):
        sink(event)
    assert out.getvalue().splitlines() == [
        "note: the segment filter was corrected",
        "retrying POST /v1/orchestration/batches in 2.0s (HTTP 503)",
        "started batch b1b2b3b4-0000 (orchestration batch create)",
        "batch b1b2b3b4 running, 1/3 runs",  # the total from the start, while the API still says 0
        "cancel requested for batch b1b2b3b4-0000",
        "batch b1b2b3b4 cancelled, 2/3 runs, 1 failed",
        "run r9 keeps running in the background (/jobs)",
        "stage 1/2: 5 of 10 records",
        "stage 1/2 success, 0 failed",
    ]


def test_a_notice_is_shown_as_typed_not_as_markup() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, no_color=True)
    JobEvents(console, JobProgress(console))(ev.Notice("[bold]--limit[/bold] was capped at [100]"))
    assert out.getvalue() == "note: [bold]--limit[/bold] was capped at [100]\n"
