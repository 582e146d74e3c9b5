"""Confirmation on the 2026-07-28 protocol era, where a server cannot send the client a request.

There the question travels as the call's own result: the call answers ``InputRequiredResult``
with the elicitation form and an opaque ``request_state``, the client asks the person and sends
the same call again with the answer. Nothing runs in the first round (the executor stops at the
confirmation, before any audit line or request). The state is a random id, known to this
process only, single use and short-lived, bound to the exact question shown: in the second
round the answer approves the call only if the plan built again reads the same, word for word;
otherwise the person is asked again.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cargo_shell.mcp.confirm import Ask, ElicitAction

#: How long an open question stays answerable.
TTL_S = 900.0
#: Open questions kept at most (the oldest are dropped first).
MAX_OPEN = 256


class NeedsAnswer(Exception):
    """The person must be asked first: raised through the executor, before anything is sent."""

    def __init__(self, message: str, schema: dict[str, Any]) -> None:
        super().__init__("the person must answer first")
        self.message = message
        self.schema = schema


def _digest(message: str) -> str:
    return hashlib.sha256(message.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Answer:
    """The person's answer to the question identified by a ``request_state``."""

    digest: str
    action: ElicitAction
    content: dict[str, Any] | None


class OpenQuestions:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._open: dict[str, tuple[str, float]] = {}

    def open(self, message: str) -> str:
        now = self.clock()
        self._open = {k: v for k, v in self._open.items() if now - v[1] < TTL_S}
        while len(self._open) >= MAX_OPEN:
            self._open.pop(next(iter(self._open)))
        state = secrets.token_urlsafe(24)
        self._open[state] = (_digest(message), now)
        return state

    def take(self, state: str | None, action: ElicitAction, content: dict[str, Any] | None) -> Answer | None:
        """The answer to an open question (which is then closed), or None for an unknown or stale state."""
        if state is None:
            return None
        found = self._open.pop(state, None)
        if found is None or self.clock() - found[1] >= TTL_S:
            return None
        return Answer(found[0], action, content)


def asker(answer: Answer | None) -> Ask:
    """The confirmer's ``ask`` for one round: the answer given for this very question, or a new question."""
    unused = [answer] if answer is not None else []

    def ask(message: str, schema: dict[str, Any]) -> tuple[ElicitAction, dict[str, Any] | None]:
        if unused and unused[0].digest == _digest(message):
            given = unused.pop()
            return given.action, given.content
        raise NeedsAnswer(message, schema)

    return ask
