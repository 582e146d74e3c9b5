"""Argument-dependent effects: registry data (``effect_when``) checked against the catalogue,
the rule loader, and the SQL classification behind ``"sql": "not-read-only"``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cargo_shell.registry import get_registry
from cargo_shell.registry.effects import effective_effect
from cargo_shell.registry.spec import SEVERITY
from cargo_shell.registry.spec_load import spec_from_dict
from cargo_shell.registry.sql import classify
from tests.conftest import reference_dir

REF = reference_dir()

#: Words by which the catalogue says a flag spends credits, or writes.
SPENDS = re.compile(r"\b(credits?|paid|spends?|spending|charges?|charged|billed)\b", re.I)
WRITES = re.compile(r"\b(writes?|written|overwrites?|deletes?|removes?|modif(?:y|ies)|inserts?|updates?)\b", re.I)

#: Catalogue words that match above but do not mean the flag spends or writes (reviewed by hand).
NOT_A_CLAIM = {
    ("connection connector create", "config"): "'non-credit integrations' says which connectors need their own "
    "credentials; passing them spends nothing (and the command is a write already)",
    ("billing usage get-metrics", "unit"): "'credits' names the unit the usage is reported in; a read",
}
#: Flags the catalogue's words do not mark, but which can write (reviewed by hand): the value that
#: does, and the effect it must have.
REVIEWED_CLAIMS: dict[tuple[str, str], tuple[Any, str, str]] = {
    ("system-of-record client query", "sql"): (
        "DELETE FROM datasets_crm.models_companies",
        "destructive",
        "'Run a SQL statement': the client sends any statement, and a statement may be DML or DDL",
    ),
    ("system-of-record client fetch", "query"): (
        "UPDATE datasets_crm.models_companies SET name = ''",
        "destructive",
        "the query text goes to the warehouse as is; nothing in the client or catalogue limits it to SELECT",
    ),
    ("system-of-record client download", "query"): (
        "DROP TABLE datasets_crm.models_companies",
        "destructive",
        "same as fetch: the export runs the text it is given",
    ),
    ("storage query execute", "sql"): (
        "DELETE FROM datasets_crm.models_companies",
        "destructive",
        "the storage query route takes any statement text, as the system-of-record query does",
    ),
    ("storage query download", "query"): (
        "DROP TABLE datasets_crm.models_companies",
        "destructive",
        "the export runs the text it is given",
    ),
    ("storage run create", "is-reset"): (
        True,
        "destructive",
        "a reset empties the model's table before refilling it from its source: hand-written records are lost",
    ),
    ("orchestration query execute", "sql"): (
        "DELETE FROM orchestration.runs",
        "destructive",
        "the client sends the query text as is; nothing in its types limits it to SELECT",
    ),
    **{
        (f"observability alert {verb}", "scope"): (
            {"kind": "orchestrationQuery", "query": "DELETE FROM orchestration.runs"},
            "destructive",
            "a query scope carries SQL that the platform runs (at once for a preview, on each tick for an alert)",
        )
        for verb in ("create", "update", "preview")
    },
}


def _catalogue() -> dict[str, Any]:
    import yaml

    assert REF is not None
    data = yaml.safe_load((REF / "cargo-commands.yaml").read_text())
    return {c["command"]: c for c in data["commands"]}


def _claims(entry: dict[str, Any]) -> dict[str, str]:
    """{flag: "cost" | "write"} for the flags the catalogue's words say spend or write."""
    texts: dict[str, list[str]] = {}
    for arg in entry.get("args") or []:
        texts.setdefault(arg["name"].lstrip("-"), []).extend(str(arg[k]) for k in ("note", "help") if arg.get(k))
    for gotcha in entry.get("gotchas") or []:
        for flag in re.findall(r"--([a-z][\w-]*)", str(gotcha)):
            texts.setdefault(flag, []).append(str(gotcha))
    claims: dict[str, str] = {}
    for flag, lines in texts.items():
        if any(SPENDS.search(t) for t in lines):
            claims[flag] = "cost"
        elif any(WRITES.search(t) for t in lines):
            claims[flag] = "write"
    return claims


def _trigger(spec_name: str, arg_type: str) -> Any:
    if arg_type == "bool":
        return True
    raise AssertionError(
        f"{spec_name}: a non-switch flag is said to spend or write; review it and add it to REVIEWED_CLAIMS "
        "(with the value that does) or NOT_A_CLAIM (with why not)"
    )


