"""Long argument values on screen: their size, first items and the file they came from.

A 500-record ``--data @companies.json`` is 40 KB of JSON; shown whole it makes a panel of a
hundred lines. Confirmations, ``/history``, ``jobs`` and ``replay --dry-run`` show such a value
as ``‹@companies.json, 41 KB, 500 records: {"kind": "records", "records": [{…}, … 499 more]}›``.
The ‹…› marks a summary: it is not something to paste. What runs, and what ``/save`` writes,
is always the whole value.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

#: Values up to this many characters are shown whole.
LIMIT = 120
#: Characters of preview inside a summary.
PREVIEW = 80


def summarise_argv(argv: Sequence[str], sources: Mapping[str, str] | None = None, *, limit: int = LIMIT) -> str:
    """A command's words as one line, long values summarised; ``sources`` maps a flag name
    (``data``) to the file its value was read from (``companies.json``)."""
    out: list[str] = []
    flag: str | None = None
    for word in argv:
        if word.startswith("--") and len(word) <= 64:
            flag = word[2:].partition("=")[0]
            out.append(shlex.quote(word))
            continue
        out.append(summarise_word(word, (sources or {}).get(flag or ""), limit=limit))
        flag = None
    return " ".join(out)


def summarise_line(line: str, sources: Mapping[str, str] | None = None, *, limit: int = LIMIT) -> str:
    """Like :func:`summarise_argv` for a shell line (a plan's ``command_line``)."""
    if len(line) <= limit:
        return line
    try:
        words = shlex.split(line)
    except ValueError:
        return line[: limit - 1] + "…"
    return summarise_argv(words, sources, limit=limit)


def summarise_word(word: str, source: str | None = None, *, limit: int = LIMIT) -> str:
    if len(word) <= limit and source is None:
        return shlex.quote(word)
    try:
        value = json.loads(word)
    except ValueError:
        return shlex.quote(word) if len(word) <= limit else shlex.quote(word[: limit - 1] + "…")
    if len(word) <= limit:
        return f"‹@{source}: {word}›" if source else shlex.quote(word)
    return describe(value, size=len(word.encode("utf-8")), source=source)


def describe(value: Any, *, size: int | None = None, source: str | None = None) -> str:
    """``‹@file, 41 KB, 500 records: {preview}›`` for a JSON value."""
    if size is None:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    head = [f"@{source}"] if source else []
    head.append(_size(size))
    counted = _biggest_list(value)
    if counted is not None:
        key, count = counted
        head.append(f"{count} {key if key else 'items'}" if count != 1 else f"1 {(key or 'items').rstrip('s')}")
    return f"‹{', '.join(head)}: {preview(value, PREVIEW)}›"


def preview(value: Any, budget: int) -> str:
    """JSON text of ``value`` cut to about ``budget`` characters: first list item, first keys."""
    if isinstance(value, list):
        if not value:
            return "[]"
        more = f", … {len(value) - 1} more" if len(value) > 1 else ""
        return f"[{preview(value[0], max(budget - len(more) - 2, 8))}{more}]"
    if isinstance(value, dict):
        parts: list[str] = []
        used = 2
        for key, item in value.items():
            name = json.dumps(key, ensure_ascii=False)
            piece = f"{name}: {preview(item, max(budget - used - len(name) - 2, 8))}"
            if parts and used + len(piece) > budget:
                parts.append("…")
                break
            parts.append(piece)
            used += len(piece) + 2
        return "{" + ", ".join(parts) + "}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= budget else text[: max(budget - 1, 4)] + "…"


def _biggest_list(value: Any, key: str = "") -> tuple[str, int] | None:
    """(key, length) of the longest list in ``value`` (its top level when it is a list)."""
    if isinstance(value, list):
        return key, len(value)
    if isinstance(value, dict):
        found = [hit for k, v in value.items() if (hit := _biggest_list(v, str(k))) is not None]
        return max(found, key=lambda hit: hit[1]) if found else None
    return None


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def file_sources(argv: Sequence[str]) -> dict[str, str]:
    """Flags whose value was given as ``@file`` in ``argv``: ``{"data": "companies.json"}``."""
    out: dict[str, str] = {}
    for i, word in enumerate(argv):
        name, eq, inline = word.partition("=")
        if not name.startswith("--"):
            continue
        value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if value.startswith("@") and len(value) > 1:
            out[name[2:]] = value[1:]
    return out
