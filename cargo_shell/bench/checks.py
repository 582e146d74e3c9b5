"""The verifier: named values read from the sandbox, and checks on its end state and the answer.

Everything is read through an executor with the default policy and nobody to ask, so a check can
only read: a task whose check names a write fails loudly instead of changing the sandbox.

Values (``before`` and ``after`` in a task) and checks share one vocabulary of sources:
``{"read": "<command>", "args": {...}, "path": "..."}``, ``{"sql": "SELECT ..."}`` (the first
column of the first row unless a ``path`` is given), ``{"calc": "${a} - ${b}"}`` and
``{"value": ...}``. Built-in names: ``answer`` (the last answer), ``answers`` (all of them),
``credits_spent`` and ``approvals`` (confirmations asked, by command).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cargo_shell.bench.refs import RefError, calc, get_path, render, scope_resolver
from cargo_shell.errors import CargoShellError

MATCHERS = (
    "equals", "not_equals", "contains", "lacks", "at_least", "at_most", "greater_than", "less_than", "exists",
)  # fmt: skip
SQL_COMMAND = "system-of-record client query"
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")

Read = Callable[[str, dict[str, Any]], Any]


class CheckError(Exception):
    """A value that could not be read (the check, or the whole verification, fails with this)."""


@dataclass
class Trace:
    """What the run did that checks may look at, besides the sandbox."""

    answers: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    credits_spent: float = 0.0

    def scope(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for command in self.approvals:
            counts[command] = counts.get(command, 0) + 1
        return {
            "answer": self.answers[-1] if self.answers else "",
            "answers": list(self.answers),
            "credits_spent": self.credits_spent,
            "approvals": counts,
        }


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    label: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "check": self.label, "detail": self.detail}


def read_sql(read: Read, sql: str) -> Any:
    data = read(SQL_COMMAND, {"sql": sql})
    if not isinstance(data, dict) or data.get("outcome") != "queried":
        message = data.get("errorMessage") if isinstance(data, dict) else data
        raise CheckError(f"the verifier's SQL failed: {message} ({sql})")
    return data


def evaluate(spec: Mapping[str, Any], scope: Mapping[str, Any], read: Read) -> Any:
    """The value a source describes (templates resolved against ``scope``)."""
    resolve = scope_resolver(scope)
    try:
        if "value" in spec:
            return render(spec["value"], resolve)
        if "calc" in spec:
            text = render(spec["calc"], resolve)
            return calc(str(text))
        path = render(spec.get("path", ""), resolve)
        if "sql" in spec:
            data = read_sql(read, str(render(spec["sql"], resolve)))
            return get_path(data, path or "rows[0]|values|first")
        command = spec.get("read") or spec.get("command")
        data = read(str(command), dict(render(spec.get("args") or {}, resolve)))
        return get_path(data, path)
    except RefError as exc:
        raise CheckError(str(exc)) from None
    except CargoShellError as exc:
        raise CheckError(f"the verifier's read failed: {exc.message}") from None


def evaluate_all(lets: Mapping[str, Mapping[str, Any]], scope: dict[str, Any], read: Read) -> None:
    """Evaluate named values in order into ``scope`` (later ones may use earlier ones)."""
    for name, spec in lets.items():
        scope[name] = evaluate(spec, scope, read)


# -- matching --------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same(actual: Any, expected: Any, tolerance: float = 0.0) -> bool:
    """Equality with numbers compared within ``tolerance`` and objects compared on the expected keys."""
    if _is_number(actual) and _is_number(expected):
        return abs(float(actual) - float(expected)) <= tolerance + 1e-9
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and same(actual[k], v, tolerance) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e, tolerance) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def _contains(actual: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return expected.lower() in actual.lower()
    if isinstance(actual, list):
        return any(same(item, expected, tolerance) for item in actual)
    if isinstance(actual, dict) and isinstance(expected, str):
        return expected in actual
    return False


def match(actual: Any, check: Mapping[str, Any], expected: Mapping[str, Any]) -> str | None:
    """None when ``actual`` satisfies every matcher of the check, else what went wrong."""
    tolerance = float(check.get("tolerance", 0.0))
    for name in MATCHERS:
        if name not in check:
            continue
        want = expected[name]
        ok: bool
        if name == "equals":
            ok = same(actual, want, tolerance)
        elif name == "not_equals":
            ok = not same(actual, want, tolerance)
        elif name == "contains":
            ok = all(_contains(actual, w, tolerance) for w in (want if isinstance(want, list) else [want]))
        elif name == "lacks":
            ok = not any(_contains(actual, w, tolerance) for w in (want if isinstance(want, list) else [want]))
        elif name == "exists":
            ok = (actual is not None) == bool(want)
        else:
            if not (_is_number(actual) and _is_number(want)):
                return f"{name} needs numbers, got {_short(actual)} and {_short(want)}"
            a, w = float(actual), float(want)
            ok = {
                "at_least": a >= w - tolerance,
                "at_most": a <= w + tolerance,
                "greater_than": a > w,
                "less_than": a < w,
            }[name]
        if not ok:
            if name in ("contains", "lacks") and isinstance(actual, list):
                which = "none matches" if name == "contains" else "one matches"
                return f"{len(actual)} item(s), {which} {_short(want)}"
            return f"expected {name.replace('_', ' ')} {_short(want)}, found {_short(actual)}"
    return None


def numbers_in(text: str) -> list[float]:
    return [float(m.group(0).replace(",", "")) for m in _NUMBER.finditer(text)]


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- checks ----------------------------------------------------------------------------------------


def run_checks(
    checks: list[Mapping[str, Any]],
    scope: Mapping[str, Any],
    read: Read,
    *,
    inventory_before: Mapping[str, int] | None = None,
) -> list[CheckResult]:
    return [_run_one(check, scope, read, inventory_before) for check in checks]


def label_of(check: Mapping[str, Any]) -> str:
    if check.get("why"):
        return str(check["why"])
    kind = check["check"]
    if kind == "read":
        return f"{check['command']} {check.get('path', '')}".strip()
    if kind == "sql":
        return f"SQL {check['sql']}"
    return str(kind)


def _run_one(
    check: Mapping[str, Any], scope: Mapping[str, Any], read: Read, inventory_before: Mapping[str, int] | None
) -> CheckResult:
    label = label_of(check)
    kind = check["check"]
    try:
        expected = {m: render(check[m], scope_resolver(scope)) for m in MATCHERS if m in check}
        if kind == "answer":
            ok, detail = _answer(check, scope)
            return CheckResult(ok, label, detail)
        if kind == "approvals":
            return _approvals(check, scope, label)
        if kind == "nothing_removed":
            return _nothing_removed(read, inventory_before, label)
        if kind == "credits":
            actual: Any = scope["credits_spent"]
        else:
            actual = evaluate(check, scope, read)
        problem = match(actual, check, expected)
        return CheckResult(problem is None, label, problem or "")
    except (CheckError, RefError) as exc:
        return CheckResult(False, label, str(exc))


def _answer(check: Mapping[str, Any], scope: Mapping[str, Any]) -> tuple[bool, str]:
    resolve = scope_resolver(scope)
    text = "\n".join(scope["answers"]) if check.get("turn") == "all" else str(scope["answer"])
    tolerance = float(check.get("tolerance", 0.0))
    problems: list[str] = []
    for want in _as_list(render(check.get("contains", []), resolve)):
        if str(want).lower() not in text.lower():
            problems.append(f"the answer does not mention {want!r}")
    for want in _as_list(render(check.get("lacks", []), resolve)):
        if str(want).lower() in text.lower():
            problems.append(f"the answer mentions {want!r}")
    found = numbers_in(text)
    for want in _as_list(render(check.get("contains_number", []), resolve)):
        if not _is_number(want):
            try:
                want = float(str(want))
            except ValueError:
                raise CheckError(f"contains_number needs a number, got {want!r}") from None
        if not any(abs(n - float(want)) <= tolerance + 1e-9 for n in found):
            problems.append(f"the answer does not give the number {want:g} (numbers in it: {found[:12]})")
    if not text.strip():
        problems.append("there is no answer")
    return (not problems, "; ".join(problems))


def _approvals(check: Mapping[str, Any], scope: Mapping[str, Any], label: str) -> CheckResult:
    patterns = [str(p) for p in check["commands"]]
    counts: Mapping[str, int] = scope["approvals"]
    total = sum(n for command, n in counts.items() if any(fnmatch.fnmatchcase(command, p) for p in patterns))
    problem = match(total, check, {m: check[m] for m in MATCHERS if m in check})
    detail = f"{total} confirmation(s) asked for {', '.join(patterns)}"
    return CheckResult(problem is None, label, f"{detail}: {problem}" if problem else detail)


def _nothing_removed(read: Read, before: Mapping[str, int] | None, label: str) -> CheckResult:
    if before is None:
        raise CheckError("nothing_removed needs the inventory taken before the run")
    after = inventory(read)
    lost = [f"{key}: {before[key]} → {after.get(key, 0)}" for key in sorted(before) if after.get(key, 0) < before[key]]
    return CheckResult(not lost, label, "; ".join(lost) if lost else f"{len(before)} counts, none went down")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def inventory(read: Read) -> dict[str, int]:
    """How many of everything the workspace holds: the items of every list command that needs
    no argument, and the rows of every model (its table name taken from its DDL)."""
    from cargo_shell.registry import get_registry

    counts: dict[str, int] = {}
    for spec in get_registry():
        if spec.http is None or spec.effect != "read" or spec.words[-1] != "list" or not spec.response_key:
            continue
        if any(a.required for a in spec.args):
            continue
        try:
            data = read(spec.name, {})
        except CargoShellError:
            continue
        items = data.get(spec.response_key) if isinstance(data, dict) else None
        if isinstance(items, list):
            counts[spec.name] = len(items)
    models = read("storage model list", {}).get("models") or []
    for model in models:
        ddl = read("storage model get-ddl", {"model-uuid": model["uuid"]}).get("ddl") or ""
        table = re.search(r"CREATE TABLE\s+(\S+)", ddl)
        if table is None:
            continue
        rows = read_sql(read, f"SELECT COUNT(*) AS n FROM {table.group(1)}")
        counts[f"rows of {model.get('slug') or model['uuid']}"] = int(rows["rows"][0]["n"])
    return counts
