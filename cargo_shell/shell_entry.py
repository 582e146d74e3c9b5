"""`cargo-shell` with no arguments: open the conversational shell when it is available."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.errors import ExitStatus

if TYPE_CHECKING:
    from cargo_shell.session import Context


def open_shell(ctx: Context, argv: list[str]) -> int:
    from cargo_shell.cli_help import root_help

    ctx.env.stdout.write(root_help(ctx.registry))
    return ExitStatus.OK
