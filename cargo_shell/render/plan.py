"""The confirmation panel: the equivalent command, its effect, what it touches, an estimate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

_EFFECT_STYLE = {"read": "green", "write": "yellow", "destructive": "bold red", "cost": "bold magenta"}
_EFFECT_TEXT = {
    "read": "read only",
    "write": "changes workspace data",
    "destructive": "removes or cancels something",
    "cost": "spends credits",
}


def plan_panel(plan: Any, sources: dict[str, str] | None = None) -> RenderableType:
    """Render a plan (any object with command, effect, touches, estimate, request).

    Long values are summarised (size, first items, ``sources``: the file a flag's value came from).
    """
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from cargo_shell.value_summary import LIMIT, describe, summarise_line

    effect = str(getattr(plan, "effect", "write"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    command = getattr(plan, "command_line", None) or getattr(plan, "command", "")
    grid.add_row("command", Text(summarise_line(str(command), sources), style="cyan"))
    grid.add_row("effect", Text(f"{effect} — {_EFFECT_TEXT.get(effect, effect)}", style=_EFFECT_STYLE.get(effect, "")))
    for reason in getattr(plan, "effect_reasons", None) or ():
        grid.add_row("because", str(reason))
    touches = getattr(plan, "touches", None) or []
    if touches:
        grid.add_row("touches", "\n".join(_label(t) for t in touches))
    estimate = getattr(plan, "estimate", None)
    if estimate:
        grid.add_row("estimate", _label(estimate))
    from cargo_shell.secrets import mask_text

    for notice in getattr(plan, "notices", None) or []:
        grid.add_row("note", mask_text(str(notice)))
    for local in getattr(plan, "local_files", None) or []:
        grid.add_row("local file", Text(_label(local), style="bold yellow" if local.concern else ""))
    note = getattr(plan, "approval_note", None)
    if note:
        grid.add_row("asks because", Text(str(note), style="yellow"))
    request = getattr(plan, "request", None) or {}
    if request.get("method"):
        line = f"{request['method']} {request.get('path', '')}"
        if request.get("body") is not None:
            body = json.dumps(request["body"], ensure_ascii=False)
            line += "  " + (body if len(body) <= LIMIT else describe(request["body"], size=len(body.encode())))
        grid.add_row("request", Text(line, style="dim"))
    return Panel(grid, title="Approve this action?", title_align="left", border_style=_EFFECT_STYLE.get(effect, ""))


def _label(item: Any) -> str:
    label = getattr(item, "label", None)
    return str(label()) if callable(label) else str(item)


PROMPT = "Run it? [y]es / [n]o / [a]lways for this command / [e]dit: "


def parse_answer(text: str) -> str | None:
    """Map a typed answer to yes/no/always/edit; None when it is not understood."""
    word = text.strip().lower()
    table = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "": "no", "a": "always", "always": "always"}
    table.update({"e": "edit", "edit": "edit"})
    return table.get(word)
