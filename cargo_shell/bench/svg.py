"""Inline SVG charts for the HTML report (no script, no network: hover texts are SVG titles)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

STATUS_COLOURS = {"pass": "#2f9e5d", "fail": "#d64545", "budget": "#e3a21a", "error": "#8a8f98"}
#: A task whose runs did not all go the same way (flaky across repeats).
MIXED = "#ee8a4e"
SKILL_COLOURS = {
    "orchestration": "#4e79a7",
    "storage": "#f28e2b",
    "connection": "#76b7b2",
    "ai": "#b07aa1",
    "analytics": "#59a14f",
    "billing": "#edc948",
    "workspace": "#9c755f",
}
BAR = "#5b7fbd"
BAR_ALT = "#a9bde0"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


def nice_max(value: float) -> float:
    """The axis end: the smallest of 1, 2, 2.5 or 5 times a power of ten that is >= value."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude * (1 + 1e-9):
            return float(step * magnitude)
    return float(value)


@dataclass(frozen=True)
class Column:
    """One metric of the per-task chart: a title, a value (or two stacked) per row, a formatter."""

    title: str
    values: Callable[[dict[str, Any]], tuple[float | None, float | None]]
    fmt: Callable[[Any], str]
    total: str = ""
    fixed_max: float | None = None
    coloured: bool = False


