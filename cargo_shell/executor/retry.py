"""Send one API request with bounded, jittered retries — never duplicating a write.

A request that creates or spends (POST with effect write/cost: runs, batches, messages,
actions, creates) is resent only when it provably never reached the server
(:class:`ConnectError`) or the server refused it before processing (429, 503). After an
ambiguous failure (timeout or reset mid-request, 408, 500/502/504) it raises
:class:`WriteOutcomeUnknown` with a command to check what happened. Everything else
(reads, PUT updates, DELETEs) is retried on network errors, 408, 429 and 5xx.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Literal

from cargo_shell.api.client import ApiResponse, CargoClient
from cargo_shell.api.request import ApiRequest
from cargo_shell.errors import ApiError, ApiStatusError, ConnectError, NetworkError
from cargo_shell.executor.events import EventSink, RequestSent, RetryScheduled
from cargo_shell.registry.spec import CommandSpec, Effect

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Answers that never change on a second try (the server refused before acting).
PERMANENT_STATUSES = frozenset({501, 505})
REFUSED_STATUSES = frozenset({429, 503})  # answered before any processing: safe to resend a write


@dataclass(frozen=True)
class RetryConfig:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    #: Stop retrying when the next sleep would pass this many seconds since the first attempt.
    max_total_s: float = 120.0

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> RetryConfig:
        """``CARGO_SHELL_RETRIES`` (attempts in total) and ``CARGO_SHELL_RETRY_MAX_SECONDS``."""
        base = cls()
        attempts, total = base.max_attempts, base.max_total_s
        try:
            if environ.get("CARGO_SHELL_RETRIES"):
                attempts = max(1, int(environ["CARGO_SHELL_RETRIES"]))
            if environ.get("CARGO_SHELL_RETRY_MAX_SECONDS"):
                total = max(0.0, float(environ["CARGO_SHELL_RETRY_MAX_SECONDS"]))
        except ValueError:
            pass
        return cls(max_attempts=attempts, max_total_s=total)


class WriteOutcomeUnknown(ApiError):
    """A create/spend request failed ambiguously; it was NOT resent. The user must check."""

    def __init__(self, message: str, *, check_command: str | None, request_id: str | None = None) -> None:
        hint = f"Check with: {check_command}" if check_command else None
        super().__init__(message, hint=hint)
        self.check_command = check_command
        self.request_id = request_id

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["outcomeUnknown"] = True
        if self.check_command:
            body["checkCommand"] = self.check_command
        if self.request_id:
            body["requestId"] = self.request_id
        return body


def creates_or_spends(spec: CommandSpec, effect: Effect | None = None) -> bool:
    """True for requests whose repetition could duplicate a write or a spend.

    ``effect`` is the call's effective effect: when its arguments raised it above the
    command's own (SQL that writes, a fetch that enriches), nothing shows that sending it
    twice is harmless, so it is not resent either.
    """
    if spec.http is None or spec.http.method != "POST":
        return False
    return spec.effect in ("write", "cost") or (effect is not None and effect != spec.effect)


Verdict = Literal["retry", "ambiguous", "fail"]


def classify(exc: ApiError, *, unsafe: bool) -> Verdict:
    if isinstance(exc, ConnectError):
        return "retry"
    if isinstance(exc, ApiStatusError):
        if exc.status in REFUSED_STATUSES:
            return "retry"
        if exc.status in PERMANENT_STATUSES:
            return "fail"
        if exc.status in RETRY_STATUSES or exc.status >= 500:
            return "ambiguous" if unsafe else "retry"
        return "fail"
    if isinstance(exc, NetworkError):
        return "ambiguous" if unsafe else "retry"
    return "fail"


def backoff_delay(attempt: int, config: RetryConfig, rng: random.Random, retry_after: float | None) -> float:
    """Delay before attempt ``attempt + 1``: Retry-After when given, else equal-jitter exponential."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), config.max_delay_s)
    ceiling = min(config.max_delay_s, config.base_delay_s * (2 ** (attempt - 1)))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


class Sender:
    """Sends requests through a :class:`CargoClient` with the retry rules above."""

    def __init__(
        self,
        client: CargoClient,
        *,
        config: RetryConfig,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        emit: EventSink,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.sleep = sleep
        self.clock = clock
        self.emit = emit
        self.rng = rng or random.Random()
        #: Counters for tests and benchmarks.
        self.attempts = 0
        self.retries = 0

    def send(
        self,
        req: ApiRequest,
        *,
        unsafe: bool,
        check_command: str | None = None,
        max_attempts: int | None = None,
        sink: IO[bytes] | None = None,
    ) -> ApiResponse:
        """Send ``req``; ``max_attempts`` lowers the configured bound for this request (e.g. 1: no retry).

        With a ``sink``, a successful answer's body is streamed into it (a file download)."""
        started = self.clock()
        attempt = 0
        limit = self.config.max_attempts if max_attempts is None else min(max_attempts, self.config.max_attempts)
        while True:
            attempt += 1
            self.attempts += 1
            self.emit(RequestSent(req.method, req.path, attempt))
            try:
                return self.client.send(req) if sink is None else self.client.stream(req, sink)
            except ApiError as exc:
                verdict = classify(exc, unsafe=unsafe)
                if verdict == "ambiguous":
                    raise WriteOutcomeUnknown(
                        f"{req.method} {req.path} failed in a way that does not tell whether the server "
                        f"acted on it ({exc.message}). It was not resent, so nothing is duplicated; "
                        "check whether it took effect before trying again.",
                        check_command=check_command,
                        request_id=getattr(exc, "request_id", None),
                    ) from exc
                if verdict == "fail" or attempt >= limit:
                    raise
                delay = backoff_delay(attempt, self.config, self.rng, getattr(exc, "retry_after", None))
                if self.clock() - started + delay > self.config.max_total_s:
                    raise
                reason = f"HTTP {exc.status}" if isinstance(exc, ApiStatusError) else type(exc).__name__
                self.retries += 1
                self.emit(RetryScheduled(req.method, req.path, attempt, delay, reason))
                self.sleep(delay)
