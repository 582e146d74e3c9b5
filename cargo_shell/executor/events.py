"""Progress events the executor emits while it works.

Front ends subscribe with one callable (``EventSink``): the CLI draws a rich progress bar on
stderr, the REPL prints lines above the prompt, the agent turns them into loop events.
Events are small frozen dataclasses; match on the class (``isinstance`` or ``match``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

NoticeLevel = Literal["info", "warning"]


@dataclass(frozen=True)
class Notice:
    """Something the user should read (a guard correction, an unsent flag, a warning)."""

    message: str
    level: NoticeLevel = "info"


@dataclass(frozen=True)
class RequestSent:
    method: str
    path: str
    attempt: int


@dataclass(frozen=True)
class RetryScheduled:
    """A request failed in a way that is safe to resend; it will be resent after ``delay_s``."""

    method: str
    path: str
    attempt: int
    delay_s: float
    reason: str


@dataclass(frozen=True)
class JobStarted:
    """The API accepted a job. ``total``: the runs it will make, when known at once (the create
    response's count, else the plan's record count: the API counts a batch's runs only once it starts)."""

    kind: str
    job_id: str
    command: str
    total: int | None = None


@dataclass(frozen=True)
class JobProgress:
    """One poll of a background job. ``done``/``failed``/``total`` are known for batches only."""

    kind: str
    job_id: str
    status: str
    elapsed_s: float
    done: int | None = None
    failed: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class JobFinished:
    """A job reached a terminal status; the counts are the API's last answer (batches only)."""

    kind: str
    job_id: str
    status: str
    failed: int | None = None
    total: int | None = None
    done: int | None = None


@dataclass(frozen=True)
class WaitInterrupted:
    """Ctrl-C while waiting: the front end should clear live progress before the question is asked."""

    kind: str
    job_id: str


@dataclass(frozen=True)
class JobDetached:
    """The user stopped waiting; the job keeps running and can be re-attached."""

    kind: str
    job_id: str


@dataclass(frozen=True)
class JobCancelled:
    kind: str
    job_id: str


@dataclass(frozen=True)
class StageStarted:
    """Staged rollout: stage ``index`` (1-based) of ``count`` sends ``size`` records."""

    index: int
    count: int
    size: int
    total: int


@dataclass(frozen=True)
class StageFinished:
    index: int
    count: int
    size: int
    failed: int
    status: str


Event = (
    Notice
    | RequestSent
    | RetryScheduled
    | JobStarted
    | JobProgress
    | JobFinished
    | WaitInterrupted
    | JobDetached
    | JobCancelled
    | StageStarted
    | StageFinished
)
EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The default sink."""
