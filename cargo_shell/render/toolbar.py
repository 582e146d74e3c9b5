"""The bottom toolbar: profile, workspace, target, model, running jobs and credits left."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ToolbarState:
    profile: str = "default"
    target: str = "sandbox"
    workspace: str | None = None
    model: str | None = None
    running_jobs: int = 0
    #: Credits left in the period (available − used) and additional top-up credits.
    credits: float | None = None
    extra_credits: float | None = None
    busy: str | None = None


Fragments = list[tuple[str, str]]


def toolbar_fragments(state: ToolbarState, width: int | None = None) -> Fragments:
    """The toolbar's (style, text) parts; when ``width`` is too narrow for labelled cells, values only,
    dropping the workspace, then the profile, then the busy note, until it fits."""
    sandbox = "class:toolbar.sandbox" if state.target == "sandbox" else ""
    model = state.model or "none (direct commands only)"
    jobs = f"{state.running_jobs} running" if state.running_jobs else "none"
    cells = [
        ("profile", state.profile, ""),
        ("workspace", state.workspace or "…", ""),
        ("target", state.target, sandbox),
        ("model", model, ""),
        ("jobs", jobs, ""),
        ("credits", _credits(state), ""),
    ]
    busy: Fragments = [("class:toolbar.busy", f" {state.busy} ")] if state.busy else []
    parts = [frag for label, value, style in cells for frag in _cell(label, value, style)] + busy
    if width is None or _length(parts) <= width:
        return parts
    short = {"jobs": "no jobs" if not state.running_jobs else f"{state.running_jobs} jobs running"}
    short["model"] = state.model or "no model"
    if state.credits is not None:
        extra = f" (+{state.extra_credits:,.0f} extra)" if state.extra_credits else ""
        short["credits"] = f"{state.credits:,.0f} credits left{extra}"
    values = [(label, short.get(label, value), style) for label, value, style in cells]
    parts = []
    for dropped in ((), ("workspace",), ("workspace", "busy"), ("workspace", "busy", "profile")):
        shown = [(value, style) for label, value, style in values if label not in dropped]
        parts = [frag for i, (value, style) in enumerate(shown) for frag in _value(value, style, first=i == 0)]
        parts += [] if "busy" in dropped else busy
        if _length(parts) <= width:
            break
    return parts


def _cell(label: str, value: str, style: str) -> Fragments:
    return [("class:toolbar.label", f" {label} "), (f"class:toolbar.value {style}".strip(), f"{value} ")]


def _value(value: str, style: str, *, first: bool) -> Fragments:
    return [*([] if first else [("class:toolbar.label", "·")]), (f"class:toolbar.value {style}".strip(), f" {value} ")]


def _length(parts: Fragments) -> int:
    return sum(len(text) for _style, text in parts)


def _credits(state: ToolbarState) -> str:
    if state.credits is None:
        return "…"
    text = f"{state.credits:,.0f} left"
    return text + (f" +{state.extra_credits:,.0f} extra" if state.extra_credits else "")


def toolbar_text(state: ToolbarState, width: int | None = None) -> str:
    """Plain text form (tests, non-terminal output)."""
    return "".join(text for _style, text in toolbar_fragments(state, width)).strip()
