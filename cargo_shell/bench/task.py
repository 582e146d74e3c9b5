"""Benchmark tasks as data: one JSON file per task in ``cargo_shell/bench/tasks/``.

A task is what a person would ask in the shell, with everything needed to judge the answer
without a person: set-up commands, the prompt and follow-up turns, how the simulated user
answers confirmations, named values read from the sandbox before and after the run, the checks
on the end state and on the answer, and two scripted tool-call sequences: an ``oracle`` that
solves it and a ``decoy`` (a plausible wrong way) that its checks must reject. The README's
"Adding a task" section describes every field; :func:`load_tasks` checks them and names the
file and field of any mistake.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cargo_shell.errors import UsageError

#: What a task exercises (a task has one or more).
CATEGORIES = {
    "lookup": "a single lookup",
    "discovery": "several reads chaining uuids (workflow → segment → model → DDL → SQL)",
    "write": "a change that needs confirmation",
    "edit": "the user edits the proposed arguments",
    "gotcha": "a trap the platform documents",
    "async": "a background job, awaited or checked later",
    "declined": "a declined confirmation that must not be retried",
    "injection": "instructions planted in workspace data that must be ignored",
    "aggregate": "an answer that needs a count or a sum",
    "multi-turn": "a follow-up turn",
}
#: The documented traps a task can be about (``gotcha`` field).
GOTCHAS = {
    "filter-spelling": "filters use `conjonction` and the condition grammar, not `{field, operator, value}`",
    "play-vs-tool": "a play runs through `batch create`, not `run create`",
    "model-uuid-for-fetch": "`segment fetch` takes the model uuid, not the segment uuid",
    "ddl-before-sql": "table names come from `storage model get-ddl`, never guessed",
    "invoice-cents": "invoice amounts are in cents",
    "partial-batch-failure": "a `success` batch can hold failed runs",
    "staged-rollout": "connector work over many records goes 1 → 50 → 500 → all",
    "workflow-uuid": "run and batch commands take a tool's workflowUuid, not its uuid",
    "remaining-credits": "remaining credits = available − used",
    "deploy-arrays": "`deploy-draft` replaces the release's arrays with what it is given",
}
SKILL_NAMES = ("orchestration", "storage", "connection", "ai", "analytics", "billing", "workspace")
ANSWERS = ("yes", "no", "always", "edit")
CHECK_KINDS = ("read", "sql", "value", "answer", "credits", "approvals", "nothing_removed")
SOURCE_KINDS = ("read", "sql", "calc", "value")
DEFAULT_SECONDS = 300.0
DEFAULT_TOKENS = 200_000


class TaskError(UsageError):
    """A task file that is not valid: the message names the file and the field."""


@dataclass(frozen=True)
class UserRule:
    """How the simulated user answers a confirmation (first matching rule with uses left wins)."""

    answer: str
    command: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    times: int | None = None

    def matches(self, command: str) -> bool:
        return self.command is None or fnmatch.fnmatchcase(command, self.command)


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    skill: str
    categories: tuple[str, ...]
    turns: tuple[str, ...]
    checks: tuple[dict[str, Any], ...]
    oracle: tuple[dict[str, Any], ...]
    decoy: tuple[dict[str, Any], ...]
    decoy_why: str
    gotcha: str | None = None
    setup: tuple[dict[str, Any], ...] = ()
    user: tuple[UserRule, ...] = ()
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    after: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = DEFAULT_SECONDS
    tokens: int = DEFAULT_TOKENS
    max_turns: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def script(self, which: str) -> tuple[dict[str, Any], ...]:
        return self.oracle if which == "oracle" else self.decoy


# -- loading ---------------------------------------------------------------------------------------


def tasks_dir() -> Any:
    return resources.files("cargo_shell.bench") / "tasks"


def load_tasks(pattern: str | None = None, *, folder: Path | None = None) -> list[Task]:
    """Every task (sorted by id), or those whose id, skill or a category matches ``pattern``
    (a substring or a shell pattern, several separated by commas)."""
    root: Any = folder if folder is not None else tasks_dir()
    tasks: list[Task] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            raw = json.loads(entry.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TaskError(f"task file {entry.name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        tasks.append(parse_task(raw, source=entry.name))
    ids = [t.id for t in tasks]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TaskError(f"task ids used twice: {', '.join(dupes)}")
    if pattern:
        tasks = [t for t in tasks if _selected(t, pattern)]
    return tasks


def _selected(task: Task, pattern: str) -> bool:
    words = [task.id, task.skill, *task.categories, *([task.gotcha] if task.gotcha else [])]
    for part in (p.strip() for p in pattern.split(",")):
        if not part:
            continue
        wildcard = any(ch in part for ch in "*?[")
        if any(fnmatch.fnmatchcase(w, part) if wildcard else part in w for w in words):
            return True
    return False


def parse_task(raw: Any, *, source: str) -> Task:
    v = _Validator(source)
    if not isinstance(raw, dict):
        raise TaskError(f"task file {source}: the top level must be a JSON object")
    known = {
        "id", "title", "skill", "categories", "gotcha", "setup", "turns", "user", "before", "after",
        "checks", "oracle", "decoy", "decoy_why", "budget", "max_turns",
    }  # fmt: skip
    v.no_extra(raw, known, "the task")
    task_id = v.text(raw, "id")
    if source.endswith(".json") and source[:-5] != task_id:
        raise TaskError(f"task file {source}: id {task_id!r} must equal the file name without .json")
    skill = v.text(raw, "skill")
    if skill not in SKILL_NAMES:
        v.fail("skill", f"{skill!r} is not one of {', '.join(SKILL_NAMES)}")
    categories = v.texts(raw, "categories")
    for c in categories:
        if c not in CATEGORIES:
            v.fail("categories", f"{c!r} is not one of {', '.join(CATEGORIES)}")
    gotcha = raw.get("gotcha")
    if gotcha is not None and gotcha not in GOTCHAS:
        v.fail("gotcha", f"{gotcha!r} is not one of {', '.join(GOTCHAS)}")
    if gotcha is not None and "gotcha" not in categories:
        v.fail("categories", "a task with a gotcha lists the category 'gotcha'")
    turns = v.texts(raw, "turns")
    if not turns:
        v.fail("turns", "needs at least one prompt")
    budget = raw.get("budget") or {}
    if not isinstance(budget, dict) or set(budget) - {"seconds", "tokens"}:
        v.fail("budget", 'takes {"seconds": N, "tokens": N}')
    return Task(
        id=task_id,
        title=v.text(raw, "title"),
        skill=skill,
        categories=tuple(categories),
        gotcha=gotcha,
        turns=tuple(turns),
        setup=tuple(v.steps(raw.get("setup") or [], "setup")),
        user=tuple(v.user(raw.get("user") or [])),
        before=v.sources(raw.get("before") or {}, "before"),
        after=v.sources(raw.get("after") or {}, "after"),
        checks=tuple(v.checks(raw.get("checks"))),
        oracle=tuple(v.script(raw.get("oracle"), "oracle")),
        decoy=tuple(v.script(raw.get("decoy"), "decoy")),
        decoy_why=v.text(raw, "decoy_why"),
        seconds=float(budget.get("seconds", DEFAULT_SECONDS)),
        tokens=int(budget.get("tokens", DEFAULT_TOKENS)),
        max_turns=raw.get("max_turns"),
        raw=raw,
    )


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> None:
        raise TaskError(f"task file {self.source}, {where}: {message}")

    def no_extra(self, obj: dict[str, Any], known: set[str], where: str) -> None:
        extra = sorted(set(obj) - known)
        if extra:
            self.fail(where, f"unknown field(s) {', '.join(extra)}; known: {', '.join(sorted(known))}")

    def text(self, obj: dict[str, Any], key: str) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
        return str(value)

    def texts(self, obj: dict[str, Any], key: str) -> list[str]:
        value = obj.get(key)
        if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
            self.fail(key, "must be a list of non-empty strings")
        return list(value or [])

    def command(self, step: dict[str, Any], where: str) -> None:
        from cargo_shell.registry import get_registry

        name = step.get("command")
        if not isinstance(name, str) or name not in get_registry():
            self.fail(where, f"command {name!r} is not a cargo-shell command")
        if "args" in step and not isinstance(step["args"], dict):
            self.fail(where, "args must be an object of argument names to values")

    def steps(self, steps: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(steps, list):
            self.fail(where, "must be a list of steps")
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                self.fail(f"{where}[{i}]", "must be an object")
            self.no_extra(step, {"id", "command", "args"}, f"{where}[{i}]")
            self.command(step, f"{where}[{i}]")
        return list(steps)

    def user(self, rules: Any) -> list[UserRule]:
        if not isinstance(rules, list):
            self.fail("user", "must be a list of rules")
        out: list[UserRule] = []
        for i, rule in enumerate(rules):
            where = f"user[{i}]"
            if not isinstance(rule, dict):
                self.fail(where, "must be an object")
            self.no_extra(rule, {"command", "answer", "args", "times"}, where)
            if rule.get("answer") not in ANSWERS:
                self.fail(where, f"answer must be one of {', '.join(ANSWERS)}")
            if (rule["answer"] == "edit") != ("args" in rule):
                self.fail(where, "an edit gives the changed arguments in args (and only an edit does)")
            times = rule.get("times")
            if times is not None and (not isinstance(times, int) or times < 1):
                self.fail(where, "times must be a positive integer")
            out.append(UserRule(rule["answer"], rule.get("command"), dict(rule.get("args") or {}), times))
        return out

    def source_spec(self, spec: Any, where: str, kinds: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(spec, dict):
            self.fail(where, "must be an object")
        present = [k for k in kinds if k in spec]
        if len(present) != 1:
            self.fail(where, f"needs exactly one of {', '.join(kinds)}")
        if "read" in spec:
            self.command({"command": spec["read"], **({"args": spec["args"]} if "args" in spec else {})}, where)
        return dict(spec)

    def sources(self, lets: Any, where: str) -> dict[str, dict[str, Any]]:
        if not isinstance(lets, dict):
            self.fail(where, "must map names to values to read")
        out: dict[str, dict[str, Any]] = {}
        for name, spec in lets.items():
            here = f"{where}.{name}"
            spec = self.source_spec(spec, here, SOURCE_KINDS)
            self.no_extra(spec, {*SOURCE_KINDS, "args", "path"}, here)
            out[name] = spec
        return out

    def checks(self, checks: Any) -> list[dict[str, Any]]:
        from cargo_shell.bench.checks import MATCHERS

        if not isinstance(checks, list) or not checks:
            self.fail("checks", "needs at least one check")
        for i, check in enumerate(checks):
            where = f"checks[{i}]"
            if not isinstance(check, dict) or check.get("check") not in CHECK_KINDS:
                self.fail(where, f"needs 'check': one of {', '.join(CHECK_KINDS)}")
            kind = check["check"]
            if kind == "read":
                self.command(
                    {"command": check.get("command"), **({"args": check["args"]} if "args" in check else {})}, where
                )
            if kind in ("read", "sql", "value", "credits") and not any(m in check for m in MATCHERS):
                self.fail(where, f"needs a matcher: one of {', '.join(MATCHERS)}")
            if kind == "approvals" and not isinstance(check.get("commands"), list):
                self.fail(where, "approvals needs 'commands': a list of command patterns")
        return list(checks)

    def script(self, steps: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(steps, list) or not steps:
            self.fail(where, "needs at least one step")
        for i, step in enumerate(steps):
            here = f"{where}[{i}]"
            if not isinstance(step, dict):
                self.fail(here, "must be an object")
            if "say" in step:
                self.no_extra(step, {"say"}, here)
                continue
            calls = step.get("calls", [step])
            if "calls" in step:
                self.no_extra(step, {"calls"}, here)
            if not isinstance(calls, list) or not calls:
                self.fail(here, "calls must be a non-empty list")
            for j, call in enumerate(calls):
                spot = f"{here}.calls[{j}]" if "calls" in step else here
                if not isinstance(call, dict):
                    self.fail(spot, "must be an object")
                self.no_extra(call, {"id", "command", "args", "tool"}, spot)
                self.command(call, spot)
        if "say" not in steps[-1]:
            self.fail(where, "must end with a 'say' step (the final answer)")
        return list(steps)
