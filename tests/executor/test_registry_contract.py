"""The registry data the executor reads, held to its consumers and to the official client.

Job kinds (``jobs.json``): their commands exist and take the arguments named; the cancel template's
placeholders are fields of the job object as the official client types it; every command that
starts a job names a known kind. Guards: every name the data uses is in the guard table, every
guard in the table checks some command, and no module selects commands by comparing names.
``holds``: the filter arguments are exactly the fields the client types with a filter.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

import cargo_shell
from cargo_shell.executor.derived import CONVERT
from cargo_shell.executor.guards import GUARDS, guard_names
from cargo_shell.registry import get_registry
from cargo_shell.registry.jobs import JOB_ID, JobKind, placeholders
from cargo_shell.registry.spec import CONVERSIONS
from tests.client_facts.compare import operations_of
from tests.client_facts.facts import Facts, load_facts

REGISTRY = get_registry()
KINDS = REGISTRY.job_kinds


def _arg_names(command: str) -> set[str]:
    return {a.name for a in REGISTRY.get(command).args}


@pytest.mark.parametrize("kind", sorted(KINDS.values(), key=lambda k: k.kind), ids=lambda k: k.kind)
def test_each_job_kind_names_commands_and_arguments_that_exist(kind: JobKind) -> None:
    assert kind.get_command in REGISTRY and REGISTRY.get(kind.get_command).effect == "read"
    assert kind.get_id_arg in _arg_names(kind.get_command)
    assert kind.list_command in REGISTRY and REGISTRY.get(kind.list_command).effect == "read"
    assert kind.terminal and 0 < kind.interval_s <= kind.slow_interval_s and kind.slow_after_s > 0
    if kind.cancel_command is None:
        assert not kind.cancel_template
        return
    assert kind.cancel_command in REGISTRY
    assert set(kind.cancel_template) <= _arg_names(kind.cancel_command)
    assert JOB_ID in placeholders(kind.cancel_template), "a cancel that does not name the job cancels something else"


@pytest.mark.parametrize("kind", sorted(KINDS.values(), key=lambda k: k.kind), ids=lambda k: k.kind)
def test_cancel_placeholders_are_fields_of_the_job_the_client_returns(kind: JobKind) -> None:
    facts = load_facts()
    [op] = operations_of(facts, REGISTRY.get(kind.get_command))
    assert op is not None and op.result is not None
    job = facts.resolve(op.result["properties"][kind.response_key])
    assert set(kind.job_fields) <= set(job["properties"]), f"{kind.kind}: {kind.job_fields} vs the client's job"


def test_every_command_that_starts_a_job_names_a_known_kind() -> None:
    starting = [s for s in REGISTRY if s.job is not None]
    assert starting
    for spec in starting:
        assert spec.job is not None and spec.job.kind in KINDS, spec.name


def test_cancel_arguments_come_from_the_template() -> None:
    run, batch = KINDS["run"], KINDS["batch"]
    assert batch.cancel_args("b-1", {"workflowUuid": "w-9"}) == {"batch-uuid": "b-1"}
    args: dict[str, Any] = run.cancel_args("r-1", {"workflowUuid": "w-9", "actionId": "a"})
    assert args == {"workflow-uuid": "w-9", "uuids": ["r-1"]}
    assert run.job_fields == ("workflowUuid",)


def test_a_cancel_missing_a_job_field_says_which() -> None:
    from cargo_shell.errors import UsageError

    with pytest.raises(UsageError, match="workflowUuid is not known"):
        KINDS["run"].cancel_args("r-1", {})
    assert KINDS["message"].cancel_args("m-1", {}) == {"uuids": ["m-1"]}
    uncancellable = dataclasses.replace(KINDS["message"], cancel_command=None, cancel_template={})
    with pytest.raises(UsageError, match="cannot be cancelled"):
        uncancellable.cancel_args("m-1", {})


# -- guards -------------------------------------------------------------------------------------------


def test_every_guard_a_command_lists_is_in_the_table_and_is_one_that_is_listed() -> None:
    for spec in REGISTRY:
        for name in spec.guards:
            assert name in GUARDS, f"{spec.name}: no guard {name!r} (known: {', '.join(GUARDS)})"
            assert GUARDS[name].listed, f"{spec.name}: {name!r} selects by argument; do not list it"
            needs = GUARDS[name].reads
            assert needs is None or spec.referring_to(needs), f"{spec.name}: {name!r} reads a {needs} argument"


def test_every_guard_in_the_table_checks_some_command() -> None:
    used = {name for spec in REGISTRY for name in guard_names(spec)}
    assert used == set(GUARDS), f"guards no command gets: {sorted(set(GUARDS) - used)}"


def _carries_a_filter(facts: Facts, schema: Any, seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in ("SystemOfRecordIntegrationTypes.Filter", "OrchestrationTypes.ExecutionsFilter"):
                return True
            return ref not in seen and _carries_a_filter(facts, facts.definitions.get(ref, {}), seen | {ref})
        return any(_carries_a_filter(facts, value, seen) for value in schema.values())
    if isinstance(schema, list):
        return any(_carries_a_filter(facts, value, seen) for value in schema)
    return False


def test_filter_arguments_are_the_fields_the_client_types_with_a_filter() -> None:
    facts = load_facts()
    want, have = set(), set()
    for spec in REGISTRY:
        fields = {
            p.name
            for op in operations_of(facts, spec)
            if op is not None
            for p in op.params
            if _carries_a_filter(facts, p.schema)
        }
        for arg in spec.args:
            top = (arg.field or arg.attr).split(".")[0].split("[")[0]
            if arg.sent and top in fields:
                want.add((spec.name, arg.name))
            if arg.holds in ("filter", "batch-data"):
                have.add((spec.name, arg.name))
    assert have == want


#: SQL that effect_when reads but that is not over the warehouse's ``datasets_*.models_*`` tables, so
#: the table guard must not check it: SQL over orchestration data, and an alert scope (JSON whose
#: ``query`` key is SQL).
NOT_WAREHOUSE_SQL = {
    ("orchestration query execute", "sql"),
    ("observability alert create", "scope"),
    ("observability alert update", "scope"),
    ("observability alert preview", "scope"),
}


def test_sql_arguments_are_the_ones_effect_when_reads_as_sql() -> None:
    sql_rules = {(s.name, r.arg) for s in REGISTRY for r in s.effect_when if r.test == "sql"}
    holding = {(s.name, a.name) for s in REGISTRY for a in s.holding("sql")}
    assert sql_rules - NOT_WAREHOUSE_SQL == holding and holding
    assert sql_rules >= NOT_WAREHOUSE_SQL  # the reviewed list names only real rules


def test_rollout_commands_have_what_the_rollout_splits_and_reads() -> None:
    staged = [s for s in REGISTRY if s.rollout is not None]
    assert staged
    for spec in staged:
        assert spec.rollout is not None and len(spec.holding("batch-data")) == 1, spec.name
        assert spec.referring_to("workflow") is not None and spec.job is not None, spec.name
        assert set(spec.rollout.not_with) <= {a.name for a in spec.args}, spec.name


def test_derived_fields_name_known_conversions_of_the_response_list() -> None:
    assert set(CONVERT) == set(CONVERSIONS)
    derived = [s for s in REGISTRY if s.derived_fields]
    assert derived
    for spec in derived:
        assert all(d.list == spec.response_key for d in spec.derived_fields), spec.name


def test_poll_arguments_belong_to_commands_that_wait_for_a_job() -> None:
    polled = [s for s in REGISTRY if any(a.location == "poll" for a in s.args)]
    assert polled
    for spec in polled:
        assert spec.job is not None and any(a.location == "wait" for a in spec.args), spec.name


# -- no selection by name in the code -----------------------------------------------------------------

_SCANNED = ("executor", "agent", "repl", "commands")
_WORDS = {" ".join(s.words[:n]) for s in REGISTRY for n in range(1, len(s.words) + 1)} | {
    w for s in REGISTRY for w in s.words
}


def _names_a_command(node: ast.expr, constants: dict[str, ast.expr]) -> bool:
    """A literal (or a module constant holding one) that is a command's name, group or word."""
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip() in _WORDS
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_command(e, {}) for e in node.elts)
    return False


