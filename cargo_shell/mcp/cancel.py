"""Cancellation of a tool call reaches the executor through its injected ``sleep``.

The executor pauses only through the ``sleep`` it was built with (retries, polls, stages). While a
call runs, :class:`CancellableSleep` waits on the call's stop event; when the client cancels the
call, the next pause raises ``KeyboardInterrupt`` once — the executor's own Ctrl-C path — so a
job being waited for is cancelled through its kind's cancel command (the MCP confirmer answers
"cancel") and the outcome is audited. Later pauses of that call sleep normally, so the poll that
follows the cancellation to its end keeps its pace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CallStop:
    """The stop signal of one tool call, and what to cancel on the event loop's side (elicitations)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.raised = False
        self._on_stop: list[Callable[[], None]] = []

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._on_stop.append(callback)

    def stop(self) -> None:
        self.event.set()
        for callback in self._on_stop:
            callback()


class CancellableSleep:
    """The executor's sleep; calls run one at a time, so one current call is enough."""

    def __init__(self) -> None:
        self.current: CallStop | None = None

    def __call__(self, seconds: float) -> None:
        call = self.current
        if call is None or call.raised:
            time.sleep(seconds)
            return
        if call.event.wait(seconds):
            call.raised = True
            raise KeyboardInterrupt("the MCP client cancelled the call")
