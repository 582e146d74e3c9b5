"""The results directory (resumable) and the summary computed from it.

Layout::

    <dir>/bench.json                         what these runs are (mode, model, endpoint): a resumed
                                             benchmark must match it, or be started --fresh
    <dir>/runs/<task>/<repeat>.json          one finished run each (result, checks, metrics)
    <dir>/runs/<task>/<repeat>.conversation.json   its conversation, masked, as the model saw it
    <dir>/results.json                       the summary (also printed by --output json)
    <dir>/report.html                        the report for people

A run whose file exists is finished; re-running the benchmark skips it unless ``--fresh``.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cargo_shell.bench.pool import CONVERSATION_SUFFIX, write_json
from cargo_shell.bench.task import SKILL_NAMES, Task
from cargo_shell.errors import UsageError

IDENTITY_KEYS = ("mode", "model", "baseUrl")
MEAN_METRICS = ("modelTurns", "toolCalls", "approvals", "wallSeconds")
SUM_METRICS = ("tokensIn", "tokensOut", "costUsd", "credits", "wallSeconds")


class ResultsDir:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def meta_file(self) -> Path:
        return self.root / "bench.json"

    @property
    def summary_file(self) -> Path:
        return self.root / "results.json"

    @property
    def report_file(self) -> Path:
        return self.root / "report.html"

    def result_file(self, task_id: str, repeat: int) -> Path:
        return self.root / "runs" / task_id / f"{repeat}.json"

    def work_dir(self, task_id: str, repeat: int) -> Path:
        return self.root / "work" / task_id / str(repeat)

    def prepare(self, identity: Mapping[str, Any], *, fresh: bool) -> None:
        """Start or resume: a directory holding other runs (another model or mode) is refused."""
        if fresh:
            for name in ("runs", "work"):
                shutil.rmtree(self.root / name, ignore_errors=True)
            for path in (self.meta_file, self.summary_file, self.report_file):
                path.unlink(missing_ok=True)
        if self.meta_file.exists():
            try:
                stored = json.loads(self.meta_file.read_text(encoding="utf-8"))
            except ValueError:
                stored = {}
            differs = [k for k in IDENTITY_KEYS if stored.get(k) != identity.get(k)]
            if differs and any((self.root / "runs").glob("*/*.json")):
                what = ", ".join(f"{k} {stored.get(k)!r} (now {identity.get(k)!r})" for k in differs)
                raise UsageError(
                    f"{self.root} holds benchmark runs of another configuration: {what}",
                    hint="Add --fresh to replace them, or --results DIR to keep both.",
                )
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self.meta_file, dict(identity))

    def done(self, task_id: str, repeat: int) -> bool:
        return self.result_file(task_id, repeat).exists()

    def load(self, tasks: Iterable[Task], repeat: int) -> dict[str, list[dict[str, Any]]]:
        """The finished runs of ``tasks`` with repeat index below ``repeat``, by task id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for task in tasks:
            runs: list[dict[str, Any]] = []
            for i in range(repeat):
                path = self.result_file(task.id, i)
                if path.exists() and not path.name.endswith(CONVERSATION_SUFFIX):
                    try:
                        runs.append(json.loads(path.read_text(encoding="utf-8")))
                    except ValueError:
                        continue
            out[task.id] = runs
        return out


# -- the summary -----------------------------------------------------------------------------------


def _sum(values: Sequence[Any]) -> float | None:
    if any(v is None for v in values):
        return None
    return round(sum(float(v) for v in values), 6)


def _mean(values: Sequence[Any]) -> float | None:
    nums = [float(v) for v in values if v is not None]
    return round(statistics.fmean(nums), 3) if nums else None