def _is_command_name(node: ast.expr) -> bool:
    """``spec.name``, ``plan.command``, ``spec.words`` (or one of its words)."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr in ("name", "words", "command")


def name_selections(source: str) -> list[str]:
    tree = ast.parse(source)
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_command_name(s) for s in sides) and any(_names_a_command(s, constants) for s in sides):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("startswith", "endswith")
            and _is_command_name(node.func.value)
            and any(_names_a_command(a, constants) for a in node.args)
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_scan_finds_the_selections_it_forbids() -> None:
    assert name_selections('if spec.name == "orchestration run create": pass')
    assert name_selections('ok = spec.name in ("segmentation segment fetch", "x")')
    assert name_selections('ok = spec.name.startswith("system-of-record client ")')
    assert name_selections('ok = spec.words[0] == "billing"')
    assert name_selections('_INVOICES = ("billing", "subscription", "get-invoices")\nok = spec.words == _INVOICES')
    assert not name_selections('ok = a.name == "limit" or spec.name == other.name')


@pytest.mark.parametrize("package", _SCANNED)
def test_no_module_selects_commands_by_comparing_their_names(package: str) -> None:
    root = Path(cargo_shell.__file__).parent / package
    found = {
        str(path.relative_to(root)): hits
        for path in sorted(root.rglob("*.py"))
        if (hits := name_selections(path.read_text(encoding="utf-8")))
    }
    assert not found, f"select by registry data, not by name: {found}"
