"""The platform's known traps, as code. Guards run after validation and before planning.

A guard may rewrite argument values (with a visible notice) or block the action with a
:class:`UsageError` that says what to do instead. Guards that need workspace data use
:class:`Lookups` and stay silent when a lookup is unavailable.

Which commands a guard checks is registry data, never a command name: :data:`GUARDS` is the one
table (name → check and selector). A guard with a selector applies wherever an argument matches
it (what the argument ``holds``, or a ``refers_to``); one without applies to the commands that
list its name in ``"guards"``. The arguments a guard reads are found the same way.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cargo_shell.errors import UsageError
from cargo_shell.executor.lookups import Lookups
from cargo_shell.registry.spec import EFFECTS, CommandSpec, Effect, Holds


@dataclass
class GuardResult:
    values: dict[str, Any]
    notices: list[str] = field(default_factory=list)


Guard = Callable[[CommandSpec, dict[str, Any], Lookups | None, list[str]], dict[str, Any]]


def _rename_key(value: Any, old: str, new: str) -> tuple[Any, int]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        count = 0
        for k, v in value.items():
            v2, n = _rename_key(v, old, new)
            count += n
            if k == old and new not in value:
                out[new] = v2
                count += 1
            else:
                out[k] = v2
        return out, count
    if isinstance(value, list):
        items = [_rename_key(v, old, new) for v in value]
        return [i for i, _ in items], sum(n for _, n in items)
    return value, 0


def fix_conjunction(
    spec: CommandSpec, values: dict[str, Any], _lk: Lookups | None, notices: list[str]
) -> dict[str, Any]:
    """Filters spell the key ``conjonction``; the English spelling silently matches nothing."""
    out = dict(values)
    for arg in spec.holding("filter", "batch-data"):
        if arg.name in out:
            fixed, count = _rename_key(out[arg.name], "conjunction", "conjonction")
            if count:
                out[arg.name] = fixed
                notices.append(
                    f"{arg.flag}: corrected filter key `conjunction` to `conjonction` (the API's spelling; "
                    "the English spelling silently matches nothing)"
                )
    return out


def play_not_runnable(spec: CommandSpec, values: dict[str, Any], lk: Lookups | None, _n: list[str]) -> dict[str, Any]:
    """A play's workflow given to a command that starts single runs (the API answers playNotCompatible)."""
    arg = spec.referring_to("workflow")
    if lk is None or arg is None or arg.name not in values:
        return values
    kind, name = lk.workflow(values[arg.name])
    if kind == "play":
        wf = values[arg.name]
        example = json.dumps({"kind": "recordIds", "modelUuid": "<model uuid>", "ids": ["<record id>"]})
        raise UsageError(
            f"Workflow {wf} belongs to the play {name!r}: plays cannot be started with `{spec.words[-2]} "
            f"{spec.words[-1]}` "
            "(the API answers playNotCompatible). Start a batch instead.",
            hint=f"cargo-shell orchestration batch create --workflow-uuid {wf} --data {shlex.quote(example)}",
        )
    return values


def segment_is_not_model(
    spec: CommandSpec, values: dict[str, Any], lk: Lookups | None, _n: list[str]
) -> dict[str, Any]:
    """A segment's UUID given where a model's is needed: says which model and to pass the segment's filter."""
    arg = spec.referring_to("model")
    if lk is None or arg is None:
        return values
    given = values.get(arg.name)
    if not given or lk.by_uuid("model", given) is not None:
        return values
    segment = lk.by_uuid("segment", given)
    if segment is None:
        return values
    model_uuid = segment.get("modelUuid")
    model_name = lk.name("model", model_uuid) if model_uuid else None
    raise UsageError(
        f"{arg.flag} {given} is the segment {segment.get('name')!r}, not a model: `{spec.name}` takes "
        f"the model UUID ({model_uuid}{f', model {model_name!r}' if model_name else ''}) and a --filter.",
        hint=f"Use {arg.flag} {model_uuid} and pass the segment's filter "
        f"(cargo-shell segmentation segment get {given}).",
    )


