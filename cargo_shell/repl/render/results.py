"""Show a command's result: a table for lists, a key/value view for one object, JSON otherwise.

Tables keep the columns a person reads first (names before UUIDs, see ``render/tables.py``)
and drop the least useful ones until the table fits the terminal. Long output is paged.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d(\.\d+)?)?Z?$")
#: Columns that say little in a table (they stay in `--output json`).
_NOISE = ("temporalWorkflowId", "traceUuid", "workspaceUuid", "userUuid", "description", "releaseUuid")
_MIN_COL = 8


def cell(value: Any, limit: int = 60) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    match = _ISO.match(text)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_table(rows: list[dict[str, Any]], width: int) -> Table:
    from rich.table import Table

    from cargo_shell.render.tables import pick_columns

    columns = [c for c in pick_columns(rows) if c not in _NOISE] or pick_columns(rows)

    def natural(col: str) -> int:
        return max([len(col)] + [len(cell(r.get(col))) for r in rows[:100]])

    keep_last = {"name", "uuid", "title", "email"}
    while len(columns) > 2:
        need = sum(min(natural(c), 40 if c != "uuid" else 36) + 3 for c in columns) + 1
        if need <= width:
            break
        drop = next((c for c in reversed(columns) if c not in keep_last), None)
        if drop is None:
            break
        columns.remove(drop)
    table = Table(header_style="bold", show_lines=False)
    for col in columns:
        table.add_column(
            col,
            no_wrap=col in ("uuid", "createdAt", "updatedAt", "finishedAt"),
            overflow="ellipsis",
            min_width=min(natural(col), _MIN_COL),
        )
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    table.caption = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    return table


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

    from cargo_shell.render.tables import find_rows

    if data is None or data == {}:
        return Text("done (no data returned)", style="dim")
    if output != "json":
        if key and isinstance(data, dict) and isinstance(data.get(key), dict):
            return record_view(data[key])
        rows = find_rows(data, key)
        if rows is not None:
            return fit_table(rows, width) if rows else Text("no results", style="dim")
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
