"""Show a command's result: a table for lists, a key/value view for one object, JSON otherwise.

Tables are the CLI's (``render/tables.py``: names before UUIDs, one line per row, the least
useful columns dropped until the table fits the terminal). Long output is paged.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cargo_shell.render.tables import cell

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def record_view(obj: dict[str, Any]) -> RenderableType:
    """One object as aligned ``field  value`` lines; nested values summarised."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in obj.items():
        if isinstance(value, dict):
            shown = json.dumps(value, ensure_ascii=False, default=str)
            shown = shown if len(shown) <= 100 else f"{{…}} ({len(value)} fields)"
        elif isinstance(value, list):
            shown = json.dumps(value, ensure_ascii=False, default=str)
            shown = shown if len(shown) <= 100 else f"[…] ({len(value)} items)"
        else:
            shown = cell(value, 200)
        grid.add_row(key, shown)
    return grid


def sections(data: dict[str, dict[str, Any]]) -> RenderableType:
    """Several objects (``whoami``: user and workspace), each as a titled key/value view."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = []
    for name, obj in data.items():
        parts += [Text(name, style="bold underline"), record_view(obj)]
    return Group(*parts)


def renderable_for(data: Any, *, key: str | None = None, output: str = "table", width: int = 100) -> RenderableType:
    from rich.json import JSON
    from rich.text import Text

    from cargo_shell.render.tables import build_table, find_rows

    if data is None or data == {}:
        return Text("done (no data returned)", style="dim")
    if output != "json" and isinstance(data, dict) and len(data) == 1 and list(data.values()) == [[]]:
        return Text(f"no {next(iter(data))}", style="dim")  # {"jobs": []}: "no jobs"
    if output != "json":
        if key and isinstance(data, dict) and isinstance(data.get(key), dict):
            return record_view(data[key])
        rows = find_rows(data, key)
        if rows is not None:
            return build_table(rows, width=width) if rows else Text("no results", style="dim")
        if isinstance(data, dict) and all(not isinstance(v, dict | list) for v in data.values()):
            return record_view(data)
        if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            return sections(data)
    return JSON(json.dumps(data, ensure_ascii=False, default=str))


def show_result(console: Console, data: Any, *, key: str | None = None, output: str = "table") -> None:
    """Print a result; page it when it is taller than the terminal (interactive only)."""
    if output == "json" and not console.is_terminal:
        console.file.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    renderable = renderable_for(data, key=key, output=output, width=console.width)
    if console.is_terminal and _height(console, renderable) > console.size.height - 2:
        import os

        os.environ.setdefault("LESS", "-FRX")
        with console.pager(styles=not console.no_color):
            console.print(renderable)
        return
    console.print(renderable)


def _height(console: Console, renderable: RenderableType) -> int:
    return len(console.render_lines(renderable, console.options, pad=False))