def uuid_of_another_kind(
    spec: CommandSpec, values: dict[str, Any], lk: Lookups | None, _n: list[str]
) -> dict[str, Any]:
    """A UUID known as another kind of object (a tool's own uuid given as ``--workflow-uuid``).

    Checked before actions that change something (their plans list the same kinds anyway);
    the API would answer ``workflowNotFound`` with no hint. Reads are not checked: a read with
    a wrong UUID costs nothing, and the lists would cost a request per kind on every read.
    """
    if lk is None or spec.effect == "read":
        return values
    for arg in spec.args:
        value = values.get(arg.name)
        if arg.refers_to is None or value is None:
            continue
        for uuid in value if isinstance(value, list) else [value]:
            wrong = lk.wrong_kind(arg.refers_to, str(uuid), arg.field)
            if wrong is None:
                continue
            label = arg.name if arg.positional else arg.flag
            if wrong.value:
                hint = f"Use {label} {wrong.value}."
            else:
                lists = " or ".join(f"`cargo-shell {s.command}`" for s in lk.registry.kinds[arg.refers_to].lists)
                hint = f"The {arg.refers_to.replace('_', ' ')} uuids are listed by {lists}."
            raise UsageError(wrong.describe(label) + ".", hint=hint)
    return values


_TABLE_RE = re.compile(r"\b(?:from|join)\s+([`\"\[]?[\w.\-`\"\]]+)", re.I)
#: Names a WITH clause defines (``WITH a AS (...), b AS (...)``); they are not tables.
_CTE_RE = re.compile(r"(?:\bwith(?:\s+recursive)?|,)\s*(\w+)\s+as\s*\(", re.I)


def sql_tables_exist(spec: CommandSpec, values: dict[str, Any], lk: Lookups | None, _n: list[str]) -> dict[str, Any]:
    if lk is None:
        return values
    for arg in spec.holding("sql"):
        sql = values.get(arg.name)
        if isinstance(sql, str):
            _check_tables(sql, lk)
    return values


def _check_tables(sql: str, lk: Lookups) -> None:
    known = lk.table_names()
    if not known:
        return
    ctes = {m.lower() for m in _CTE_RE.findall(sql)}
    for match in _TABLE_RE.finditer(sql):
        if sql[match.end() :].lstrip().startswith("("):
            continue  # a table function such as json_each(...)
        name = match.group(1).strip('`"[]').replace("`", "").replace('"', "")
        parts = name.split(".")
        guess = [t for t in sorted(known) if t.endswith(f".models_{parts[-1]}")]
        if len(parts) == 1 and (parts[0].lower() in ctes or not guess):
            # a WITH clause's name, or a word such as EXTRACT(YEAR FROM col): only a bare model
            # slug (`FROM companies`) is surely a table name given without its dataset
            continue
        tail = ".".join(parts[-2:])
        if tail not in known:
            listing = ", ".join(f"{t} ({m})" for t, m in sorted(known.items()))
            did_you_mean = f" Did you mean {guess[0]}?" if guess else ""
            raise UsageError(
                f"The SQL names the table {name!r}, which does not exist in this workspace.{did_you_mean} "
                f"Tables: {listing}",
                hint="Get a model's exact table name with `cargo-shell storage model get-ddl <model uuid>`.",
            )


def batch_data_kind(spec: CommandSpec, values: dict[str, Any], lk: Lookups | None, _n: list[str]) -> dict[str, Any]:
    """Batch data kinds against play or tool (the command's ``batch_data_kinds``)."""
    kinds = spec.extra.get("batch_data_kinds")
    for arg in spec.holding("batch-data"):
        data = values.get(arg.name)
        if isinstance(kinds, dict) and isinstance(data, dict):
            _check_batch_data(spec, values, arg.flag, kinds, data, lk)
    return values


