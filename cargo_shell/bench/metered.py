"""The model as the benchmark sees it: budgets enforced, tokens counted, sandbox time moved.

:class:`MeteredModel` wraps any ``ChatModel``. Before each call it stops the run when the task's
time or token budget is used up (the agent loop ends the turn with the error; the run is scored
``budget``), then moves the simulated clock by the think time. Usage is counted from what the
server reports; a server that reports none leaves the token budget unenforced, and the run says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from cargo_shell.agent.model import ChatModel, Message, ModelError, ModelItem, ToolSchema, Usage
from cargo_shell.bench.world import THINK_SECONDS, SimClock


class BudgetExceeded(ModelError):
    """The task's time or token budget is used up; the run stops here."""


class MeteredModel:
    def __init__(self, inner: ChatModel, *, clock: SimClock, seconds: float, tokens: int) -> None:
        self.inner = inner
        self.clock = clock
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.token_budget = tokens
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.unreported = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def known_secrets(self) -> tuple[str, ...]:
        return tuple(getattr(self.inner, "known_secrets", ()))

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSchema], *, timeout: float | None = None
    ) -> Iterator[ModelItem]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BudgetExceeded(f"the time budget of {self.seconds:g} s is used up")
        if self.tokens >= self.token_budget:
            raise BudgetExceeded(f"the token budget of {self.token_budget:,} tokens is used up ({self.tokens:,})")
        self.calls += 1
        self.clock.advance(THINK_SECONDS)
        reported = False
        try:
            for item in self.inner.stream(messages, tools, timeout=left if timeout is None else min(timeout, left)):
                if isinstance(item, Usage):
                    reported = True
                    self.prompt_tokens += item.prompt_tokens
                    self.completion_tokens += item.completion_tokens
                yield item
        except ModelError as exc:
            if time.monotonic() >= self.deadline:  # the call was cut short by the run's budget
                raise BudgetExceeded(f"the time budget of {self.seconds:g} s ran out: {exc.message}") from None
            raise
        if not reported:
            self.unreported += 1
