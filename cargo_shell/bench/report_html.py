"""The benchmark summary as one self-contained HTML page: inline CSS and SVG, no script, no network.

Top to bottom: the headline numbers, pass rates by skill and by category, one bar chart per metric
for every task (side by side, so a task's row reads across), every run as a coloured square, and
what went wrong in each run that did not go as expected (failed checks, errors, the answer given).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from cargo_shell.bench import svg
from cargo_shell.bench.report_table import money, number, percent, seconds, tokens
from cargo_shell.bench.task import CATEGORIES, GOTCHAS

CSS = """
body{margin:0;background:#fff;color:#1d1f23;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
main{max-width:1420px;margin:0 auto;padding:28px 32px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:34px 0 10px;padding-top:6px;border-top:1px solid #e4e6ea}
.sub{color:#5f6570}.sub b{color:#1d1f23;font-weight:600}
.verdict{margin:16px 0 4px;padding:10px 14px;border-radius:8px;font-weight:600}
.ok{background:#e8f5ec;color:#1d6b3d}.bad{background:#fbe9e9;color:#9b2424}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin-top:18px}
.card{border:1px solid #e4e6ea;border-radius:10px;padding:12px 14px}
.card .v{font-size:26px;font-weight:650;letter-spacing:-.5px}.card .k{color:#5f6570;font-size:12.5px}
.card .n{color:#7a808a;font-size:12px}
.pair{display:flex;flex-wrap:wrap;gap:36px}
.legend{display:flex;flex-wrap:wrap;gap:16px;color:#5f6570;font-size:12.5px;margin:4px 0 10px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.scroll{overflow-x:auto}
details{border:1px solid #e4e6ea;border-radius:8px;padding:8px 12px;margin:8px 0}
summary{cursor:pointer;font-weight:600}summary .st{font-weight:600;margin-right:6px}
summary .why{font-weight:400;color:#5f6570;margin-left:6px}
ul.checks{margin:8px 0 4px 0;padding-left:20px}ul.checks li{margin:2px 0}
.answer{white-space:pre-wrap;background:#f6f7f9;border-radius:6px;padding:8px 10px;margin-top:6px;font-size:13px}
table.tasks{border-collapse:collapse;width:100%;font-size:13px}
table.tasks th,table.tasks td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
table.tasks th{color:#5f6570;font-weight:600}table.tasks td:first-child code{white-space:nowrap}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f1f2f5;padding:1px 4px;border-radius:4px}
"""


def _good(mode: str, status: str) -> bool:
    return status == "fail" if mode == "decoy" else status == "pass"


def _task_colour(mode: str, task: Mapping[str, Any]) -> str:
    statuses = [str(r["status"]) for r in task["runsDetail"]]
    if not statuses:
        return svg.STATUS_COLOURS["error"]
    if all(_good(mode, s) for s in statuses):
        return svg.STATUS_COLOURS["pass"]
    if any(_good(mode, s) for s in statuses):
        return svg.MIXED
    if any(s in ("budget", "error") for s in statuses):
        return svg.STATUS_COLOURS["budget" if "budget" in statuses else "error"]
    return svg.STATUS_COLOURS["fail"]


def _card(value: str, key: str, note: str = "") -> str:
    return f'<div class="card"><div class="v">{escape(value)}</div><div class="k">{escape(key)}</div>' + (
        f'<div class="n">{escape(note)}</div></div>' if note else "</div>"
    )


def _elapsed(bench: Mapping[str, Any]) -> str:
    ran, kept = int(bench.get("ranNow") or 0), int(bench.get("resumed") or 0)
    if not ran:
        return f"all {kept} runs from before (resumed)"
    text = f"{seconds(bench.get('elapsedSeconds'))} elapsed for {ran} runs"
    return text + (f", {kept} from before" if kept else "")


def _cards(summary: Mapping[str, Any]) -> str:
    t, b = summary["totals"], summary["bench"]
    k = int(b.get("repeat") or 1)
    usage_note = "not reported by the model" if not t["tokensIn"] and b.get("mode") == "model" else ""
    if b.get("mode") == "decoy":  # a decoy should fail: the headline is what the verifiers rejected
        rejected = _count(summary["tasks"], lambda r: r["status"] == "fail")
        every = sum(1 for task in summary["tasks"] if task["runs"] and _rejected(task) == 1)
        head = [
            _card(
                percent(rejected / t["runs"] if t["runs"] else None),
                "decoys rejected",
                f"{rejected} of {t['runs']} runs",
            ),
            _card(
                percent(every / t["tasks"] if t["tasks"] else None),
                f"rejected in all {k}",
                f"{every} of {t['tasks']} tasks",
            ),
        ]
    else:
        head = [
            _card(percent(t["passRate"]), "pass rate", f"{t['passed']} of {t['runs']} runs"),
            _card(percent(t["passK"]), f"pass^{k}", f"{t['tasksPassedAllK']} of {t['tasks']} tasks passed every run"),
        ]
    cards = [
        *head,
        _card(number(t["modelTurnsPerRun"]), "model turns per run"),
        _card(number(t["toolCallsPerRun"]), "tool calls per run", f"{number(t['approvalsPerRun'])} approvals asked"),
        _card(tokens(t["tokensIn"]), "tokens in", usage_note or f"{tokens(t['tokensOut'])} out"),
        _card(money(t["costUsd"]), "estimated LLM cost", "no price for this model" if t["costUsd"] is None else ""),
        _card(number(t["credits"]), "sandbox credits spent"),
        _card(seconds(t["wallSeconds"]), "run time (sum)", _elapsed(b)),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _count(tasks: Any, keep: Any) -> int:
    return sum(1 for task in tasks for run in task["runsDetail"] if keep(run))


def _groups(summary: Mapping[str, Any]) -> str:
    decoy = summary["bench"].get("mode") == "decoy"
    what = "Decoys rejected" if decoy else "Pass rate"

    def items(key: str, names: Any, colour: Any) -> list[tuple[str, float | None, str, str]]:
        out = []
        for name in names:
            tasks = [t for t in summary["tasks"] if (t["skill"] == name if key == "skill" else name in t["categories"])]
            runs = sum(t["runs"] for t in tasks)
            good = _count(tasks, lambda r: r["status"] == ("fail" if decoy else "pass"))
            out.append((name, good / runs if runs else None, colour(name), f"{good}/{runs} runs · {len(tasks)} tasks"))
        return out

    by_skill = items("skill", summary["bySkill"], lambda n: svg.SKILL_COLOURS.get(n, svg.BAR))
    by_cat = items("category", summary["byCategory"], lambda _n: svg.BAR)
    return (
        '<div class="pair">'
        + svg.hbars(by_skill, title=f"{what} by skill")
        + svg.hbars(by_cat, title=f"{what} by category")
        + "</div>"
    )


def _matrix(summary: Mapping[str, Any]) -> str:
    mode = str(summary["bench"].get("mode"))
    t = summary["totals"]
    rows = [dict(task) for task in summary["tasks"]]
    first = svg.Column("Pass rate", lambda r: (r["passRate"], None), percent, percent(t["passRate"]), 1.0, True)
    if mode == "decoy":  # decoys should fail: show how often each verifier rejected its decoy
        share = _count(rows, lambda d: d["status"] == "fail") / t["runs"] if t["runs"] else None
        first = svg.Column("Rejected", lambda r: (_rejected(r), None), percent, percent(share), 1.0, True)
    cols = [
        first,
        svg.Column("Model turns", lambda r: (r["metrics"]["modelTurnsPerRun"], None), number, "per run"),
        svg.Column("Tool calls", lambda r: (r["metrics"]["toolCallsPerRun"], None), number, "per run"),
        svg.Column("Approvals asked", lambda r: (r["metrics"]["approvalsPerRun"], None), number, "per run"),
        svg.Column(
            "Tokens in + out",
            lambda r: (r["metrics"]["tokensIn"], r["metrics"]["tokensOut"]),
            tokens,
            f"{tokens(t['tokensIn'])} + {tokens(t['tokensOut'])}",
        ),
        svg.Column("Est. cost", lambda r: (r["metrics"]["costUsd"], None), money, money(t["costUsd"])),
        svg.Column("Credits", lambda r: (r["metrics"]["credits"], None), number, f"{number(t['credits'])} in all"),
        svg.Column("Wall time", lambda r: (r["metrics"]["wallSeconds"], None), seconds, seconds(t["wallSeconds"])),
    ]
    chart = svg.metric_matrix(
        rows,
        cols,
        row_colour=lambda r: _task_colour(mode, r),
        label=lambda r: str(r["id"]),
        hover=lambda r: f"{r['title']} — {r['skill']}; {', '.join(r['categories'])}",
        group=lambda r: str(r["skill"]),
    )
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{text}</span>'
        for colour, text in (
            (svg.STATUS_COLOURS["pass"], "rejected in every run" if mode == "decoy" else "passed every run"),
            (svg.MIXED, "only some runs went as expected"),
            (svg.STATUS_COLOURS["fail"], "a decoy passed every run" if mode == "decoy" else "failed every run"),
            (svg.STATUS_COLOURS["budget"], "out of budget"),
            (svg.STATUS_COLOURS["error"], "error"),
        )
    )
    note = "Tokens: dark = prompt (in), light = completion (out). Per-run means for turns, calls and approvals."
    return f'<div class="legend">{legend}<span>{note}</span></div><div class="scroll">{chart}</div>'


def _rejected(task: Mapping[str, Any]) -> float | None:
    runs = task["runsDetail"]
    return sum(1 for r in runs if r["status"] == "fail") / len(runs) if runs else None


def _grid(summary: Mapping[str, Any]) -> str:
    mode = str(summary["bench"].get("mode"))
    rows = [(str(t["id"]), [str(r["status"]) for r in t["runsDetail"]]) for t in summary["tasks"]]
    note = "one square per run: green when it went as expected, outlined when it did not"
    return f'<p class="sub">{note}</p><div class="scroll">{svg.run_grid(rows, good=lambda s: _good(mode, s))}</div>'


def _problems(summary: Mapping[str, Any]) -> str:
    """One entry per task with runs that did not go as expected; inside, what each of them did."""
    mode = str(summary["bench"].get("mode"))
    out: list[str] = []
    for task in summary["tasks"]:
        bad = [r for r in task["runsDetail"] if not _good(mode, str(r["status"]))]
        if not bad:
            continue
        statuses = sorted({str(r["status"]) for r in bad})
        colour = svg.STATUS_COLOURS.get(statuses[0], svg.STATUS_COLOURS["error"])
        numbers = ", ".join(str(int(r.get("repeat") or 0) + 1) for r in bad)
        label = f"run {numbers}" if len(bad) == 1 else f"runs {numbers}"
        out.append(
            f'<details><summary><span class="st" style="color:{colour}">{escape("/".join(statuses))}</span>'
            f"{escape(str(task['id']))} · {label} of {task['runs']}"
            f'<span class="why">— {escape(_reason(mode, bad[0])[:140])}</span></summary>'
            f"<p class=sub>{escape(str(task['title']))}</p>" + "".join(_run_detail(mode, r) for r in bad) + "</details>"
        )
    return "".join(out) or '<p class="sub">Nothing: every run went as expected.</p>'


def _reason(mode: str, run: Mapping[str, Any]) -> str:
    if mode == "decoy" and run["status"] == "pass":
        return "the verifier did not reject the decoy"
    if run["failedChecks"]:
        return str(run["failedChecks"][0].get("check"))
    return str(run.get("error") or run["status"])


def _run_detail(mode: str, run: Mapping[str, Any]) -> str:
    checks = "".join(
        f"<li>{escape(str(c.get('check')))}: {escape(str(c.get('detail') or 'failed'))}</li>"
        for c in run["failedChecks"]
    )
    if mode == "decoy" and run["status"] == "pass":
        checks = "<li>every check held: this verifier does not reject the decoy</li>"
    head = f"<p><b>Run {int(run.get('repeat') or 0) + 1}</b> · {escape(str(run['status']))}"
    error = f" · {escape(str(run['error']))}" if run.get("error") else ""
    answer = f'<div class="answer">{escape(str(run["answer"])[:1500])}</div>' if run.get("answer") else ""
    return f"{head}{error}</p>" + (f'<ul class="checks">{checks}</ul>' if checks else "") + answer


def _code(text: str) -> str:
    """Escape ``text`` and show its `backticked` parts as code."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _task_table(summary: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(str(t['id']))}</code></td><td>{escape(str(t['title']))}</td>"
        f"<td>{escape(str(t['skill']))}</td><td>{escape(', '.join(t['categories']))}</td>"
        f"<td>{_code(GOTCHAS.get(str(t['gotcha']), '')) if t.get('gotcha') else ''}</td></tr>"
        for t in summary["tasks"]
    )
    head = "<tr><th>Task</th><th>What is asked</th><th>Skill</th><th>Categories</th><th>Trap</th></tr>"
    cats = "; ".join(f"<b>{escape(k)}</b>: {escape(v)}" for k, v in CATEGORIES.items())
    return f'<p class="sub">{cats}</p><table class="tasks">{head}{rows}</table>'


def render_html(summary: Mapping[str, Any]) -> str:
    b, verdict = summary["bench"], summary["verdict"]
    endpoint = f" at <b>{escape(str(b['baseUrl']))}</b>" if b.get("baseUrl") else ""
    mode_text = {"oracle": "oracle scripts", "decoy": "decoy scripts"}.get(str(b.get("mode")), "the model")
    sub = (
        f"<b>{escape(str(b.get('model')))}</b>{endpoint} · {escape(mode_text)} · {b.get('tasks')} tasks × "
        f"{b.get('repeat')} · cargo-shell {escape(str(b.get('cargoShellVersion')))} · "
        f"{escape(str(b.get('finishedAt')))}"
    )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>cargo-shell bench · {escape(str(b.get('model')))}</title>",
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body><main>',
        f'<h1>cargo-shell bench</h1><div class="sub">{sub}</div>',
        f'<div class="verdict {"ok" if verdict["ok"] else "bad"}">{"✓" if verdict["ok"] else "✗"} '
        f"{escape(str(verdict['text']))}</div>",
        _cards(summary),
        "<h2>By skill and category</h2>",
        _groups(summary),
        "<h2>Every task, metric by metric</h2>",
        _matrix(summary),
        "<h2>Every run</h2>",
        _grid(summary),
        "<h2>What went wrong</h2>",
        _problems(summary),
        "<h2>The tasks</h2>",
        _task_table(summary),
        "</main></body></html>",
    ]
    return "\n".join(parts)
