"""The executor's job events as MCP progress notifications (done / failed / total).

MCP wants ``progress`` to grow with every notification, so it counts the runs that ran (failed
ones included; across a staged rollout, those of all its stages) and a notification goes out when that count
grows, and when a job or a stage starts or a job ends; each carries a message with the numbers and
status. Only the end of the work reaches the total.
"""

from __future__ import annotations

from collections.abc import Callable

from cargo_shell.executor.events import (
    Event,
    JobCancelled,
    JobDetached,
    JobFinished,
    JobProgress,
    JobStarted,
    StageFinished,
    StageStarted,
)

#: (progress, total, message) -> None; sends one notification (a no-op when the client asked for none).
Send = Callable[[float, float | None, str], None]


def _counts(done: int | None, failed: int | None, total: int | None) -> str:
    """``12 done (1 failed) of 50``: done counts every run that ran (executedRunsCount), failed ones included."""
    return f"{done or 0} done ({failed or 0} failed)" + (f" of {total}" if total is not None else "")


class ProgressRelay:
    """An executor event sink for one tool call."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self._sent = -1.0
        self._total: int | None = None
        #: Whole steps already counted (finished rollout stages), so counts stay growing across stages.
        self._base = 0
        #: A staged rollout: the total is the rollout's records, not one stage's runs.
        self._staged = False

    def _emit(self, progress: float, message: str, *, force: bool = False) -> None:
        """Send ``progress`` if it grows; ``force``: a start or end says so even when no run finished
        (a step of 0.001, never reaching the total, which only the end of the work reaches)."""
        total = float(self._total) if self._total is not None else None
        if progress <= self._sent:
            bumped = self._sent + 0.001
            if not force or (total is not None and bumped >= total):
                return
            progress = bumped
        self._sent = progress
        self.send(progress, total, message)

    def _running(self, finished: int) -> float:
        """A poll's value: the runs finished, kept below the total until the job has ended."""
        value = float(self._base + finished)
        return min(value, self._total - 0.5) if self._total is not None else value

    def __call__(self, event: Event) -> None:
        match event:
            case JobStarted(kind=kind, job_id=job_id, total=total):
                self._track_total(total)
                self._emit(self._base, f"{kind} {job_id} started" + (f", {total} runs" if total else ""), force=True)
            case JobProgress(kind=kind, job_id=job_id, status=status, done=done, failed=failed, total=total):
                self._track_total(total)
                self._emit(self._running(done or 0), f"{kind} {job_id} {status}: {_counts(done, failed, total)}")
            case JobFinished(kind=kind, job_id=job_id, status=status, done=done, failed=failed, total=total):
                self._track_total(total)
                text = f"{kind} {job_id} ended {status}: {_counts(done, failed, total)}"
                self._emit(self._base + (done or 0), text, force=True)
            case JobCancelled(kind=kind, job_id=job_id):
                self._emit(self._sent, f"{kind} {job_id} cancelled", force=True)
            case JobDetached(kind=kind, job_id=job_id):
                self._emit(self._sent, f"stopped waiting; {kind} {job_id} keeps running", force=True)
            case StageStarted(index=index, count=count, size=size, total=total):
                self._staged, self._total = True, total
                self._emit(self._sent, f"rollout stage {index} of {count}: {size} records", force=True)
            case StageFinished(index=index, count=count, size=size, failed=failed, status=status):
                self._base += size
                self._emit(self._base, f"rollout stage {index} of {count} ended {status}, {failed} failed", force=True)
            case _:
                pass

    def _track_total(self, total: int | None) -> None:
        if total is not None and not self._staged:
            self._total = total
