"""The rich console of the shell, honouring NO_COLOR and non-terminal output."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from cargo_shell.environment import Environment


def make_console(env: Environment, *, width: int | None = None) -> Console:
    from rich.console import Console

    tty = bool(env.stdout_isatty)
    return Console(
        file=env.stdout,
        force_terminal=tty,
        no_color=env.no_color or not tty,
        highlight=tty and not env.no_color,
        emoji=False,
        width=width if width is not None else (None if tty else 100),
        soft_wrap=False,
    )