@pytest.mark.skipif(REF is None, reason="shared/reference catalogue not beside the project")
def test_every_flag_the_catalogue_says_spends_or_writes_raises_the_effect() -> None:
    catalogue = _catalogue()
    checked: list[tuple[str, str]] = []
    for spec in get_registry():
        entry = catalogue.get(spec.name, {})
        names = {a.name for a in spec.args}
        wanted = {
            (spec.name, flag): (None, need, "catalogue")
            for flag, need in _claims(entry).items()
            if flag in names and (spec.name, flag) not in NOT_A_CLAIM
        }
        wanted.update({k: v for k, v in REVIEWED_CLAIMS.items() if k[0] == spec.name})
        for (_, flag), (value, need, _why) in wanted.items():
            arg = spec.arg(flag)
            if SEVERITY[spec.effect] >= SEVERITY[need]:  # type: ignore[index]
                continue  # the command already asks at least that much
            trigger = value if value is not None else _trigger(spec.name, arg.type)
            got = effective_effect(spec, {flag: trigger})
            assert SEVERITY[got.effect] >= SEVERITY[need], (spec.name, flag, got)  # type: ignore[index]
            assert got.reasons and got.reasons[0].startswith(arg.flag), got
            checked.append((spec.name, flag))
        # and the converse: every rule in the registry is one the catalogue or a review asks for
        for rule in spec.effect_when:
            assert (spec.name, rule.arg) in wanted, f"{spec.name}: effect_when on {rule.arg} is not justified here"
    assert sorted(checked) == sorted(
        [
            ("segmentation segment fetch", "enrich"),
            ("segmentation segment fetch", "sync"),
            *REVIEWED_CLAIMS,
        ]
    )


def test_the_effect_is_the_commands_own_without_the_arguments_that_raise_it() -> None:
    registry = get_registry()
    fetch = registry.get("segmentation segment fetch")
    assert effective_effect(fetch, {"fetching-limit": 5}).effect == "read"
    assert effective_effect(fetch, {"enrich": False, "sync": False}).effect == "read"
    both = effective_effect(fetch, {"enrich": True, "sync": True})
    assert both.effect == "cost" and [r.split()[0] for r in both.reasons] == ["--enrich", "--sync"]
    query = registry.get("system-of-record client query")
    assert effective_effect(query, {"sql": "SELECT 1"}).effect == "read"
    assert effective_effect(query, {"sql": "DELETE FROM t"}).effect == "destructive"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"arg": "nope", "is": True, "effect": "cost", "why": "x"}, "names no argument"),
        ({"arg": "flag", "is": True, "effect": "read", "why": "x"}, "more than the command's own"),
        ({"arg": "flag", "effect": "cost", "why": "x"}, "exactly one test"),
        ({"arg": "flag", "is": True, "sql": "not-read-only", "effect": "cost", "why": "x"}, "exactly one test"),
        ({"arg": "flag", "is": "yes", "effect": "cost", "why": "x"}, "takes true or false"),
        ({"arg": "text", "sql": "read-only", "effect": "cost", "why": "x"}, '"sql" takes'),
        ({"arg": "flag", "sql": "not-read-only", "effect": "cost", "why": "x"}, '"sql" takes'),
        ({"arg": "flag", "is": True, "effect": "cost"}, '"why"'),
        ({"arg": "flag", "is": True, "effect": "cost", "why": "x", "when": 1}, "unknown keys when"),
        ({"arg": "text", "key": "query", "sql": "not-read-only", "effect": "cost", "why": "x"}, '"key" names a key'),
        ({"arg": "doc", "key": "", "sql": "not-read-only", "effect": "cost", "why": "x"}, '"key" names a key'),
    ],
)
def test_a_rule_that_cannot_work_is_a_registry_error(rule: dict[str, Any], problem: str) -> None:
    raw = {
        "command": "demo thing get",
        "skill": "storage",
        "summary": "demo",
        "effect": "write",
        "args": [{"name": "flag", "type": "bool"}, {"name": "text", "type": "string"}, {"name": "doc", "type": "json"}],
        "effect_when": [rule],
    }
    with pytest.raises(ValueError, match=re.escape(problem)) as caught:
        spec_from_dict(raw)
    assert "demo thing get" in str(caught.value)


