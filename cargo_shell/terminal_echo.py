"""Keep the terminal from echoing keys while a hidden prompt (a token, an API key) is coming.

A hidden prompt hides what is typed *at* it; keys typed before it is on screen (a token pasted
while Python imports, or right after the previous answer) are echoed by the terminal itself, in
clear. So the terminal's echo goes off as soon as we know a secret may be asked, before the slow
work, and comes back on every way out: the end of the ``echo_off`` block, normal exit (atexit),
Ctrl-C (an exception through the block), SIGTERM and SIGHUP (restored, then the signal's default
action). Prompts that run meanwhile (prompt_toolkit) save and restore the quiet state, so nothing
is echoed between two of them either; typed-ahead keys stay queued for the next prompt.

Only the standard library is imported here: the CLI calls :func:`hold_for_argv` before anything else.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_held: dict[str, Any] = {}
_atexit_registered = False


def hold(fd: int = 0) -> bool:
    """Turn the terminal's echo off now (idempotent); False when ``fd`` is not a terminal."""
    global _atexit_registered
    if "attrs" in _held:
        return True
    try:
        import termios

        if not os.isatty(fd):
            return False
        attrs = termios.tcgetattr(fd)
        quiet = list(attrs)
        quiet[3] = attrs[3] & ~(termios.ECHO | termios.ECHONL)
        termios.tcsetattr(fd, termios.TCSANOW, quiet)  # TCSANOW: keys already typed stay queued
    except (ImportError, OSError):
        return False
    _held.update(attrs=attrs, fd=fd, handlers={})
    if not _atexit_registered:
        atexit.register(restore)
        _atexit_registered = True
    if threading.current_thread() is threading.main_thread():
        for signum in _STOP_SIGNALS:
            _held["handlers"][signum] = signal.signal(signum, _restore_then_die)
    return True


def restore() -> None:
    """Give the terminal its echo back (idempotent)."""
    attrs = _held.pop("attrs", None)
    if attrs is None:
        return
    handlers: dict[int, Any] = _held.pop("handlers", {})
    fd = int(_held.pop("fd", 0))
    try:
        import termios

        termios.tcsetattr(fd, termios.TCSANOW, attrs)
    except (ImportError, OSError):
        pass
    if threading.current_thread() is threading.main_thread():
        for signum, previous in handlers.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)


def held() -> bool:
    return "attrs" in _held


@contextmanager
def echo_off(fd: int = 0) -> Iterator[None]:
    """No echo inside the block (kept from an earlier :func:`hold`); restored when it ends."""
    hold(fd)
    try:
        yield
    finally:
        restore()


def read_hidden(prompt: str, fd: int = 0, out: TextIO | None = None) -> str:
    """One line typed at ``fd`` with the echo off (kept off if already held), without the newline.

    The terminal's own line editing is used (canonical mode, as ``getpass``), so nothing but the
    standard library runs while the secret is typed, and no event loop is left behind to set the
    terminal back to a state of its own when an exception (Ctrl-C, SIGTERM) ends the read.
    Raises ``EOFError`` on Ctrl-D.
    """
    stream = out or sys.stderr
    with echo_off(fd):
        stream.write(prompt)
        stream.flush()
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = os.read(fd, 1024)
                if not chunk:
                    raise EOFError
                data += chunk
        finally:
            stream.write("\n")  # the Enter (or Ctrl-C) was not echoed either
            stream.flush()
    return data.decode("utf-8", "replace").rstrip("\r\n")


def _restore_then_die(signum: int, frame: FrameType | None) -> None:
    previous = _held.get("handlers", {}).get(signum)
    restore()
    if previous == signal.SIG_IGN:
        return
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def hold_for_argv(argv: list[str], onboarded: Callable[[], bool]) -> bool:
    """At start-up: hold the echo when this process is going to ask a secret on the terminal.

    That is ``login`` without ``--token``, ``onboard``, and a bare ``cargo-shell`` whose first run
    starts with onboarding (``onboarded`` reads the config without importing anything heavy).
    """
    if not argv or os.path.basename(argv[0]) not in ("cargo-shell", "__main__.py"):
        return False
    args = argv[1:]
    if any(a in ("-h", "--help") for a in args) or not (os.isatty(0) and os.isatty(1)):
        return False
    words = [a for a in args if not a.startswith("-")][:2]  # a global flag's value may come first
    has_token = any(a == "--token" or a.startswith("--token=") for a in args)
    if ("login" in words and not has_token) or "onboard" in words or (not args and not onboarded()):
        return hold()
    return False
