"""Wait for a background job: poll at the catalogue's interval, back off on long jobs, handle Ctrl-C.

The poller knows nothing about HTTP: it gets ``fetch(job_id) -> response data`` and
``cancel(job_id)`` callables from the executor (which sends them with retries), so it can
be driven by a fake clock in tests. Ctrl-C asks the caller (cancel, detach or keep waiting; Ctrl-C
at that question detaches); SIGTERM/SIGHUP (:class:`Terminated`) detach without asking and propagate,
so the process ends after saying which job keeps running.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cargo_shell.errors import Terminated
from cargo_shell.executor.confirm import InterruptChoice
from cargo_shell.executor.events import (
    EventSink,
    JobCancelled,
    JobDetached,
    JobFinished,
    JobProgress,
    WaitInterrupted,
)
from cargo_shell.registry.jobs import JobKind


def dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def job_counts(job: Any) -> tuple[int | None, int | None, int | None]:
    """(done, failed, total) of a batch object; Nones for runs and messages."""
    if not isinstance(job, dict):
        return None, None, None

    def num(key: str) -> int | None:
        value = job.get(key)
        return int(value) if isinstance(value, int | float) else None

    return num("executedRunsCount"), num("failedRunsCount"), num("runsCount")


@dataclass
class WaitResult:
    data: Any
    status: str | None
    polls: int
    detached: bool = False
    cancelled: bool = False

    @property
    def job(self) -> Any:
        return self.data


class Poller:
    def __init__(
        self,
        *,
        fetch: Callable[[str], Any],
        cancel: Callable[[str], Any] | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        emit: EventSink,
        on_interrupt: Callable[[str, str], InterruptChoice],
        on_update: Callable[[str, str, Any, bool], None] | None = None,
    ) -> None:
        self.fetch = fetch
        self.cancel = cancel
        self.sleep = sleep
        self.clock = clock
        self.emit = emit
        self.on_interrupt = on_interrupt
        self.on_update = on_update

    def interval(self, kind: JobKind, waited_s: float, every_s: float | None = None) -> float:
        """Seconds until the next poll: ``every_s`` when the call asked for an interval, else the kind's
        interval, slower once the job has run ``slow_after_s``."""
        if every_s is not None:
            return every_s
        return kind.slow_interval_s if waited_s > kind.slow_after_s else kind.interval_s

    def wait(self, kind: JobKind, job_id: str, *, every_s: float | None = None) -> WaitResult:
        """Poll ``job_id`` to a terminal status (or until the user detaches); ``every_s``: see :meth:`interval`."""
        started = self.clock()
        polls = 0
        cancelled = False
        data: Any = None
        status: str | None = None
        while True:
            try:
                data = self.fetch(job_id)
                polls += 1
                job = dig(data, kind.response_key)
                status = dig(job, "status")
                done, failed, total = job_counts(job)
                terminal = status in kind.terminal
                if self.on_update is not None and isinstance(status, str):
                    self.on_update(job_id, status, job, terminal)
                if terminal:
                    self.emit(JobFinished(kind.kind, job_id, str(status), failed, total, done))
                    return WaitResult(data, status, polls, cancelled=cancelled)
                self.emit(JobProgress(kind.kind, job_id, str(status), self.clock() - started, done, failed, total))
                self.sleep(self.interval(kind, self.clock() - started, every_s))
            except KeyboardInterrupt as exc:
                self.emit(WaitInterrupted(kind.kind, job_id))
                if isinstance(exc, Terminated):  # SIGTERM / SIGHUP: nobody is asked; the caller reports it
                    self.emit(JobDetached(kind.kind, job_id))
                    raise
                try:
                    choice = "detach" if cancelled else self.on_interrupt(kind.kind, job_id)
                except KeyboardInterrupt as again:
                    if isinstance(again, Terminated):
                        self.emit(JobDetached(kind.kind, job_id))
                        raise
                    choice = "detach"  # Ctrl-C again at the question: stop waiting
                if choice == "continue":
                    continue
                if choice == "cancel" and self.cancel is not None:
                    self.cancel(job_id)
                    cancelled = True
                    self.emit(JobCancelled(kind.kind, job_id))
                    continue
                self.emit(JobDetached(kind.kind, job_id))
                return WaitResult(data, status, polls, detached=True, cancelled=cancelled)
