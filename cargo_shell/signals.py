"""SIGTERM and SIGHUP handled like Ctrl-C for the command line, so a stopped process still says what it left.

Without a handler either signal ends the process on the spot: a batch being waited for keeps running
with no report and no audit outcome. Inside :func:`termination_as_interrupt` the first of them raises
:class:`~cargo_shell.errors.Terminated` (a ``KeyboardInterrupt``) where the program is; the executor
records the outcome and names the job to re-attach to, and the process exits (5 when a job was
accepted, else 128 + the signal number). Further signals are ignored while that report is written.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from cargo_shell.errors import Terminated

SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


@contextlib.contextmanager
def termination_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into :class:`Terminated` for the block (main thread only; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            return  # the report of the first one is being written
        raised = True
        raise Terminated(signum, signal.Signals(signum).name)

    previous: dict[int, Any] = {}
    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
