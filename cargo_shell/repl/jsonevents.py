"""``--output json``: the event stream of scripted runs (``-p``, ``run FILE``, ``replay``).

Every line on stdout is one JSON object with a ``type`` (secrets masked) (the README's table lists the types and
their fields), and every run ends with exactly one final event, ``final`` or ``error``, as its
last line: also when the model is unreachable, the user presses Ctrl-C, the input is bad or a
bug stops the run (:meth:`JsonEvents.run` turns whatever escapes into the ``error`` event, so
no untyped ``{"errorMessage": ...}`` line can follow). Executor progress becomes ``progress``
and ``notice`` events carrying the ``callId`` of the tool call they belong to.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError, ExitStatus, interrupt_report
from cargo_shell.executor.events import (
    JobCancelled,
    JobDetached,
    JobFinished,
    JobProgress,
    JobStarted,
    Notice,
    RetryScheduled,
    StageFinished,
    StageStarted,
)
from cargo_shell.secrets import mask_data

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context

#: Executor events a script hears about, as ``progress`` events (``event`` is the class name).
PROGRESS_EVENTS = (
    JobStarted, JobProgress, JobFinished, JobDetached, JobCancelled, StageStarted, StageFinished, RetryScheduled,
)  # fmt: skip
FINAL_TYPES = ("final", "error")


def json_key(name: str) -> str:
    """A field name as a JSON key: camelCase, a trailing ``_s`` spelt out (``elapsed_s`` → ``elapsedSeconds``)."""
    name = re.sub(r"_s$", "_seconds", name)
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class JsonEvents:
    """Writes the events of one run to stdout, one line each, and guards the one final event."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.out = ctx.env.stdout
        self.finished = False

    def emit(self, event_type: str, **fields: Any) -> None:
        if self.finished:
            raise RuntimeError(f"a {event_type!r} event after the final event")
        self.finished = event_type in FINAL_TYPES
        event = mask_data({"type": event_type, **fields})  # secrets never reach the stream
        self.out.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        self.out.flush()

    def executor_event(self, call_id: str | None, event: Any) -> None:
        """A ``progress`` or ``notice`` event for an executor event (others are not for scripts)."""
        ids = {"callId": call_id} if call_id else {}
        if isinstance(event, Notice):
            self.emit("notice", **ids, level=event.level, message=event.message)
        elif isinstance(event, PROGRESS_EVENTS):
            fields = {json_key(f.name): getattr(event, f.name) for f in dataclasses.fields(event)}
            self.emit("progress", **ids, event=type(event).__name__, **fields)

    def fail(self, exc: BaseException, **context: Any) -> int:
        """The ``error`` event for what stopped the run; returns the exit status it means."""
        status: int
        if isinstance(exc, CargoShellError):
            body, status = exc.to_json(), exc.exit_status
        elif isinstance(exc, KeyboardInterrupt):  # Ctrl-C, SIGTERM/SIGHUP, or either after a job was accepted
            body, status = interrupt_report(exc)
        elif isinstance(exc, Exception):
            from cargo_shell.crash_log import internal_error

            body, status = internal_error(self.ctx.env, exc, debug=self.ctx.debug), ExitStatus.ERROR
        else:  # SystemExit and the like are not ours to report
            raise exc
        if body.get("hint"):
            self.ctx.env.warn(f"hint: {body['hint']}")
        self.emit("error", **body, exitStatus=int(status), **context)
        return int(status)

    def run(self, body: Callable[[], int]) -> int:
        """Run ``body`` (which emits its own final event when it ends normally); anything that
        escapes it becomes the ``error`` event."""
        try:
            status = body()
        except (Exception, KeyboardInterrupt) as exc:
            if self.finished:
                raise
            return self.fail(exc)
        if not self.finished:
            raise RuntimeError("the run ended without its final event")
        return status
