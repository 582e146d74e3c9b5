"""Pick the rows and the columns a person wants to see from an API result."""

from __future__ import annotations

import re
from typing import Any

from rich.table import Table

_FIRST = ("name", "title", "label", "slug", "email", "firstName", "lastName")
_THEN = ("status", "kind", "type", "category")
_LAST = ("uuid", "createdAt", "updatedAt", "finishedAt")
_MAX_COLUMNS = 8


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


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?Z$")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    stamp = _TIMESTAMP.match(text)
    if stamp:
        return f"{stamp.group(1)} {stamp.group(2)}"
    return text if len(text) <= 60 else text[:57] + "..."


def build_table(rows: list[dict[str, Any]], title: str | None = None) -> Table:
    columns = pick_columns(rows)
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col == "uuid")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    table.caption = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    return table