def _check_batch_data(
    spec: CommandSpec,
    values: dict[str, Any],
    flag: str,
    kinds: dict[str, Any],
    data: dict[str, Any],
    lk: Lookups | None,
) -> None:
    shapes = {k: v for k, v in kinds.items() if isinstance(v, str)}
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in shapes:
        listing = "; ".join(f"{k}: {v}" for k, v in shapes.items())
        if kind is None:
            what = "has no kind"
        elif isinstance(kind, str):
            what = f"has the unknown kind {kind!r}"
        else:
            json_type = {dict: "object", list: "array", bool: "boolean"}.get(type(kind), "number")
            what = f'has a kind that is a JSON {json_type}, not a string; "kind" takes one word'
        raise UsageError(f"{flag} {what}. Batch data kinds: {listing}")
    if kind == "recordIds" and "ids" not in data and "recordIds" in data:
        shape = '{"kind": "recordIds", "modelUuid": ..., "ids": [...]}'
        raise UsageError(f'{flag} kind recordIds takes {shape}, not "recordIds": [...]')
    play_kinds = list(kinds.get("allowed_for_play") or [])
    tool_kinds = list(kinds.get("allowed_for_tool_or_no_workflow") or [])
    if kind not in play_kinds + tool_kinds:
        return  # kinds the catalogue does not restrict (runs, schedule, form, change)
    workflow = spec.referring_to("workflow")
    wf = values.get(workflow.name) if workflow is not None else None
    if wf is None:
        wf_kind: str | None = "tool"
        label = f"a batch without {workflow.flag if workflow else 'a workflow'}"
    elif lk is not None:
        wf_kind, name = lk.workflow(wf)
        label = f"the {wf_kind} {name!r}" if wf_kind else ""
    else:
        wf_kind, label = None, ""
    allowed = play_kinds if wf_kind == "play" else tool_kinds if wf_kind == "tool" else None
    if allowed is not None and kind not in allowed:
        raise UsageError(
            f"{flag} kind {kind!r} cannot be used for {label} (the API answers invalidDataKind); "
            f"use one of: {', '.join(allowed)}"
        )


@dataclass(frozen=True)
class GuardEntry:
    """One guard of the table: its check and which arguments select it (none: commands list it).

    ``holds``: the guard applies to commands with an argument holding one of these. ``refers_to``:
    to commands with an argument naming a resource kind, whose own effect is in ``effects``.
    """

    check: Guard
    holds: tuple[Holds, ...] = ()
    refers_to: bool = False
    effects: tuple[Effect, ...] = EFFECTS
    #: For a listed guard: the resource kind of the argument it reads (a command listing it must have one).
    reads: str | None = None

    @property
    def listed(self) -> bool:
        """True when only the commands that name the guard in ``"guards"`` get it."""
        return not self.holds and not self.refers_to

    def selects(self, spec: CommandSpec) -> bool:
        if spec.effect not in self.effects:
            return False
        if self.holds and spec.holding(*self.holds):
            return True
        return self.refers_to and any(a.refers_to for a in spec.args)


#: Every guard, by the name the registry uses, in the order they run.
GUARDS: dict[str, GuardEntry] = {
    "filter-spelling": GuardEntry(fix_conjunction, holds=("filter", "batch-data")),
    "uuid-kind": GuardEntry(uuid_of_another_kind, refers_to=True, effects=("write", "destructive", "cost")),
    "play-not-runnable": GuardEntry(play_not_runnable, reads="workflow"),
    "segment-not-model": GuardEntry(segment_is_not_model, reads="model"),
    "sql-tables": GuardEntry(sql_tables_exist, holds=("sql",)),
    "batch-data-kind": GuardEntry(batch_data_kind, holds=("batch-data",)),
}
_FOR_SPEC: dict[int, tuple[CommandSpec, tuple[Guard, ...]]] = {}


def guard_names(spec: CommandSpec) -> tuple[str, ...]:
    """The names of the guards that check ``spec``: those its arguments select and those it lists."""
    unknown = [name for name in spec.guards if name not in GUARDS]
    if unknown:
        raise KeyError(f"{spec.name}: unknown guard(s) {', '.join(unknown)}")
    return tuple(
        name for name, entry in GUARDS.items() if (name in spec.guards if entry.listed else entry.selects(spec))
    )


def guards_for(spec: CommandSpec) -> tuple[Guard, ...]:
    """The guards that apply to ``spec`` (worked out once per spec)."""
    hit = _FOR_SPEC.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    guards = tuple(GUARDS[name].check for name in guard_names(spec))
    _FOR_SPEC[id(spec)] = (spec, guards)  # keeps the spec alive, so its id is never reused
    return guards


def apply_guards(spec: CommandSpec, values: dict[str, Any], lookups: Lookups | None) -> GuardResult:
    notices: list[str] = []
    for guard in guards_for(spec):
        values = guard(spec, values, lookups, notices)
    return GuardResult(values, notices)