def metric_matrix(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    row_colour: Callable[[dict[str, Any]], str],
    label: Callable[[dict[str, Any]], str],
    hover: Callable[[dict[str, Any]], str],
    group: Callable[[dict[str, Any]], str] = lambda _row: "",
) -> str:
    """One bar chart per metric, side by side, sharing the rows (tasks): compare across and down.

    Rows are drawn in order; a heading row starts each new ``group`` (the skill).
    """
    label_w, col_w, gap, row_h, head_h = 214, 124, 14, 18, 46
    width = label_w + len(columns) * (col_w + gap)
    layout: list[tuple[str, int, Any]] = []  # ("group", y, name) or ("row", y, index)
    y, previous = head_h, None
    for i, row in enumerate(rows):
        name = group(row)
        if name and name != previous:
            layout.append(("group", y, name))
            y += row_h + 4
            previous = name
        layout.append(("row", y, i))
        y += row_h
    height = y + 8
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" style="{FONT}">']
    for kind, y, item in layout:
        if kind == "group":
            colour = SKILL_COLOURS.get(str(item), BAR)
            out.append(f'<rect x="0" y="{y + 6}" width="{width}" height="2" fill="{colour}" opacity="0.6"/>')
            out.append(f'<rect x="0" y="{y + 11}" width="10" height="10" rx="2" fill="{colour}"/>')
            heading = escape(str(item))
            out.append(
                f'<text x="16" y="{y + row_h + 1}" font-size="12" font-weight="700" fill="#333">{heading}</text>'
            )
            continue
        row = rows[item]
        if item % 2 == 0:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="#f6f7f9"/>')
        out.append(f'<rect x="2" y="{y + 4}" width="8" height="{row_h - 8}" rx="2" fill="{row_colour(row)}"/>')
        out.append(
            f'<text x="16" y="{y + row_h - 5}" font-size="11.5" fill="#222"><title>{escape(hover(row))}</title>'
            f"{escape(label(row))}</text>"
        )
    row_ys = [(y, item) for kind, y, item in layout if kind == "row"]
    for c, col in enumerate(columns):
        x0 = label_w + c * (col_w + gap)
        pairs = [col.values(row) for row in rows]
        biggest = max([(a or 0) + (b or 0) for a, b in pairs] + [0])
        top = col.fixed_max or nice_max(biggest)
        out.append(f'<text x="{x0}" y="16" font-size="12" font-weight="600" fill="#222">{escape(col.title)}</text>')
        out.append(f'<text x="{x0}" y="32" font-size="11" fill="#666">{escape(col.total)}</text>')
        out.append(f'<line x1="{x0}" y1="{head_h - 4}" x2="{x0}" y2="{height - 6}" stroke="#c9ccd2"/>')
        bar_w = col_w - 46
        for y_row, r in row_ys:
            a, b = pairs[r]
            y = y_row + 3
            if a is None and b is None:
                out.append(f'<text x="{x0 + 4}" y="{y + 11}" font-size="10.5" fill="#999">—</text>')
                continue
            value = col.fmt(a if b is None else (a or 0) + (b or 0))
            wa = bar_w * (a or 0) / top
            wb = bar_w * (b or 0) / top
            fill = row_colour(rows[r]) if col.coloured else BAR
            out.append(f"<g><title>{escape(f'{label(rows[r])}: {col.title} {value}')}</title>")
            out.append(_rect(x0 + 1, y, wa, row_h - 6, fill))
            if b:
                out.append(_rect(x0 + 1 + wa, y, wb, row_h - 6, BAR_ALT))
            text_x = x0 + 4 + wa + wb
            out.append(f'<text x="{text_x:.1f}" y="{y + 10}" font-size="10.5" fill="#333">{escape(value)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y}" width="{max(w, 0.0):.1f}" height="{h}" rx="2" fill="{fill}"/>'


def hbars(items: Sequence[tuple[str, float | None, str, str]], *, width: int = 640, title: str = "") -> str:
    """Horizontal 0–100 % bars: (label, fraction, colour, note) per item."""
    label_w, row_h, head = 110, 24, 26 if title else 6
    bar_w = width - label_w - 170
    height = head + row_h * len(items) + 6
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" style="{FONT}">']
    if title:
        out.append(f'<text x="0" y="16" font-size="13" font-weight="600" fill="#222">{escape(title)}</text>')
    for i, (name, frac, colour, note) in enumerate(items):
        y = head + i * row_h
        out.append(f'<text x="0" y="{y + 16}" font-size="12" fill="#222">{escape(name)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 8}" rx="3" fill="#eceef2"/>')
        if frac is not None:
            out.append(
                f'<g><title>{escape(note)}</title><rect x="{label_w}" y="{y + 4}" width="{bar_w * frac:.1f}" '
                f'height="{row_h - 8}" rx="3" fill="{colour}"/></g>'
            )
        shown = "—" if frac is None else f"{frac * 100:.0f}%"
        out.append(f'<text x="{label_w + bar_w + 8}" y="{y + 16}" font-size="12" fill="#333">{shown}</text>')
        out.append(f'<text x="{label_w + bar_w + 46}" y="{y + 16}" font-size="11" fill="#777">{escape(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def run_grid(rows: Sequence[tuple[str, Sequence[str]]], *, good: Callable[[str], bool], width: int = 1300) -> str:
    """A square per run, green when it went as expected, else coloured by status and outlined."""
    cell, gap, row_h = 13, 3, 19
    repeats = max((len(s) for _, s in rows), default=1)
    label_w = 200
    block = label_w + repeats * (cell + gap) + 24
    per_row = max(1, width // block)
    lines = -(-len(rows) // per_row)
    width = min(width, -(-len(rows) // lines) * block) if rows else block
    height = lines * row_h + 4
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" style="{FONT}">']
    for i, (name, statuses) in enumerate(rows):
        col, line = divmod(i, lines)
        x0, y = col * block, line * row_h + 2
        out.append(f'<text x="{x0}" y="{y + cell - 2}" font-size="11" fill="#222">{escape(name)}</text>')
        for j, status in enumerate(statuses):
            x = x0 + label_w + j * (cell + gap)
            ok = good(status)  # green is "as expected": a pass, or with --decoy a rejection
            wrong = STATUS_COLOURS["fail"] if status == "pass" else STATUS_COLOURS.get(status, STATUS_COLOURS["fail"])
            colour = STATUS_COLOURS["pass"] if ok else wrong
            stroke = "" if ok else ' stroke="#111" stroke-width="1.5"'
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="3" fill="{colour}"{stroke}>'
                f"<title>{escape(f'{name} run {j + 1}: {status}')}</title></rect>"
            )
    out.append("</svg>")
    return "".join(out)