def test_a_rule_on_a_key_tests_that_key_of_a_json_argument() -> None:
    preview = get_registry().get("observability alert preview")
    threshold = {"metric": "query", "operator": "gte", "value": 1}
    reads = {"kind": "orchestrationQuery", "query": "SELECT count(*) FROM orchestration.runs"}
    assert effective_effect(preview, {"scope": reads, "threshold": threshold}).effect == "read"
    assert effective_effect(preview, {"scope": {"kind": "runs"}, "threshold": threshold}).effect == "read"
    writes = effective_effect(preview, {"scope": {**reads, "query": "DROP TABLE t"}, "threshold": threshold})
    assert writes.effect == "destructive"
    assert writes.reasons[0].startswith("--scope query is a DROP statement"), writes.reasons
    assert [r.condition() for r in preview.effect_when] == ["scope.query not read-only"]


def test_a_switch_given_as_a_number_does_not_meet_a_rule_on_true() -> None:
    fetch = get_registry().get("segmentation segment fetch")
    assert effective_effect(fetch, {"enrich": 1}).effect == "read"


READS = [
    "SELECT 1",
    "select * from datasets_crm.models_companies where country = 'France' limit 10",
    "WITH big AS (SELECT * FROM t WHERE employees > 100) SELECT count(*) FROM big",
    "SELECT a FROM t UNION ALL SELECT a FROM u",
    "(SELECT 1)",
    "SELECT * FROM `project.dataset.table` WHERE x = 1",  # BigQuery quoting
    'SELECT "Name" FROM "DB"."SCHEMA"."T" QUALIFY ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) = 1',
    "SELECT 1;",  # a trailing semicolon is still one statement
    "-- the count\nSELECT count(*) FROM t /* done */",
    "SELECT * FROM t WHERE note = 'DELETE FROM t; DROP TABLE t'",  # words inside a string are data
    "SELECT * FROM json_each('[1,2]')",
]

NOT_READS = [
    ("DELETE FROM datasets_crm.models_companies", "DELETE statement"),
    ("delete from t where 1=1", "DELETE statement"),
    ("UPDATE t SET a = 1", "UPDATE statement"),
    ("INSERT INTO t SELECT * FROM u", "INSERT statement"),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE statement"),
    ("DROP TABLE t", "DROP statement"),
    ("TRUNCATE TABLE t", "TRUNCATE statement"),
    ("CREATE TABLE x AS SELECT 1", "CREATE statement"),
    ("ALTER TABLE t ADD COLUMN c INT", "ALTER statement"),
    ("SELECT 1; DELETE FROM t", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "DELETE statement inside"),
    ("SELECT * INTO backup FROM t", "SELECT ... INTO"),
    ("SELECT * FROM t FOR UPDATE", "locks"),
    ("PRAGMA writable_schema = 1", "PRAGMA statement"),
    ("ATTACH DATABASE 'other.db' AS other", "ATTACH statement"),
    ("COPY INTO t FROM @stage", "COPY statement"),
    ("CALL cleanup()", "CALL statement"),
    ("EXECUTE IMMEDIATE 'DELETE FROM t'", "EXECUTE statement"),
    ("BEGIN; DELETE FROM t; COMMIT", "3 statements"),
    ("SET x = 1", "SET statement"),
    ("GRANT SELECT ON t TO r", "GRANT statement"),
    ("SELECT SYSTEM$CANCEL_ALL_QUERIES(42)", "calls SYSTEM$CANCEL_ALL_QUERIES"),
    ("SELECT load_extension('evil.so')", "calls LOAD_EXTENSION"),
    ("VALUES (1)", "not a SELECT"),
    ("SELEC * FRM t", "not a SELECT"),  # one dialect reads it as an aliased expression, none as a query
    ("", "is empty"),
    (";", "is empty"),
    ("SELECT * FROM (", "could not be parsed"),
    ("SELECT 'unterminated", "could not be parsed"),
]


@pytest.mark.parametrize("sql", READS)
def test_single_read_only_queries_are_reads(sql: str) -> None:
    verdict = classify(sql)
    assert verdict.read_only, verdict


@pytest.mark.parametrize(("sql", "detail"), NOT_READS)
def test_anything_else_is_not_a_read_and_says_why(sql: str, detail: str) -> None:
    verdict = classify(sql)
    assert not verdict.read_only
    assert detail in verdict.detail


def test_parsing_says_nothing_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """sqlglot logs a warning when it falls back to a generic command; users must not see it."""
    classify.cache_clear()
    assert not classify("CALL cleanup_everything()").read_only
    assert not classify("REPLACE INTO t VALUES (1)").read_only
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
