"""Pick the rows and the columns a person wants to see from an API result, and fit them to a width.

One row per line: cells never wrap (long text ends in …), columns a person reads first (names,
status, counts) come first, UUIDs and dates last, and the least useful columns are dropped until
the table fits the terminal. UUIDs stay whole, so they can be copied. The CLI's ``--output
table`` and the shell draw the same table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

_FIRST = ("name", "title", "label", "slug", "email", "firstName", "lastName")
_THEN = ("status", "kind", "type", "category")
_LAST = ("uuid", "createdAt", "updatedAt", "finishedAt")
_MAX_COLUMNS = 8
#: Columns that say little in a table (they stay in `--output json`).
_NOISE = ("temporalWorkflowId", "traceUuid", "workspaceUuid", "userUuid", "description", "releaseUuid")
#: Never dropped to make room (the columns that identify a row).
_KEEP = ("name", "uuid", "title", "email")
_NO_SHRINK = ("uuid", "createdAt", "updatedAt", "finishedAt")
_MIN_COL = 8
_MAX_COL = 40


def find_rows(data: Any, key: str | None = None) -> list[dict[str, Any]] | None:
    """The list of objects to tabulate: the response key's list, or the only list in the result."""
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)] or None
    if not isinstance(data, dict):
        return None
    if key and isinstance(data.get(key), list):
        items = data[key]
        if items and not any(isinstance(v, dict | list) for v in items):
            return [{key: v} for v in items]  # a list of names (column slugs): one column
        return [r for r in items if isinstance(r, dict)]
    lists = [v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    if len(lists) == 1:
        return lists[0]
    if key and isinstance(data.get(key), dict):
        return [data[key]]
    return None


def pick_columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows[:50]:
        for k, v in row.items():
            if not isinstance(v, dict | list):
                seen.setdefault(k, None)
    keys = list(seen)
    ordered = [k for k in _FIRST if k in seen]
    ordered += [k for k in _THEN if k in seen]
    ordered += [k for k in keys if k.endswith("Count") and k not in ordered]
    ordered += [k for k in keys if k not in ordered and k not in _LAST and not k.endswith("Uuid")]
    budget = _MAX_COLUMNS - sum(1 for k in _LAST[:2] if k in seen)
    chosen = ordered[: max(budget, 1)]
    chosen += [k for k in _LAST[:2] if k in seen]
    return chosen


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d(\.\d+)?)?Z?$")


def cell(value: Any, limit: int = 60) -> str:
    """A value as table text: yes/no, whole floats without .0, minute timestamps, long text cut."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    match = _TIMESTAMP.match(text)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(column: str) -> str:
    """Column titles without the ``Count`` suffix: ``failedRunsCount`` → ``failedRuns``."""
    return column.removesuffix("Count") or column


def build_table(rows: list[dict[str, Any]], title: str | None = None, *, width: int = 120) -> Table:
    """A table of ``rows`` that fits ``width`` columns, one line per row."""
    from rich import box
    from rich.table import Table

    columns = [c for c in pick_columns(rows) if c not in _NOISE] or pick_columns(rows)

    def natural(col: str) -> int:
        return max([len(header(col))] + [len(cell(r.get(col))) for r in rows[:100]])

    def need(cols: list[str]) -> int:  # widths, plus two spaces between two columns
        return sum(natural(c) if c in _NO_SHRINK else min(natural(c), _MAX_COL) for c in cols) + 2 * len(cols) - 2

    while len(columns) > 2 and need(columns) > width:
        drop = next((c for c in reversed(columns) if c not in _KEEP), None)
        if drop is None:
            break
        columns.remove(drop)
    table = Table(
        title=title, header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )
    for col in columns:
        table.add_column(
            header(col),
            no_wrap=True,
            overflow="ellipsis",
            min_width=natural(col) if col in _NO_SHRINK else min(natural(col), _MIN_COL),
            max_width=None if col in _NO_SHRINK else _MAX_COL,
        )
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    table.caption = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    return table
