"""The few lines shown when the shell opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cargo_shell.render.toolbar import ToolbarState


def banner(state: ToolbarState, *, has_model: bool) -> RenderableType:
    from rich.text import Text

    text = Text()
    text.append("cargo-shell", style="bold cyan")
    where = "the local sandbox (demo data)" if state.target == "sandbox" else f"profile {state.profile}"
    text.append(f" — connected to {where}.\n")
    if has_model:
        text.append("Ask in plain words (", style="dim")
        text.append("list my models", style="italic")
        text.append("), or type a command (", style="dim")
    else:
        text.append("No language model configured: type commands (", style="dim")
    text.append("storage model list", style="bold")
    text.append("). ", style="dim")
    text.append("/help", style="bold")
    text.append(" for more, Tab completes, Ctrl-D exits.", style="dim")
    return text
