"""Guards: the platform's known traps, caught before anything is sent."""

from __future__ import annotations

import pytest

from cargo_shell.errors import UsageError
from cargo_shell.executor import Notice, Policy, StageFinished
from cargo_shell.registry import get_registry

from .conftest import FakeClock, MakeExecutor

PLAY_WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"
ENRICH_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"  # tool with a connector node
SCORE_WF = "b4e52f36-6f15-4876-acf4-74eefa4418f8"  # tool with native nodes only
COMPANIES = "3843249c-53a1-41ae-9fd2-7861bb274742"
SEGMENT = "3a53ebe1-0bbf-4d74-b4db-9931e932a1d2"
reg = get_registry()


def test_conjunction_is_corrected_with_a_notice(make_executor: MakeExecutor) -> None:
    events: list[object] = []
    executor = make_executor(events=events.append)
    outcome = executor.run(
        reg.get("segmentation segment fetch"),
        {"model-uuid": COMPANIES, "filter": {"conjunction": "and", "groups": []}, "fetching-limit": 2},
    )
    assert outcome.plan is not None and outcome.plan.request is not None
    assert outcome.plan.request["body"]["filter"] == {"conjonction": "and", "groups": []}
    assert any(isinstance(e, Notice) and "conjonction" in e.message for e in events)
    assert "conjonction" in outcome.plan.command_line


def test_conjunction_outside_a_filter_is_data_and_left_alone(make_executor: MakeExecutor) -> None:
    """Only arguments that hold a filter (registry ``holds``) are corrected: a record may have such a field."""
    executor = make_executor(policy=Policy(assume_yes=True))
    record = {"domain": "a.example", "employees": 5, "conjunction": "and"}
    plan = executor.prepare(reg.get("orchestration run create"), {"workflow-uuid": SCORE_WF, "data": record})
    assert plan.values["data"] == record and not plan.notices


def test_play_workflow_in_run_create_is_blocked(make_executor: MakeExecutor) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    with pytest.raises(UsageError, match="play 'Score new companies'") as err:
        executor.run(reg.get("orchestration run create"), {"workflow-uuid": PLAY_WF, "data": {"domain": "x"}})
    assert err.value.hint and err.value.hint.startswith("cargo-shell orchestration batch create")
    assert executor.sender.attempts == executor.lookups.reads  # nothing but lookups was sent


def test_segment_uuid_given_as_model_uuid(make_executor: MakeExecutor) -> None:
    with pytest.raises(UsageError, match=f"is the segment 'Enterprise software accounts'.*{COMPANIES}"):
        make_executor().run(
            reg.get("segmentation segment fetch"),
            {"model-uuid": SEGMENT, "filter": {"conjonction": "and", "groups": []}},
        )


def test_sql_on_a_missing_table_lists_the_real_ones(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    with pytest.raises(UsageError, match=r"models_compagnies.*Tables: .*models_companies \(Companies\)"):
        executor.run(reg.get("system-of-record client query"), {"sql": "SELECT * FROM datasets_demo.models_compagnies"})


def test_sql_on_a_real_table_passes(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    tables = executor.lookups.table_names()
    name = next(t for t, m in tables.items() if m == "Companies")
    outcome = executor.run(reg.get("system-of-record client query"), {"sql": f"SELECT COUNT(*) AS n FROM {name}"})
    assert outcome.data is not None


def test_invoice_amounts_in_dollars(make_executor: MakeExecutor) -> None:
    data = make_executor().run(reg.get("billing subscription get-invoices"), {}).data
    invoices = data["invoices"]
    assert invoices and all(inv["amountInDollars"] == f"{inv['amount'] / 100:.2f}" for inv in invoices)


@pytest.mark.parametrize(
    ("workflow", "data", "message"),
    [
        (PLAY_WF, {"kind": "records", "records": [{}]}, "cannot be used for the play"),
        (SCORE_WF, {"kind": "segment", "segmentUuid": SEGMENT}, "cannot be used for the tool"),
        (None, {"kind": "segment", "segmentUuid": SEGMENT}, "without --workflow-uuid"),
        (PLAY_WF, {"segmentUuid": SEGMENT}, "has no kind"),
        (PLAY_WF, {"kind": "recordIds", "modelUuid": COMPANIES, "recordIds": ["1"]}, 'not "recordIds"'),
    ],
)
def test_batch_data_kinds(
    make_executor: MakeExecutor, workflow: str | None, data: dict[str, object], message: str
) -> None:
    raw: dict[str, object] = {"data": data}
    if workflow:
        raw["workflow-uuid"] = workflow
    else:
        raw["nodes"] = []
    with pytest.raises(UsageError, match=message):
        make_executor(policy=Policy(assume_yes=True)).run(reg.get("orchestration batch create"), raw)


def test_plan_names_what_it_touches_and_estimates(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    plan = executor.prepare(
        reg.get("orchestration batch create"),
        {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": SEGMENT}},
    )
    labels = [t.label() for t in plan.touches]
    assert any("Score new companies" in label for label in labels)
    assert any("Enterprise software accounts" in label for label in labels)
    assert plan.estimate is not None and plan.estimate.records == 11
    text = plan.render()
    assert "estimate: 11 record(s)" in text and "$ cargo-shell orchestration batch create" in text


def test_staged_rollout_on_a_connector_workflow(make_executor: MakeExecutor, clock: FakeClock) -> None:
    events: list[object] = []
    executor = make_executor(policy=Policy(assume_yes=True), events=events.append)
    records = [{"domain": f"company{i}.example", "name": f"Company {i}"} for i in range(120)]
    spec = reg.get("orchestration batch create")
    plan = executor.prepare(spec, {"workflow-uuid": ENRICH_WF, "data": {"kind": "records", "records": records}})
    assert plan.rollout == [1, 50, 120]
    outcome = executor.run(spec, {"workflow-uuid": ENRICH_WF, "data": {"kind": "records", "records": records}})
    stages = [e for e in events if isinstance(e, StageFinished)]
    assert stages and stages[0].size == 1
    sent = sum(s["records"] for s in outcome.stages)
    assert outcome.data["sentRecords"] == sent
    if outcome.data["stoppedEarly"]:
        last = outcome.stages[-1]
        assert last["failed"] / last["records"] > executor.rollout_max_error_rate or last["status"] != "success"
    else:
        assert sent == 120 and [s["records"] for s in outcome.stages] == [1, 49, 70]


def test_no_rollout_without_connector_nodes(make_executor: MakeExecutor) -> None:
    records = [{"domain": f"c{i}.example"} for i in range(120)]
    plan = make_executor().prepare(
        reg.get("orchestration batch create"),
        {"workflow-uuid": SCORE_WF, "data": {"kind": "records", "records": records}},
    )
    assert plan.rollout is None and plan.estimate is not None and plan.estimate.records == 120


def test_sql_with_a_bare_model_slug_suggests_the_full_table_name(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    query = reg.get("system-of-record client query")
    with pytest.raises(UsageError, match=r"'companies'.*Did you mean datasets_\w+\.models_companies\?"):
        executor.run(query, {"sql": "SELECT COUNT(*) FROM companies"})
    name = next(t for t, m in executor.lookups.table_names().items() if m == "Companies")
    # CTE names, table functions and FROM inside expressions are not mistaken for tables
    sql = f"WITH companies AS (SELECT * FROM {name}), big AS (SELECT 1) SELECT COUNT(*) FROM companies, big"
    assert executor.run(query, {"sql": sql}).data["rows"]
    assert executor.run(query, {"sql": f"SELECT substr(domain, 1, 3) FROM {name} LIMIT 1"}).data["rows"]
