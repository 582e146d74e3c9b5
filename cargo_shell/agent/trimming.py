"""Shrink a large tool result for the model's context; the user still sees the whole result.

Shrinking is progressive: long lists keep their first rows plus a marker saying how many rows
there were and listing the identifiers (uuid, name, slug, ...) of the rows left out; long strings
are cut. Each level is tried in turn until the JSON text fits the budget.
"""

from __future__ import annotations

import json
from typing import Any

#: Keys that identify a row; kept for the rows that are not shown in full.
IDENTITY_KEYS = ("uuid", "_id", "id", "name", "_title", "title", "slug", "email", "status", "kind")
#: At most this many identity keys per row.
IDENTITY_WIDTH = 3

#: (rows kept per list, characters kept per string, identifiers listed for the rest)
_LEVELS = ((20, 400, 200), (10, 200, 100), (5, 120, 50), (3, 80, 20), (1, 60, 0))

DEFAULT_BUDGET = 8_000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _identity(row: Any) -> Any:
    if isinstance(row, dict):
        keys = [k for k in IDENTITY_KEYS if k in row and not isinstance(row[k], dict | list)][:IDENTITY_WIDTH]
        return {k: row[k] for k in keys} or None
    if isinstance(row, str | int | float):
        return row
    return None


def _shrink(value: Any, rows: int, chars: int, idents: int) -> Any:
    if isinstance(value, str):
        if len(value) <= chars:
            return value
        return value[:chars] + f"…(+{len(value) - chars} chars)"
    if isinstance(value, dict):
        return {k: _shrink(v, rows, chars, idents) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) <= rows:
            return [_shrink(v, rows, chars, idents) for v in value]
        kept = [_shrink(v, rows, chars, idents) for v in value[:rows]]
        rest = value[rows:]
        marker: dict[str, Any] = {"_trimmed": f"{len(rest)} more rows not shown ({len(value)} in total)"}
        listed = [i for i in (_identity(r) for r in rest[:idents]) if i is not None]
        if listed:
            marker["more"] = listed
            if len(rest) > idents:
                marker["more_not_listed"] = len(rest) - idents
        return [*kept, marker]
    return value


def trim_for_model(data: Any, budget: int = DEFAULT_BUDGET) -> tuple[Any, bool]:
    """Return ``(data for the model, whether it was trimmed)``."""
    if len(_dumps(data)) <= budget:
        return data, False
    for rows, chars, idents in _LEVELS:
        shrunk = _shrink(data, rows, chars, idents)
        if len(_dumps(shrunk)) <= budget:
            return shrunk, True
    preview = _dumps(_shrink(data, 1, 40, 0))[:budget]
    while True:
        fallback = {"_trimmed": "result too large to show; narrow the query", "preview": preview}
        if len(_dumps(fallback)) <= budget or not preview:
            return fallback, True
        preview = preview[: len(preview) * 3 // 4]


#: Roughly 60k tokens of history; older tool results are elided beyond it.
DEFAULT_CONTEXT_CHARS = 240_000
ELIDED = '{"status":"elided","message":"an older tool result was dropped to save context; run it again if needed"}'


def fit_context(
    messages: list[dict[str, Any]], budget: int = DEFAULT_CONTEXT_CHARS, *, keep_last: int = 6
) -> list[dict[str, Any]]:
    """A copy of ``messages`` whose older tool results are elided until the text fits ``budget``.

    The system prompt, user and assistant messages and the last ``keep_last`` messages are kept.
    """

    def size(message: dict[str, Any]) -> int:
        return len(_dumps(message))

    total = sum(size(m) for m in messages)
    if total <= budget:
        return messages
    out = list(messages)
    for i, message in enumerate(out[: max(0, len(out) - keep_last)]):
        if total <= budget:
            break
        if message.get("role") == "tool" and message.get("content") != ELIDED:
            slim = {**message, "content": ELIDED}
            total -= size(message) - size(slim)
            out[i] = slim
    return out