def _metric(runs: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    return [(r.get("metrics") or {}).get(name) for r in runs]


def _failed_checks(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in run.get("checks") or [] if not c.get("ok")]


def task_summary(task: Task, runs: Sequence[Mapping[str, Any]], repeat: int) -> dict[str, Any]:
    passed = sum(1 for r in runs if r.get("status") == "pass")
    complete = len(runs) >= repeat
    metrics: dict[str, Any] = {f"{m}PerRun": _mean(_metric(runs, m)) for m in MEAN_METRICS}
    metrics.update({m: _sum(_metric(runs, m)) for m in SUM_METRICS})
    return {
        "id": task.id,
        "title": task.title,
        "skill": task.skill,
        "categories": list(task.categories),
        "gotcha": task.gotcha,
        "runs": len(runs),
        "passed": passed,
        "passRate": round(passed / len(runs), 4) if runs else None,
        "passK": (passed == len(runs)) if complete and runs else None,
        "statuses": _count(r.get("status", "error") for r in runs),
        "metrics": metrics,
        "runsDetail": [
            {
                "repeat": r.get("repeat"),
                "status": r.get("status"),
                "error": r.get("error"),
                "failedChecks": _failed_checks(r),
                "answer": (r.get("answers") or [""])[-1] if r.get("answers") else "",
                "metrics": r.get("metrics") or {},
            }
            for r in sorted(runs, key=lambda r: int(r.get("repeat") or 0))
        ],
    }


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _group(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    runs = sum(s["runs"] for s in summaries)
    passed = sum(s["passed"] for s in summaries)
    decided = [s for s in summaries if s["passK"] is not None]
    return {
        "tasks": len(summaries),
        "runs": runs,
        "passed": passed,
        "passRate": round(passed / runs, 4) if runs else None,
        "passK": round(sum(1 for s in decided if s["passK"]) / len(decided), 4) if decided else None,
    }


def summarize(
    tasks: Sequence[Task], results: Mapping[str, Sequence[Mapping[str, Any]]], *, repeat: int, meta: Mapping[str, Any]
) -> dict[str, Any]:
    order = {name: i for i, name in enumerate(SKILL_NAMES)}
    tasks = sorted(tasks, key=lambda t: (order.get(t.skill, len(order)), t.id))
    per_task = [task_summary(t, results.get(t.id, []), repeat) for t in tasks]
    all_runs = [r for t in tasks for r in results.get(t.id, [])]
    totals: dict[str, Any] = _group(per_task)
    totals["tasksPassedAllK"] = sum(1 for s in per_task if s["passK"])
    totals["statuses"] = _count(r.get("status", "error") for r in all_runs)
    totals.update({f"{m}PerRun": _mean(_metric(all_runs, m)) for m in MEAN_METRICS})
    totals.update({m: _sum(_metric(all_runs, m)) for m in SUM_METRICS})
    by_skill = {s: _group([t for t in per_task if t["skill"] == s]) for s in SKILL_NAMES}
    categories = sorted({c for t in tasks for c in t.categories})
    by_category = {c: _group([t for t in per_task if c in t["categories"]]) for c in categories}
    return {
        "bench": {**meta, "repeat": repeat, "tasks": len(tasks)},
        "totals": totals,
        "bySkill": {k: v for k, v in by_skill.items() if v["tasks"]},
        "byCategory": by_category,
        "tasks": per_task,
        "verdict": verdict(str(meta.get("mode")), all_runs, expected=len(tasks) * repeat),
    }


def verdict(mode: str, runs: Sequence[Mapping[str, Any]], *, expected: int) -> dict[str, Any]:
    """Whether the benchmark itself went as it should: oracles all pass, decoys all rejected, and
    no run of a model ended in an error (the model unreachable, a crash)."""
    statuses = [r.get("status") for r in runs]
    if mode == "oracle":
        bad = [r["task"] for r in runs if r.get("status") != "pass"]
        text = "every oracle passes" if not bad else f"{len(bad)} oracle run(s) did not pass"
    elif mode == "decoy":
        bad = [r["task"] for r in runs if r.get("status") != "fail"]
        text = "every decoy is rejected" if not bad else f"{len(bad)} decoy run(s) were not rejected"
    else:
        bad = [r["task"] for r in runs if r.get("status") == "error"]
        text = "every run completed" if not bad else f"{len(bad)} run(s) ended in an error"
    missing = expected - len(statuses)
    if missing > 0:
        text += f"; {missing} run(s) missing"
    return {"ok": not bad and missing <= 0, "text": text, "tasks": sorted(set(bad))}
