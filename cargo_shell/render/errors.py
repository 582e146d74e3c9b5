"""Errors as one clear line, plus the fix when we know it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.errors import ApiStatusError, CargoShellError

if TYPE_CHECKING:
    from rich.console import Console


def error_line(exc: BaseException) -> tuple[str, str | None]:
    """(message, hint) for any exception the shell may meet."""
    if isinstance(exc, CargoShellError):
        message = exc.message
        if isinstance(exc, ApiStatusError) and exc.reason and exc.reason not in message:
            message = f"{message} ({exc.reason})"
        return message, exc.hint
    return f"{type(exc).__name__}: {exc}", "This looks like a bug in cargo-shell; /log shows what ran."


def show_error(console: Console, exc: BaseException) -> None:
    from rich.text import Text

    message, hint = error_line(exc)
    line = Text("✗ ", style="bold red")
    line.append(message.splitlines()[0] if message else "error", style="red")
    console.print(line)
    if hint:
        console.print(Text(f"  → {hint}", style="dim"))
