"""The CLI's progress lines (stderr, no terminal): the total at once, the API's counts at the end."""

from __future__ import annotations

import io

from cargo_shell.executor import JobFinished, JobProgress, JobStarted
from cargo_shell.render.progress import CliEvents


def test_a_batch_shows_its_total_from_the_start_and_the_real_counts_when_cancelled() -> None:
    err = io.StringIO()
    sink = CliEvents(err, tty=False)
    sink(JobStarted("batch", "b-1", "orchestration batch create", total=49))
    sink(JobProgress("batch", "b-1", "pending", 0.0, 0, 0, 0))  # the API counts runs once it starts
    sink(JobProgress("batch", "b-1", "running", 5.0, 19, 0, 49))
    sink(JobFinished("batch", "b-1", "cancelled", failed=0, total=49, done=19))
    lines = err.getvalue().splitlines()
    assert lines == [
        "started batch b-1",
        "batch b-1: pending 0/49 done, 0 failed",
        "batch b-1: running 19/49 done, 0 failed",
        "batch b-1 finished: cancelled (19 of 49 run, 0 failed)",
    ]
