"""Live progress of the runs and batches the executor follows, fed by its events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.executor import events as ev

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


def job_line(kind: str, job_id: str, status: str, done: int | None, failed: int | None, total: int | None) -> str:
    """One-line status, used when the output is not a terminal and when a job ends."""
    parts = [f"{kind} {job_id[:8]} {status}"]
    if total:
        parts.append(f"{done or 0}/{total} runs")
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts)


class JobProgress:
    """A progress bar per job on a terminal; one line per status change otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._last: dict[str, str] = {}
        #: The runs each job will make, as first known (the API says 0 until a batch starts).
        self._totals: dict[str, int] = {}

    def started(self, kind: str, job_id: str, total: int | None) -> None:
        """Remember the runs a job will make: the first poll (sent at once) shows them, not 0/0.

        Nothing is drawn yet: the bar appears when the wait begins, where Ctrl-C offers cancel/detach.
        """
        if total:
            self._totals[job_id] = total

    def update(
        self,
        kind: str,
        job_id: str,
        status: str,
        *,
        done: int | None = None,
        failed: int | None = None,
        total: int | None = None,
        finished: bool = False,
    ) -> None:
        if total:
            self._totals[job_id] = total
        else:
            total = self._totals.get(job_id, total)
        line = job_line(kind, job_id, status, done, failed, total)
        if finished:
            self._totals.pop(job_id, None)
        if not self.console.is_terminal:
            if self._last.get(job_id) != line:
                self._last[job_id] = line
                self.console.print(line, highlight=False)
            return
        progress = self._ensure()
        label = f"{kind} {job_id[:8]} [{status}]" + (f" {failed} failed" if failed else "")
        if job_id not in self._tasks:
            self._tasks[job_id] = progress.add_task(label, total=total)
        task = self._tasks[job_id]
        if finished and not total:
            total, done = 1, 1
        progress.update(task, description=label, total=total, completed=done or 0)
        if finished:
            progress.remove_task(task)
            del self._tasks[job_id]
            if not self._tasks:
                self.stop()
            self.console.print(("✓ " if status == "success" and not failed else "• ") + line, highlight=False)

    def _ensure(self) -> Progress:
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self._progress

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()


def describe(event: ev.Event) -> str | None:
    """Text for executor events that are not progress bars (None: nothing to show)."""
    match event:
        case ev.Notice():
            return f"note: {event.message}"
        case ev.RetryScheduled():
            return f"retrying {event.method} {event.path} in {event.delay_s:.1f}s ({event.reason})"
        case ev.JobStarted():
            return f"started {event.kind} {event.job_id} ({event.command})"
        case ev.JobDetached():
            return f"{event.kind} {event.job_id} keeps running in the background (/jobs)"
        case ev.JobCancelled():
            return f"cancel requested for {event.kind} {event.job_id}"
        case ev.StageStarted():
            return f"stage {event.index}/{event.count}: {event.size} of {event.total} records"
        case ev.StageFinished():
            return f"stage {event.index}/{event.count} {event.status}, {event.failed} failed"
    return None


class JobEvents:
    """An executor event sink drawing on a rich console: a bar (or lines) per job, the other events as
    dim notes. One method per kind of event; a front end overrides the ones it shows differently."""

    def __init__(self, console: Console, progress: JobProgress) -> None:
        self.console = console
        self.progress = progress

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.JobStarted():
                self.job_started(event)
            case ev.JobProgress():
                self.job_progress(event)
            case ev.JobFinished():
                self.job_finished(event)
            case _:
                self.note(event)

    def job_started(self, event: ev.JobStarted) -> None:
        self.note(event)
        self.progress.started(event.kind, event.job_id, event.total)

    def job_progress(self, event: ev.JobProgress) -> None:
        self.progress.update(
            event.kind, event.job_id, event.status, done=event.done, failed=event.failed, total=event.total
        )

    def job_finished(self, event: ev.JobFinished) -> None:
        self.progress.update(
            event.kind,
            event.job_id,
            event.status,
            done=event.done,
            failed=event.failed,
            total=event.total,
            finished=True,
        )

    def note(self, event: ev.Event) -> None:
        text = describe(event)
        if text:
            self.progress.stop()
            self.console.print(text, style="dim", highlight=False, markup=False)
