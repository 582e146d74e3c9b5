"""Errors as one clear line, plus the fix when we know it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.errors import ApiStatusError, CargoShellError

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console


def error_line(exc: BaseException, crash_log: Path | None = None) -> tuple[str, str | None]:
    """(message, hint) for any exception the shell may meet; ``crash_log``: where an unexpected
    one's traceback was written."""
    if isinstance(exc, CargoShellError):
        message = exc.message
        if isinstance(exc, ApiStatusError) and exc.reason and exc.reason not in message:
            message = f"{message} ({exc.reason})"
        return message, exc.hint
    from cargo_shell.secrets import mask_text

    where = f"its traceback is in {crash_log}" if crash_log is not None else "/log shows what ran"
    return mask_text(f"{type(exc).__name__}: {exc}"), f"This looks like a bug in cargo-shell; {where}."


def show_error(console: Console, exc: BaseException, *, crash_log: Path | None = None) -> None:
    from rich.text import Text

    message, hint = error_line(exc, crash_log)
    line = Text("✗ ", style="bold red")
    line.append(message.splitlines()[0] if message else "error", style="red")
    console.print(line)
    if hint:
        console.print(Text(f"  → {hint}", style="dim"))
