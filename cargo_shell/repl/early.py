"""Paint the first prompt before the heavy imports, so `cargo-shell` answers at once.

Importing prompt_toolkit, rich, pydantic and httpx takes a few hundred milliseconds. When the
shell is started bare on a terminal, we print a one-line greeting and the prompt first and
switch the terminal to no-echo, non-canonical mode so anything typed meanwhile waits in the
terminal's input queue. When the real prompt starts, :func:`hand_over` restores the terminal
(keeping the queued keys), clears the painted line and prompt_toolkit draws the prompt on it
with the typed keys. Only the standard library is imported here.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from cargo_shell.paths import config_file

PROMPT = "cargo› "
GREETING = (
    "cargo-shell — type a command (storage model list) or ask in plain words; "
    "/help for more, Tab completes, Ctrl-D exits."
)
_saved: dict[str, Any] = {}


def _config_says_onboarded() -> bool:
    try:
        with open(config_file(), encoding="utf-8") as handle:
            return bool(json.load(handle).get("onboarded"))
    except (OSError, ValueError, AttributeError):
        return False


def _bare_shell_flags() -> frozenset[str]:
    """The global options that, alone, still open the shell (``--resume``), from ``registry/options.json``."""
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "registry", "options.json")
    try:
        with open(path, encoding="utf-8") as handle:
            options = json.load(handle)["options"]
    except (OSError, ValueError, KeyError):
        return frozenset()
    return frozenset(f"--{o['name']}" for o in options if o.get("bare_shell"))


def paint_prompt_early(argv: list[str] | None = None) -> bool:
    """Paint the greeting and prompt when this process is a bare interactive `cargo-shell`.

    Called first thing by ``cli.main``; everything heavier is imported after it."""
    argv = sys.argv if argv is None else argv
    if not argv or os.path.basename(argv[0]) != "cargo-shell":
        return False
    if argv[1:] and not set(argv[1:]) <= _bare_shell_flags():
        return False
    if os.environ.get("CARGO_SHELL_NO_EARLY_PROMPT") or not (os.isatty(0) and os.isatty(1)):
        return False
    if not _config_says_onboarded():  # the first run starts with onboarding instead
        return False
    try:
        import termios

        attrs = termios.tcgetattr(0)
        quiet = list(attrs)
        quiet[3] = attrs[3] & ~(termios.ECHO | termios.ICANON)
        termios.tcsetattr(0, termios.TCSANOW, quiet)
    except (ImportError, OSError):
        return False
    _saved["attrs"] = attrs
    import atexit

    atexit.register(_restore)  # whatever happens next, the terminal gets its echo back
    plain = "NO_COLOR" in os.environ
    greeting = GREETING if plain else f"\x1b[2m{GREETING}\x1b[0m"
    prompt = PROMPT if plain else f"\x1b[1;36m{PROMPT}\x1b[0m"
    sys.stdout.write(f"{greeting}\n{prompt}")
    sys.stdout.flush()
    return True


def painted() -> bool:
    return "attrs" in _saved


def _restore() -> None:
    attrs = _saved.pop("attrs", None)
    if attrs is not None:
        try:
            import termios

            termios.tcsetattr(0, termios.TCSANOW, attrs)
        except OSError:
            pass
        sys.stdout.write("\n")
        sys.stdout.flush()


def hand_over() -> None:
    """Give the terminal back (typed keys stay queued) and clear the painted prompt line."""
    attrs = _saved.pop("attrs", None)
    if attrs is None:
        return
    try:
        import termios

        termios.tcsetattr(0, termios.TCSANOW, attrs)
    except OSError:
        pass
    sys.stdout.write("\r\x1b[K")
    sys.stdout.flush()
