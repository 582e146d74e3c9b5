"""The executor judges a call by what its arguments make it do (registry ``effect_when``):
plans, the policy, retries and the audit log all see the effective effect."""

from __future__ import annotations

import pytest

from cargo_shell.errors import ApprovalRequired, Declined, RequestError, ServerError
from cargo_shell.executor import Approval, Policy, RequestSent, RetryConfig, WriteOutcomeUnknown
from cargo_shell.executor.policy import Rule
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox

from .conftest import Answers, MakeExecutor, spec

COMPANIES = "3843249c-53a1-41ae-9fd2-7861bb274742"
ALL = {"conjonction": "and", "groups": []}
TABLE = "datasets_crm.models_companies"


def test_a_fetch_is_a_read_until_it_enriches(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    fetch = spec("segmentation segment fetch")
    plain = executor.prepare(fetch, {"model-uuid": COMPANIES, "filter": ALL, "fetching-limit": 2})
    assert plain.effect == "read" and plain.effect_reasons == ()
    assert executor.run(fetch, {"model-uuid": COMPANIES, "filter": ALL, "fetching-limit": 2}).data["records"]

    enriching = executor.prepare(fetch, {"model-uuid": COMPANIES, "filter": ALL, "enrich": True})
    assert enriching.effect == "cost"
    assert enriching.effect_reasons[0].startswith("--enrich is true: ")
    assert enriching.to_json()["effect"] == "cost" and enriching.to_json()["effectReasons"]
    assert "COST action" in enriching.render() and "cost because --enrich is true" in enriching.render()
    assert [t.name for t in enriching.touches] == ["Companies"]  # named, as for any action that asks
    with pytest.raises(ApprovalRequired) as refused:
        executor.run(fetch, {"model-uuid": COMPANIES, "filter": ALL, "enrich": True})
    assert refused.value.plan is not None and refused.value.plan["effect"] == "cost"


def test_sync_asks_and_a_no_keeps_it_unsent(make_executor: MakeExecutor, box: Sandbox) -> None:
    person = Answers(Approval("no"))
    executor = make_executor(confirmer=person)
    with pytest.raises(Declined):
        executor.run(spec("segmentation segment fetch"), {"model-uuid": COMPANIES, "filter": ALL, "sync": True})
    [asked] = person.plans
    assert asked.effect == "cost" and "--sync is true" in asked.effect_reasons[0]


def test_sql_that_is_not_one_select_is_planned_as_destructive(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    query = spec("system-of-record client query")
    read = executor.run(query, {"sql": f"SELECT count(*) AS n FROM {TABLE}"})
    assert read.data["rows"] == [{"n": 500}]
    for sql, why in (
        (f"DELETE FROM {TABLE}", "DELETE statement"),
        (f"SELECT 1; DROP TABLE {TABLE}", "2 statements"),
        (f"SELEKT * FROM {TABLE} WHERE (", "could not be parsed"),
    ):
        plan = executor.prepare(query, {"sql": sql})
        assert plan.effect == "destructive", sql
        assert why in plan.effect_reasons[0]
        with pytest.raises(ApprovalRequired):
            executor.run(query, {"sql": sql})
    fetch = executor.prepare(spec("system-of-record client fetch"), {"query": f"UPDATE {TABLE} SET name = ''"})
    assert fetch.effect == "destructive" and fetch.effect_reasons[0].startswith("--query is an UPDATE statement")


def test_a_deny_rule_on_destructive_stops_writing_sql_even_with_yes(make_executor: MakeExecutor) -> None:
    rules = [Rule(1, "deny", effect="destructive")]
    executor = make_executor(policy=Policy(rules, assume_yes=True))
    query = spec("system-of-record client query")
    with pytest.raises(Declined, match="denied by policy rule #1"):
        executor.run(query, {"sql": f"DELETE FROM {TABLE}"})
    assert executor.run(query, {"sql": f"SELECT count(*) AS n FROM {TABLE}"}).data["rows"]


def test_approved_writing_sql_reaches_the_server_and_is_audited_as_destructive(make_executor: MakeExecutor) -> None:
    """With --yes the client sends it; here only the sandbox's own read-only rule stops it."""
    executor = make_executor(policy=Policy(assume_yes=True))
    with pytest.raises(RequestError, match="read-only"):
        executor.run(spec("system-of-record client query"), {"sql": f"DELETE FROM {TABLE}"})
    executor.run(spec("system-of-record client query"), {"sql": "SELECT 1 AS one"})
    assert executor.audit is not None
    entries = executor.audit.actions()  # one entry per action (its sent and outcome lines joined)
    assert [(e["command"], e["effect"]) for e in entries] == [
        ("system-of-record client query", "destructive"),
        ("system-of-record client query", "read"),
    ]


def test_writing_sql_is_never_resent_after_an_ambiguous_failure(make_executor: MakeExecutor, box: Sandbox) -> None:
    box.app.faults = FaultSpec.parse("500=1,match=/v1/systemOfRecordIntegration/clients")
    events: list[object] = []
    executor = make_executor(
        policy=Policy(assume_yes=True), retry=RetryConfig(max_attempts=4, base_delay_s=0.1), events=events.append
    )

    def sent() -> int:
        return sum(1 for e in events if isinstance(e, RequestSent) and e.path.endswith("/clients/query"))

    with pytest.raises(WriteOutcomeUnknown):
        executor.run(spec("system-of-record client query"), {"sql": f"DELETE FROM {TABLE} WHERE 1 = 0"})
    assert sent() == 1
    with pytest.raises(ServerError):
        executor.run(spec("system-of-record client query"), {"sql": "SELECT 1"})
    assert sent() == 1 + 4  # a read is resent as usual
