"""The benchmark summary as a rich table for the terminal (a pure renderable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def money(value: Any) -> str:
    if value is None:
        return "—"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def tokens(value: Any) -> str:
    if not value:
        return "0"
    value = float(value)
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}"


def seconds(value: Any) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value >= 90:
        return f"{int(value // 60)}m{int(value % 60):02d}s"
    return f"{value:.1f}s"


def number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"


def percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _good(mode: str, status: str) -> bool:
    return status == "fail" if mode == "decoy" else status == "pass"


def _pass_cell(mode: str, task: Mapping[str, Any]) -> Text:
    runs = task["runs"]
    good = sum(1 for r in task["runsDetail"] if _good(mode, str(r["status"])))
    label = f"{task['passed']}/{runs}" if runs else "—"
    if not runs:
        return Text(label, style="dim")
    return Text(label, style="green" if good == runs else "red" if good == 0 else "yellow")


def _pass_k_cell(mode: str, task: Mapping[str, Any]) -> Text:
    if task["passK"] is None:
        return Text("·", style="dim")
    ok = task["passK"] if mode != "decoy" else task["passed"] == 0
    return Text("✓" if task["passK"] else "✗", style="green" if ok else "red")


def summary_table(summary: Mapping[str, Any]) -> RenderableType:
    bench = summary["bench"]
    mode, k = str(bench.get("mode")), int(bench.get("repeat") or 1)
    table = Table(
        title=f"cargo-shell bench · {bench.get('model')} · {bench.get('tasks')} tasks × {k}",
        title_justify="left",
        header_style="bold",
        show_footer=True,
        pad_edge=False,
    )
    totals = summary["totals"]
    columns: list[tuple[str, str, str]] = [
        ("Task", "left", "Total"),
        ("Skill", "left", ""),
        ("Pass", "right", f"{totals['passed']}/{totals['runs']}"),
        (f"pass^{k}", "center", percent(totals["passK"])),
        ("Turns/run", "right", number(totals["modelTurnsPerRun"])),
        ("Tools/run", "right", number(totals["toolCallsPerRun"])),
        ("Asks/run", "right", number(totals["approvalsPerRun"])),
        ("Tokens in", "right", tokens(totals["tokensIn"])),
        ("Tokens out", "right", tokens(totals["tokensOut"])),
        ("Cost", "right", money(totals["costUsd"])),
        ("Credits", "right", number(totals["credits"])),
        ("Time", "right", seconds(totals["wallSeconds"])),
    ]
    for name, justify, footer in columns:
        table.add_column(name, justify=justify, footer=footer, no_wrap=name != "Task")  # type: ignore[arg-type]
    for task in summary["tasks"]:
        m = task["metrics"]
        table.add_row(
            task["id"],
            Text(task["skill"], style="dim"),
            _pass_cell(mode, task),
            _pass_k_cell(mode, task),
            number(m["modelTurnsPerRun"]),
            number(m["toolCallsPerRun"]),
            number(m["approvalsPerRun"]),
            tokens(m["tokensIn"]),
            tokens(m["tokensOut"]),
            money(m["costUsd"]),
            number(m["credits"]),
            seconds(m["wallSeconds"]),
        )
    return Group(table, summary_line(summary))


def summary_line(summary: Mapping[str, Any]) -> Text:
    bench, totals, verdict = summary["bench"], summary["totals"], summary["verdict"]
    k = int(bench.get("repeat") or 1)
    text = Text()
    text.append(f"pass rate {percent(totals['passRate'])}", style="bold")
    text.append(f" ({totals['passed']}/{totals['runs']} runs) · ")
    text.append(f"pass^{k} {percent(totals['passK'])}", style="bold")
    text.append(f" ({totals['tasksPassedAllK']}/{totals['tasks']} tasks)")
    statuses = totals.get("statuses") or {}
    extra = [f"{statuses[s]} {s}" for s in ("budget", "error") if statuses.get(s)]
    if extra:
        text.append(" · " + ", ".join(extra), style="yellow")
    text.append("\n")
    text.append("✓ " if verdict["ok"] else "✗ ", style="green" if verdict["ok"] else "red")
    text.append(verdict["text"])
    if verdict["tasks"]:
        text.append(": " + ", ".join(verdict["tasks"][:8]) + (" …" if len(verdict["tasks"]) > 8 else ""))
    return text
