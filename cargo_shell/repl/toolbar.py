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


def toolbar_fragments(state: ToolbarState) -> list[tuple[str, str]]:
    def cell(label: str, value: str, style: str = "") -> list[tuple[str, str]]:
        return [("class:toolbar.label", f" {label} "), (f"class:toolbar.value {style}".strip(), f"{value} ")]

    parts: list[tuple[str, str]] = []
    parts += cell("profile", state.profile)
    parts += cell("workspace", state.workspace or "…")
    parts += cell("target", state.target, "class:toolbar.sandbox" if state.target == "sandbox" else "")
    parts += cell("model", state.model or "none (direct commands only)")
    parts += cell("jobs", f"{state.running_jobs} running" if state.running_jobs else "none")
    parts += cell("credits", _credits(state))
    if state.busy:
        parts += [("class:toolbar.busy", f" {state.busy} ")]
    return parts


def _credits(state: ToolbarState) -> str:
    if state.credits is None:
        return "…"
    text = f"{state.credits:,.0f} left"
    return text + (f" +{state.extra_credits:,.0f} extra" if state.extra_credits else "")


def toolbar_text(state: ToolbarState) -> str:
    """Plain text form (tests, non-terminal output)."""
    return "".join(text for _style, text in toolbar_fragments(state)).strip()
