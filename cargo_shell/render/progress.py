"""The one-shot CLI's event sink: notices and retries as stderr lines, live job progress on a TTY."""

from __future__ import annotations

from dataclasses import replace
from typing import IO, Any

from cargo_shell.executor.events import (
    Event,
    JobCancelled,
    JobDetached,
    JobFinished,
    JobProgress,
    JobStarted,
    Notice,
    RetryScheduled,
    StageFinished,
    StageStarted,
    WaitInterrupted,
)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class CliEvents:
    """Callable event sink. On a TTY, batches get a rich progress bar (done / failed / total)."""

    def __init__(self, stderr: IO[str], *, tty: bool | None = None, no_color: bool = False) -> None:
        self.stderr = stderr
        self.tty = _isatty(stderr) if tty is None else tty
        self.no_color = no_color
        self._progress: Any = None
        self._task: Any = None
        self._last_status: dict[str, str] = {}
        #: Expected runs per job (from JobStarted) while the API still reports 0.
        self._totals: dict[str, int] = {}

    def line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Notice):
            self.line(("warning: " if event.level == "warning" else "note: ") + event.message)
        elif isinstance(event, RetryScheduled):
            self.line(f"retrying {event.method} {event.path} in {event.delay_s:.1f}s ({event.reason})")
        elif isinstance(event, JobStarted):
            self.line(f"started {event.kind} {event.job_id}")
            if event.total:  # the first poll shows it (the API says 0 runs until the batch starts)
                self._totals[event.job_id] = event.total
        elif isinstance(event, JobProgress):
            self._progress_update(event)
        elif isinstance(event, JobFinished):
            self._stop()
            counts = ""
            if event.total is not None:
                ran = f"{event.done} of {event.total} run, " if event.done is not None else ""
                counts = f" ({ran}{event.failed or 0} failed)"
            self.line(f"{event.kind} {event.job_id} finished: {event.status}{counts}")
        elif isinstance(event, WaitInterrupted | JobDetached):
            self._stop()
        elif isinstance(event, JobCancelled):
            self.line(f"cancel requested for {event.kind} {event.job_id}; waiting for it to stop")
        elif isinstance(event, StageStarted):
            self.line(f"rollout stage {event.index}/{event.count}: {event.size} record(s) of {event.total}")
        elif isinstance(event, StageFinished):
            self.line(f"rollout stage {event.index}/{event.count} {event.status}: {event.failed} failed")

    def _progress_update(self, event: JobProgress) -> None:
        if event.total:
            self._totals[event.job_id] = event.total
        elif event.job_id in self._totals:
            event = replace(event, total=self._totals[event.job_id])
        if not self.tty:
            if self._last_status.get(event.job_id) != event.status:
                self._last_status[event.job_id] = event.status
                counts = f" {event.done}/{event.total} done, {event.failed} failed" if event.total else ""
                self.line(f"{event.kind} {event.job_id}: {event.status}{counts}")
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        if self._progress is None:
            console = Console(file=self.stderr, no_color=self.no_color, force_terminal=True)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(f"{event.kind} {event.job_id[:8]}", total=None, counts="")
        counts = ""
        if event.total:
            counts = f"{event.done or 0}/{event.total} done, {event.failed or 0} failed"
        self._progress.update(
            self._task,
            description=f"{event.kind} {event.job_id[:8]} {event.status}",
            total=event.total or None,
            completed=event.done or 0,
            counts=counts + "  Ctrl-C: cancel/detach",
        )

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
