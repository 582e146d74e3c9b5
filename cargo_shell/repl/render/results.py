"""Show a command's result: a table for lists, highlighted JSON otherwise, paged when long."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def renderable_for(data: Any, *, key: str | None = None, output: str = "table") -> RenderableType:
    from rich.json import JSON
    from rich.text import Text

    from cargo_shell.render.tables import build_table, find_rows

    if data is None or data == {}:
        return Text("done (no data returned)", style="dim")
    if output != "json":
        rows = find_rows(data, key)
        if rows is not None:
            if not rows:
                return Text("no results", style="dim")
            return build_table(rows)
    return JSON(json.dumps(data, ensure_ascii=False, default=str))


def show_result(console: Console, data: Any, *, key: str | None = None, output: str = "table") -> None:
    """Print a result; page it when it is taller than the terminal (interactive only)."""
    if output == "json" and not console.is_terminal:
        console.file.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    renderable = renderable_for(data, key=key, output=output)
    if console.is_terminal and _height(console, renderable) > console.size.height - 2:
        with console.pager(styles=not console.no_color):
            console.print(renderable)
        return
    console.print(renderable)


def _height(console: Console, renderable: RenderableType) -> int:
    lines = console.render_lines(renderable, console.options, pad=False)
    return len(lines)
