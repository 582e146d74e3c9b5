"""Plays and tools as objects, spans and traces of real runs, SQL over orchestration data, output
schemas and exports: the sandbox behaviours behind the issue-12 orchestration commands."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.domains import orchestration_exports
from cargo_shell.sandbox.engine import outputs, services
from cargo_shell.sandbox.engine.runner import Runner
from cargo_shell.sandbox.engine.services import SandboxServices
from cargo_shell.sandbox.runtime import Sandbox
from tests.sandbox.orchestration_helpers import node, second_workspace_client, tool
from tests.support import FakeClock, seed_template

EARLY = "2020-01-01T00:00:00Z"


def run_nodes(api: httpx.Client, clock: FakeClock, nodes: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    run = api.post("/v1/orchestration/runs", json={"nodes": nodes, "data": data}).json()["run"]
    clock.advance(5)
    return dict(api.get(f"/v1/orchestration/runs/{run['uuid']}").json()["run"])


def spans(api: httpx.Client, **body: Any) -> list[dict[str, Any]]:
    answer = api.post("/v1/orchestration/spans/list", json={"executionStartedAfter": EARLY, **body})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["spans"])


# -- spans and traces ---------------------------------------------------------------------
def test_spans_carry_the_time_each_node_really_took(api: httpx.Client, fake_clock: FakeClock) -> None:
    loop = node("g", "loop", "group", ["e"], {"items": "{{nodes.start.items}}"})
    loop["config"]["_nodes"] = [
        node("s2", "start", "start", ["f2"]),
        node("f2", "double", "formula", ["e2"], {"expression": "{{nodes.start.value * 2}}"}),
        node(
            "e2", "end", "end", [], {"variables": [{"name": "v", "type": "number", "value": "{{nodes.double.result}}"}]}
        ),
    ]
    graph = [node("s", "start", "start", ["g"]), loop, node("e", "end", "end", [], {"variables": []})]
    run = run_nodes(api, fake_clock, graph, {"items": list(range(100))})
    found = spans(api, traceUuid=run["traceUuid"])
    assert [s["nodeSlug"] for s in found] == ["start", "loop", "end"]
    for earlier, later in itertools.pairwise(found):
        assert later["executionStartedAt"] >= earlier["executionFinishedAt"]
    group = found[1]
    assert group["executionFinishedAt"] > group["executionStartedAt"]  # 100 sub-runs take measurable time
    trace = api.get(f"/v1/orchestration/traces/{run['traceUuid']}").json()["trace"]
    assert (
        trace["startedAt"] <= found[0]["executionStartedAt"] and trace["finishedAt"] >= found[-1]["executionFinishedAt"]
    )


def test_a_fallback_run_is_a_degraded_trace_and_a_failed_run_an_error_trace(
    api: httpx.Client, fake_clock: FakeClock
) -> None:
    call = node("h", "call", "httpRequest", ["e"], {"url": "https://example.com"})
    graph = [node("s", "start", "start", ["h"]), call, node("e", "end", "end", [], {"variables": []})]
    failed = run_nodes(api, fake_clock, graph, {"n": 1})
    call_fallback = {**call, "fallbackOnFailure": True, "fallbackChildUuid": "e"}
    degraded = run_nodes(api, fake_clock, [graph[0], call_fallback, graph[2]], {"n": 2})
    assert (failed["status"], degraded["status"]) == ("error", "success")
    traces = {
        t["uuid"]: t for t in api.post("/v1/orchestration/traces/list", json={"startedAfter": EARLY}).json()["traces"]
    }
    assert traces[failed["traceUuid"]]["status"] == "error"
    assert (traces[degraded["traceUuid"]]["status"], traces[degraded["traceUuid"]]["failedSpansCount"]) == (
        "degraded",
        1,
    )
    degraded_only = api.post("/v1/orchestration/traces/count", json={"startedAfter": EARLY, "statuses": ["degraded"]})
    assert degraded_only.json() == {"count": 1}
    errors = spans(api, executionStatuses=["error"], executionTitleOrErrorMessage="NETWORK")
    assert {s["runUuid"] for s in errors} == {failed["uuid"], degraded["uuid"]}
    assert all(s["nodeSlug"] == "call" and "network" in s["executionErrorMessage"] for s in errors)


def test_spans_are_newest_first_and_paged_and_the_limit_is_checked(api: httpx.Client, fake_clock: FakeClock) -> None:
    graph = [node("s", "start", "start", ["e"]), node("e", "end", "end", [], {"variables": []})]
    runs = [run_nodes(api, fake_clock, graph, {"id": f"r{i}"}) for i in range(3)]
    newest = spans(api, nodeSlug="end", recordTitleOrId="r", limit=2)
    assert [s["runUuid"] for s in newest] == [runs[2]["uuid"], runs[1]["uuid"]]
    assert [s["runUuid"] for s in spans(api, nodeSlug="end", limit=2, offset=2)][:1] == [runs[0]["uuid"]]
    too_many = api.post("/v1/orchestration/spans/list", json={"executionStartedAfter": EARLY, "limit": 500})
    assert too_many.status_code == 400 and "limit" in too_many.json()["errorMessage"]
    ok = api.post(
        "/v1/orchestration/spans/list",
        json={"executionStartedAfter": EARLY, "limit": 500, "traceUuid": runs[0]["traceUuid"]},
    )
    assert ok.status_code == 200 and ok.json()["count"] == 2
    missing = api.post("/v1/orchestration/spans/count", json={})
    assert missing.status_code == 400 and "executionStartedAfter" in missing.json()["errorMessage"]


def test_chat_and_agent_filters_find_no_trace(api: httpx.Client) -> None:
    everything = api.post("/v1/orchestration/traces/count", json={"startedAfter": EARLY}).json()["count"]
    assert everything > 0  # the seeded batches were traced
    for field in ("chatUuid", "agentUuid"):
        body = {"startedAfter": EARLY, field: "4b0c8f0e-0000-4000-8000-000000000001"}
        assert api.post("/v1/orchestration/traces/count", json=body).json() == {"count": 0}


def test_another_workspace_sees_none_of_the_spans_traces_or_rows(sandbox: Sandbox, api: httpx.Client) -> None:
    other = second_workspace_client(sandbox)
    trace = api.post("/v1/orchestration/traces/list", json={"startedAfter": EARLY, "limit": 1}).json()["traces"][0]
    assert other.get(f"/v1/orchestration/traces/{trace['uuid']}").json()["reason"] == "traceNotFound"
    assert other.post("/v1/orchestration/spans/count", json={"executionStartedAfter": EARLY}).json() == {"count": 0}
    rows = other.post("/v1/orchestration/query", json={"query": "SELECT count(*) AS n FROM orchestration.runs"})
    assert rows.json() == {"rows": [{"n": 0}]}
    mine = api.post("/v1/orchestration/query", json={"query": "SELECT count(*) AS n FROM orchestration.runs"})
    assert mine.json()["rows"][0]["n"] > 0


# -- SQL ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM orchestration.runs", "readOnlyQuery"),
        ("SELECT 1; SELECT 2", "multipleStatements"),
        ("PRAGMA writable_schema = 1", "readOnlyQuery"),
        ("ATTACH DATABASE 'x.db' AS x", "readOnlyQuery"),
        ("SELECT nope FROM orchestration.runs", "invalidQuery"),
        ("   ", "missingField"),
    ],
)
def test_orchestration_sql_only_reads(api: httpx.Client, sql: str, reason: str) -> None:
    answer = api.post("/v1/orchestration/query", json={"query": sql})
    assert (answer.status_code, answer.json()["reason"]) == (400, reason), answer.text


def test_orchestration_sql_sees_batches_traces_and_spans(api: httpx.Client) -> None:
    sql = (
        "SELECT t.status, count(*) AS traces, sum(t.spans_count) AS spans,"
        " (SELECT count(*) FROM orchestration.spans) AS all_spans FROM orchestration.traces t GROUP BY t.status"
    )
    rows = api.post("/v1/orchestration/query", json={"query": sql}).json()["rows"]
    assert {r["status"] for r in rows} <= {"success", "error", "degraded", "pending"}
    assert sum(r["spans"] for r in rows) == rows[0]["all_spans"]
    columns = api.post("/v1/orchestration/query", json={"query": "PRAGMA table_info(spans)"}).json()["rows"]
    assert {"execution_status", "execution_started_at", "node_slug"} <= {c["name"] for c in columns}
    batches = api.post("/v1/orchestration/query", json={"query": "SELECT data_kind, runs_count FROM batches"})
    assert {r["data_kind"] for r in batches.json()["rows"]} == {"records", "segment"}


# -- plays and tools ---------------------------------------------------------------------------
def test_play_creation_checks_model_filter_schedule_and_folder(api: httpx.Client) -> None:
    companies = next(m for m in api.get("/v1/storage/models/list").json()["models"] if m["slug"] == "companies")
    base = {"name": "P", "modelUuid": companies["uuid"], "changeKinds": ["added"], "runCreationRule": "once"}
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"modelUuid": "9a0b0c0d-0000-4000-8000-000000000000"}, 404, "modelNotFound"),
        (
            {
                "filter": {
                    "conjonction": "and",
                    "groups": [
                        {
                            "conjonction": "and",
                            "conditions": [
                                {"kind": "number", "columnSlug": "no_such", "operator": "greaterThan", "value": 1}
                            ],
                        }
                    ],
                }
            },
            400,
            None,
        ),
        ({"schedule": {"type": "cron", "cron": "every day"}}, 400, "failedToSchedule"),
        (
            {"schedule": {"type": "dependency", "playUuid": "9a0b0c0d-0000-4000-8000-000000000000"}},
            400,
            "failedToSchedule",
        ),
        ({"folderUuid": "9a0b0c0d-0000-4000-8000-000000000000"}, 404, "folderNotFound"),
        ({"changeKinds": ["created"]}, 400, "invalidField"),
        ({"runCreationRule": "sometimes"}, 400, "invalidField"),
    ]
    before = len(api.get("/v1/orchestration/plays/list").json()["plays"])
    for change, status, reason in cases:
        answer = api.post("/v1/orchestration/plays", json={**base, **change})
        assert answer.status_code == status, (change, answer.text)
        assert reason is None or answer.json()["reason"] == reason, answer.text
    assert len(api.get("/v1/orchestration/plays/list").json()["plays"]) == before  # nothing half-made


def test_a_read_only_tool_cannot_be_changed_or_removed(sandbox: Sandbox, api: httpx.Client) -> None:
    score = tool(api, "Score lead")
    sandbox.app.db.execute(
        "UPDATE wf_tools SET data = json_set(data, '$.isReadOnly', json('true')) WHERE uuid = ?", (score["uuid"],)
    )
    for answer in (
        api.put(f"/v1/orchestration/tools/{score['uuid']}", json={"name": "Renamed"}),
        api.delete(f"/v1/orchestration/tools/{score['uuid']}"),
    ):
        assert (answer.status_code, answer.json()["reason"]) == (400, "toolIsReadOnly")
    assert api.get(f"/v1/orchestration/tools/{score['uuid']}").json()["tool"]["name"] == "Score lead"


def test_tools_and_plays_of_another_workspace_are_not_found(sandbox: Sandbox, api: httpx.Client) -> None:
    other = second_workspace_client(sandbox)
    score = tool(api, "Score lead")
    play = api.get("/v1/orchestration/plays/list").json()["plays"][0]
    assert other.get(f"/v1/orchestration/tools/{score['uuid']}").json()["reason"] == "toolNotFound"
    assert other.delete(f"/v1/orchestration/plays/{play['uuid']}").json()["reason"] == "playNotFound"
    assert api.get(f"/v1/orchestration/plays/{play['uuid']}").status_code == 200


# -- output schemas match what the runner produces -------------------------------------------
CONFIGS: dict[str, dict[str, Any]] = {
    "filter": {"filter": "{{true}}"},
    "branch": {"condition": "{{false}}"},
    "switch": {"routes": [{"name": "a", "value": "{{true}}"}]},
    "split": {"percentage": 50},
    "formula": {"expression": "{{1 + 1}}"},
    "delay": {"minutes": 3},
    "writeToModel": {"record": {"domain": "schema-check.io", "name": "Schema check"}},
    "group": {"items": [1, 2]},
    "variables": {"variables": [{"name": "n", "type": "number", "value": "{{2}}"}]},
}
_KINDS: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}


def _conforms(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(value is None if k == "null" else isinstance(value, _KINDS[k]) for k in kinds):
        return False
    if isinstance(value, dict) and "properties" in schema:
        return (
            set(schema.get("required", [])) <= set(value)
            and set(value) <= set(schema["properties"])
            and all(_conforms(value[k], s) for k, s in schema["properties"].items() if k in value)
        )
    return "enum" not in schema or value in schema["enum"]


@pytest.mark.parametrize("action", sorted(CONFIGS))
def test_a_native_action_outputs_what_its_schema_says(sandbox: Sandbox, api: httpx.Client, action: str) -> None:
    config = dict(CONFIGS[action])
    if action == "writeToModel":  # a real model of the demo workspace, written through the real services
        models = api.get("/v1/storage/models/list").json()["models"]
        config["modelUuid"] = next(m["uuid"] for m in models if m["slug"] == "companies")
    graph = [
        node("s", "start", "start", ["a"]),
        node("a", "act", action, ["e", "e"], config),
        node("e", "end", "end", [], {"variables": []}),
    ]
    if action == "group":
        graph[1]["config"]["_nodes"] = [node("s2", "start", "start", ["e2"]), node("e2", "end", "end", [], {})]
    real = SandboxServices(sandbox.app.db, sandbox.workspace_uuid)
    result = Runner(real, "2025-01-15T10:00:00.000Z").run(graph, {"x": 1})
    assert result.status == "success", result.error_message
    assert _conforms(result.context["act"], outputs.native_schema(action, config)), result.context["act"]


@pytest.mark.parametrize(
    ("action", "config"), [("enrichCompany", {"domain": "acme.io"}), ("sendMessage", {"text": "x"})]
)
def test_a_connector_action_outputs_what_its_schema_says(action: str, config: dict[str, Any]) -> None:
    output = services.simulate_connector("slack", action, config)
    assert _conforms(output, outputs.connector_schema("slack", action)), output


def test_network_and_code_actions_have_no_output_in_the_sandbox(api: httpx.Client) -> None:
    for slug in ("httpRequest", "python"):
        action: dict[str, Any] = {"kind": "native", "actionSlug": slug, "config": {}}
        answer = api.post("/v1/orchestration/actions/get-output-schema", json={"action": action})
        assert (answer.status_code, answer.json()["reason"]) == (422, "unavailableInSandbox"), answer.text


# -- exports and seeding ------------------------------------------------------------------------
def test_an_export_over_the_limit_is_refused_not_cut(
    api: httpx.Client, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orchestration_exports, "MAX_EXPORT", 2)
    score = tool(api, "Score lead")
    answer = api.post("/v1/orchestration/runs/download-outputs", json={"workflowUuid": score["workflowUuid"]})
    assert (answer.status_code, answer.json()["reason"]) == (400, "tooManyRuns")
    one = api.post("/v1/orchestration/runs/download-outputs", json={"workflowUuid": score["workflowUuid"], "limit": 1})
    assert one.status_code == 200 and "/_sandbox/downloads/" in one.json()["url"]


def test_seeding_stays_deterministic(tmp_path: Any) -> None:
    """Seeded runs are executed without a timer: two seeds hold the very same executions and alerts."""
    found = []
    for name in ("a", "b"):
        box = Sandbox.open(seed_template(tmp_path / name), clock=FakeClock())
        db = box.app.db
        found.append(
            (
                db.all("SELECT uuid, executions, context FROM wf_runs ORDER BY seq"),
                db.all("SELECT uuid, cron, scope, threshold FROM obs_alerts ORDER BY uuid"),
                db.all("SELECT uuid, version, expression FROM expr_recipes ORDER BY uuid"),
            )
        )
        box.close()
    assert found[0] == found[1] and found[0][0] and found[0][1] and found[0][2]
