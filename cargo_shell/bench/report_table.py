"""The benchmark summary as a rich table for the terminal (a pure renderable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text


def money(value: Any) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "$0"
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
    """Runs passed (with --decoy: runs rejected) out of runs."""
    runs = task["runs"]
    good = sum(1 for r in task["runsDetail"] if _good(mode, str(r["status"])))
    if not runs:
        return Text("—", style="dim")
    return Text(f"{good}/{runs}", style="green" if good == runs else "red" if good == 0 else "yellow")


def _pass_k_cell(mode: str, task: Mapping[str, Any]) -> Text:
    """Whether every run went as it should (passed; with --decoy: was rejected)."""
    if task["passK"] is None:
        return Text("·", style="dim")
    ok = all(_good(mode, str(r["status"])) for r in task["runsDetail"])
    return Text("✓" if ok else "✗", style="green" if ok else "red")


#: Columns left out first when the terminal is too narrow for all of them (the report has everything).
DROP_ORDER = ("Credits", "Time", "Asks", "Tools", "Cost")
TASK_WIDTH = 26


class SummaryTable:
    """The per-task table; on a narrow terminal it leaves out the least needed columns, never cuts
    a number."""

    def __init__(self, summary: Mapping[str, Any]) -> None:
        self.summary = summary

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns, rows, skills = _columns_and_rows(self.summary)
        widths = [
            max([len(name), len(footer), *(len(str(r[i])) for r in rows if r is not None)])
            for i, (name, _, footer) in enumerate(columns)
        ]
        keep = list(range(len(columns)))
        for name in DROP_ORDER:
            if TASK_WIDTH + sum(widths[i] + 2 for i in keep[1:]) <= options.max_width:
                break
            keep = [i for i in keep if columns[i][0] != name]
        dropped = [c[0] for i, c in enumerate(columns) if i not in keep]
        bench = self.summary["bench"]
        caption = "Turns, tools and asks (approvals) are per run; tokens, cost, credits and time add up every run."
        if dropped:
            caption += f" Not shown here (too narrow): {', '.join(dropped)}; see the HTML report."
        table = Table(
            title=f"cargo-shell bench · {bench.get('model')} · {bench.get('tasks')} tasks × {bench.get('repeat')}",
            title_justify="left",
            caption=caption,
            caption_justify="left",
            header_style="bold",
            show_footer=True,
            pad_edge=False,
            box=box.SIMPLE_HEAD,
        )
        for i in keep:
            name, justify, footer = columns[i]
            table.add_column(
                name,
                justify=justify,  # type: ignore[arg-type]
                footer=footer,
                no_wrap=i > 0,  # rich shortens only columns that may wrap: the task names
                overflow="ellipsis",
                min_width=14 if i == 0 else widths[i],
            )
        heading = iter(skills)
        for row in rows:
            if row is None:
                table.add_row(Text(next(heading), style="bold cyan"))
            else:
                table.add_row(*(row[i] for i in keep))
        yield table


def _columns_and_rows(
    summary: Mapping[str, Any],
) -> tuple[list[tuple[str, str, str]], list[tuple[Text | str, ...] | None], list[str]]:
    mode, k = str(summary["bench"].get("mode")), int(summary["bench"].get("repeat") or 1)
    totals = summary["totals"]
    if mode == "decoy":  # a decoy should fail: count what the verifiers rejected
        rejected = sum(1 for t in summary["tasks"] for r in t["runsDetail"] if r["status"] == "fail")
        every = sum(1 for t in summary["tasks"] if t["runs"] and all(r["status"] == "fail" for r in t["runsDetail"]))
        judged = ("Rejected", f"{rejected}/{totals['runs']}")
        all_k = (f"all {k}", percent(every / len(summary["tasks"]) if summary["tasks"] else None))
    else:
        judged = ("Pass", f"{totals['passed']}/{totals['runs']}")
        all_k = (f"pass^{k}", percent(totals["passK"]))
    columns: list[tuple[str, str, str]] = [
        ("Task", "left", "Total"),
        (judged[0], "right", judged[1]),
        (all_k[0], "center", all_k[1]),
        ("Turns", "right", number(totals["modelTurnsPerRun"])),
        ("Tools", "right", number(totals["toolCallsPerRun"])),
        ("Asks", "right", number(totals["approvalsPerRun"])),
        ("Tokens in/out", "right", f"{tokens(totals['tokensIn'])}/{tokens(totals['tokensOut'])}"),
        ("Cost", "right", money(totals["costUsd"])),
        ("Credits", "right", number(totals["credits"])),
        ("Time", "right", seconds(totals["wallSeconds"])),
    ]
    rows: list[tuple[Text | str, ...] | None] = []  # None: a skill heading
    skills: list[str] = []
    for task in summary["tasks"]:
        if not skills or task["skill"] != skills[-1]:
            skills.append(str(task["skill"]))
            rows.append(None)
        m = task["metrics"]
        rows.append(
            (
                "  " + str(task["id"]),
                _pass_cell(mode, task),
                _pass_k_cell(mode, task),
                number(m["modelTurnsPerRun"]),
                number(m["toolCallsPerRun"]),
                number(m["approvalsPerRun"]),
                f"{tokens(m['tokensIn'])}/{tokens(m['tokensOut'])}",
                money(m["costUsd"]),
                number(m["credits"]),
                seconds(m["wallSeconds"]),
            )
        )
    return columns, rows, skills


def summary_table(summary: Mapping[str, Any]) -> RenderableType:
    return Group(SummaryTable(summary), summary_line(summary))


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
