"""The one exception tree of cargo-shell, and the exit statuses it maps to.

::

    CargoShellError                 anything we raise on purpose; carries a user-facing message
    ├── UsageError                  bad command line or arguments (exit 2)
    ├── ConfigError                 unreadable/invalid local configuration (exit 1)
    ├── ApprovalRequired            an action needed approval that nobody gave (exit 3)
    ├── Declined                    the user (or a rule) said no (exit 3)
    ├── JobFailed                   an awaited run/batch/message ended in error (exit 1)
    ├── Interrupted                 the user pressed Ctrl-C (exit 130)
    └── ApiError                    anything that went wrong talking to the Cargo API (exit 1)
        ├── JobPending              a job was accepted, then following it failed (exit 5)
        ├── NetworkError            no HTTP status at all
        │   ├── ConnectError        provably never reached the server: safe to resend anything
        │   └── AmbiguousNetworkError  timed out / reset mid-request: the server may have acted
        └── ApiStatusError          the server answered with a non-2xx status
            ├── AuthError           401 (and 403): token missing, wrong or without access
            ├── RequestError        other 4xx; ``reason`` is the API's machine-readable code
            └── ServerError         5xx and anything else

Interrupts are not errors: Ctrl-C is ``KeyboardInterrupt`` (exit 130); SIGTERM and SIGHUP are
:class:`Terminated` (exit 128 + the signal number), a ``KeyboardInterrupt`` so that every front end
stops the same way. An interrupt after a job was accepted becomes :class:`JobInterrupted` (exit 5),
which names the job so the report can say how to re-attach.
"""

from __future__ import annotations

import enum
from typing import Any


class ExitStatus(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    APPROVAL_REQUIRED = 3
    PARTIAL_FAILURE = 4
    #: A job was accepted but not followed to its end (detached, interrupted, or its status could
    #: not be read): it exists and may still run; `cargo-shell jobs wait ID` re-attaches. Do not re-run.
    JOB_PENDING = 5
    INTERRUPTED = 130
    #: Killed by a signal: 128 + its number (SIGHUP 129, SIGTERM 143), when no job was accepted.
    SIGNAL_BASE = 128


class CargoShellError(Exception):
    """Base of every deliberate error; ``str(err)`` is what the user reads."""

    exit_status = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"errorMessage": self.message}
        if self.hint:
            body["hint"] = self.hint
        return body


class UsageError(CargoShellError):
    exit_status = ExitStatus.USAGE


class ConfigError(CargoShellError):
    pass


class ApprovalRequired(CargoShellError):
    exit_status = ExitStatus.APPROVAL_REQUIRED

    def __init__(self, message: str, *, plan: dict[str, Any] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.plan = plan

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        if self.plan is not None:
            body["plan"] = self.plan
        return body


class Declined(CargoShellError):
    """Not run because someone said no: ``decided_by`` is ``user`` or ``mcp`` (a person's answer, at
    the terminal or through an MCP client), ``rule`` (a deny rule) or ``flag`` (``mcp --read-only``)."""

    exit_status = ExitStatus.APPROVAL_REQUIRED

    def __init__(
        self, message: str, *, hint: str | None = None, decided_by: str = "user", rule_id: int | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.decided_by = decided_by
        self.rule_id = rule_id


class JobFailed(CargoShellError):
    def __init__(self, message: str, *, job: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.job = job


class Interrupted(CargoShellError):
    exit_status = ExitStatus.INTERRUPTED


class ApiError(CargoShellError):
    pass


class JobPending(ApiError):
    """A job was accepted by the API, then following it failed (polls failing, the network gone).

    The job exists and may still be running: a retry of the command would start (and pay for) a
    second one. ``pending`` is the machine form: job id, kind, last known status, the command that
    re-attaches, and for a staged rollout what was and was not sent.
    """

    exit_status = ExitStatus.JOB_PENDING

    def __init__(self, message: str, *, pending: dict[str, Any], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pending = pending
        #: The executor's outcome of the action (set by the executor; front ends may record it).
        self.outcome: Any = None

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["jobPending"] = self.pending
        return body


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived (raised by the CLI's signal handler); handled like Ctrl-C, nobody is asked."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.signum = signum
        self.name = name


class JobInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C, SIGTERM, SIGHUP) after a job was accepted: carries what :class:`JobPending` does."""

    def __init__(self, message: str, *, pending: dict[str, Any], signal_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pending = pending
        self.signal_name = signal_name
        self.outcome: Any = None

    @property
    def hint(self) -> str:
        return f"Re-attach: {self.pending.get('waitCommand')}"

    def to_json(self) -> dict[str, Any]:
        return {"errorMessage": self.message, "hint": self.hint, "jobPending": self.pending}


def interrupt_report(exc: KeyboardInterrupt) -> tuple[dict[str, Any], int]:
    """The error body and exit status of an interrupt: Ctrl-C (130), SIGTERM/SIGHUP (128 + N), or
    either after a job was accepted (:class:`JobInterrupted`: 5, naming the job)."""
    if isinstance(exc, JobInterrupted):
        return exc.to_json(), int(ExitStatus.JOB_PENDING)
    if isinstance(exc, Terminated):
        return {"errorMessage": f"Stopped by {exc.name}"}, int(ExitStatus.SIGNAL_BASE) + exc.signum
    return {"errorMessage": "Interrupted"}, int(ExitStatus.INTERRUPTED)


class NetworkError(ApiError):
    """No HTTP status came back."""

    #: True when the request provably never reached the server.
    never_sent = False


class ConnectError(NetworkError):
    never_sent = True


class AmbiguousNetworkError(NetworkError):
    pass


class ApiStatusError(ApiError):
    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["status"] = self.status
        if self.reason:
            body["reason"] = self.reason
        return body


class AuthError(ApiStatusError):
    pass


class RequestError(ApiStatusError):
    pass


class ServerError(ApiStatusError):
    pass


def status_error(
    status: int,
    message: str,
    *,
    reason: str | None = None,
    request_id: str | None = None,
    body: Any = None,
    retry_after: float | None = None,
) -> ApiStatusError:
    """Pick the exception class for an HTTP status (the catalogue's error classes)."""
    cls: type[ApiStatusError]
    hint = None
    if status in (401, 403):
        cls = AuthError
        hint = "Check your token with `cargo-shell whoami`, or log in again with `cargo-shell login --token ...`."
    elif 400 <= status < 499:
        cls = RequestError
    else:
        cls = ServerError
    return cls(
        message,
        status=status,
        reason=reason,
        request_id=request_id,
        body=body,
        retry_after=retry_after,
        hint=hint,
    )
