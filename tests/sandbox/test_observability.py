"""Alerts evaluated on their cron schedule over real sandbox data; cron expressions; every metric."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.domains.observability import CATCH_UP_S, MAX_CATCH_UP
from cargo_shell.sandbox.engine.cron import CronError, parse
from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.sandbox.util import iso, parse_iso
from tests.sandbox.orchestration_helpers import node, second_workspace_client, set_remaining_credits, tool
from tests.support import FakeClock

COUNT = {"metric": "count", "operator": "gte", "value": 1}


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# -- cron ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("* * * * *", "2025-01-15T10:00:30", "2025-01-15T10:01:00"),
        ("0 8 * * *", "2025-01-15T08:00:00", "2025-01-16T08:00:00"),
        ("*/15 9-17 * * MON-FRI", "2025-01-17T17:50:00", "2025-01-20T09:00:00"),  # Friday evening -> Monday
        ("0 0 1 * 0", "2025-01-15T00:00:00", "2025-01-19T00:00:00"),  # day 1 OR a Sunday
        ("0 0 * * 7", "2025-01-15T00:00:00", "2025-01-19T00:00:00"),  # 7 is Sunday too
        ("30 2 29 FEB *", "2025-01-15T00:00:00", "2028-02-29T02:30:00"),
        ("5,10-12/2 * * * *", "2025-01-15T10:06:00", "2025-01-15T10:10:00"),
    ],
)
def test_cron_next_tick(cron: str, after: str, expected: str) -> None:
    assert parse(cron).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("* * * *", "5 fields"),
        ("60 * * * *", "outside 0-59"),
        ("*/0 * * * *", "positive"),
        ("5-1 * * * *", "backwards"),
        ("* * * FOO *", "not a number or a name"),
        ("0 0 30 2 *", "no time that ever comes"),
        ("1,,2 * * * *", "empty item"),
    ],
)
def test_cron_mistakes_are_named(cron: str, problem: str) -> None:
    with pytest.raises(CronError, match=problem):
        parse(cron)


# -- helpers -----------------------------------------------------------------------------------
def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": "A", "cron": "*/5 * * * *", "scope": {"kind": "runs"}, "threshold": COUNT, **fields}
    answer = api.post("/v1/observability/alerts", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["alert"])


def events(api: httpx.Client, alert: dict[str, Any], **body: Any) -> list[dict[str, Any]]:
    answer = api.post("/v1/observability/events/list", json={"alertUuid": alert["uuid"], "limit": 1000, **body})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["events"])


def preview(api: httpx.Client, scope: dict[str, Any], threshold: dict[str, Any], minutes: float = 60) -> Any:
    answer = api.post(
        "/v1/observability/alerts/preview", json={"scope": scope, "threshold": threshold, "windowMinutes": minutes}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def run_graph(api: httpx.Client, clock: FakeClock, ok: bool, n: int = 1) -> None:
    graph = [
        node("s", "start", "start", ["b"]),
        node("b", "ok", "branch", ["e", "h"], {"condition": "{{nodes.start.ok}}"}),
        node("h", "call", "httpRequest", ["e"], {"url": "https://example.com"}),
        node("e", "end", "end", [], {"variables": []}),
    ]
    for _ in range(n):
        api.post("/v1/orchestration/runs", json={"nodes": graph, "data": {"ok": ok}})
    clock.advance(3)
    api.get("/v1/orchestration/batches/list")  # lets the engine run them


# -- the schedule --------------------------------------------------------------------------
def test_each_tick_evaluates_the_window_since_the_previous_one(api: httpx.Client, fake_clock: FakeClock) -> None:
    alert = create(api, scope={"kind": "runs", "statuses": ["error"]}, cron="*/5 * * * *")
    run_graph(api, fake_clock, ok=False, n=2)  # 10:00 -> 10:05 window: two failed runs
    fake_clock.advance(300)
    run_graph(api, fake_clock, ok=True)  # 10:05 -> 10:10: none failed
    fake_clock.advance(300)
    found = events(api, alert)
    assert [(e["windowStartedAt"][11:16], e["windowEndedAt"][11:16], e["value"], e["status"]) for e in found] == [
        ("10:05", "10:10", 0.0, "healthy"),
        ("10:00", "10:05", 2.0, "unhealthy"),
    ]
    got = api.get(f"/v1/observability/alerts/{alert['uuid']}").json()["alert"]
    assert (got["lastEvaluatedAt"], got["lastEvent"]["uuid"]) == ("2025-01-15T10:10:00.000Z", found[0]["uuid"])


def test_a_long_pause_is_caught_up_for_the_last_windows_only(api: httpx.Client, fake_clock: FakeClock) -> None:
    alert = create(api, cron="* * * * *")
    fake_clock.advance(CATCH_UP_S * 2)
    found = events(api, alert)
    assert len(found) == MAX_CATCH_UP
    ends = [parse_iso(e["windowEndedAt"]) for e in reversed(found)]
    assert ends == [ends[0] + 60 * i for i in range(MAX_CATCH_UP)] and ends[-1] <= fake_clock()
    assert all(e["windowStartedAt"] == iso(parse_iso(e["windowEndedAt"]) - 60) for e in found)
    fake_clock.advance(60)
    assert len(events(api, alert)) == MAX_CATCH_UP + 1  # and on it goes, one window per tick


def test_a_disabled_alert_is_not_evaluated_and_restarts_from_when_it_is_enabled(
    api: httpx.Client, fake_clock: FakeClock
) -> None:
    alert = create(api, isEnabled=False)
    fake_clock.advance(3600)
    assert events(api, alert) == []
    api.put(f"/v1/observability/alerts/{alert['uuid']}", json={"isEnabled": True})
    enabled_at = fake_clock()
    fake_clock.advance(600)
    found = events(api, alert)
    assert len(found) == 2 and parse_iso(found[-1]["windowStartedAt"]) == enabled_at


def test_unhealthy_starts_the_actions_and_says_when_they_cannot_start(
    sandbox: Sandbox, api: httpx.Client, fake_clock: FakeClock
) -> None:
    score = tool(api, "Score lead")
    action = {"kind": "tool", "toolUuid": score["uuid"], "config": {"domain": "alert.io", "employees": 10}}
    alert = create(api, actions=[action])
    run_graph(api, fake_clock, ok=True)
    fake_clock.advance(300)
    [fired] = events(api, alert)
    assert fired["status"] == "unhealthy" and len(fired["runUuids"]) == 1 and fired["errorMessage"] is None
    fake_clock.advance(10)
    run = api.get(f"/v1/orchestration/runs/{fired['runUuids'][0]}").json()
    assert run["run"]["status"] == "success" and run["runContext"]["start"]["alert"]["uuid"] == alert["uuid"]
    set_remaining_credits(sandbox, 0)
    run_graph(api, fake_clock, ok=True)
    fake_clock.advance(300)
    latest = events(api, alert)[0]
    assert latest["status"] == "unhealthy" and latest["runUuids"] == []
    assert "not started" in latest["errorMessage"] and "credits" in latest["errorMessage"]


def test_events_filter_by_status_and_time(api: httpx.Client, fake_clock: FakeClock) -> None:
    alert = create(api, scope={"kind": "runs", "statuses": ["error"]})
    run_graph(api, fake_clock, ok=False)
    fake_clock.advance(900)
    everything = events(api, alert)
    unhealthy = events(api, alert, statuses=["unhealthy"])
    assert len(unhealthy) == 1 and len(everything) == 3
    fired_at = unhealthy[0]["createdAt"]
    since = events(api, alert, createdAfter=fired_at)  # createdAfter includes its own instant
    assert [e["uuid"] for e in since] == [e["uuid"] for e in everything]
    just_after = iso(parse_iso(fired_at) + 0.0015)  # one millisecond later: the stored precision
    later = events(api, alert, createdAfter=just_after)
    assert [e["uuid"] for e in later] == [e["uuid"] for e in everything[:2]]
    before = events(api, alert, createdBefore=just_after)
    assert [e["uuid"] for e in before] == [unhealthy[0]["uuid"]]
    count = api.post("/v1/observability/events/count", json={"alertUuid": alert["uuid"], "statuses": ["healthy"]})
    assert count.json() == {"count": 2}


# -- every metric on known data ---------------------------------------------------------------
def test_run_metrics(api: httpx.Client, fake_clock: FakeClock) -> None:
    scope = {"kind": "runs", "statuses": ["success", "error"]}
    assert preview(api, scope, {"metric": "errorRate", "operator": "gte", "value": 0.5}, 1) == {"outcome": "empty"}
    run_graph(api, fake_clock, ok=False)
    run_graph(api, fake_clock, ok=True, n=3)
    rate = preview(api, scope, {"metric": "errorRate", "operator": "gte", "value": 0.5}, 1)
    assert rate == {"outcome": "computed", "value": 0.25, "total": 4, "failed": 1, "isBreached": False}
    duration = preview(api, scope, {"metric": "duration", "aggregation": "p50", "operator": "gte", "value": 1000}, 1)
    assert duration["outcome"] == "computed" and duration["value"] >= 1500 and duration["isBreached"]  # 1.5 s each
    credits = preview(api, scope, {"metric": "credits", "aggregation": "sum", "operator": "lte", "value": 0}, 1)
    assert credits["value"] == 0 and credits["isBreached"]  # native nodes spend nothing


def test_span_and_record_metrics(api: httpx.Client) -> None:
    enrich = tool(api, "Enrich company")
    year = 60 * 24 * 365
    connector = {"kind": "spans", "workflowUuid": enrich["workflowUuid"], "nodeKind": "connector"}
    rate = preview(api, connector, {"metric": "errorRate", "operator": "gte", "value": 0.1}, year)
    spent = preview(api, connector, {"metric": "credits", "aggregation": "sum", "operator": "gte", "value": 1}, year)
    runs = api.post("/v1/orchestration/runs/list", json={"workflowUuid": enrich["workflowUuid"], "limit": 100}).json()
    failed = sum(r["status"] == "error" for r in runs["runs"])
    assert (rate["total"], rate["failed"]) == (runs["count"], failed) and failed >= 1
    assert spent["value"] == sum(2 for r in runs["runs"] if r["status"] == "success")
    records = {"kind": "records", "workflowUuid": enrich["workflowUuid"], "statuses": ["error"]}
    assert preview(api, records, COUNT, year)["value"] == failed


def test_query_and_model_metrics(api: httpx.Client, fake_clock: FakeClock) -> None:
    companies = next(m for m in api.get("/v1/storage/models/list").json()["models"] if m["slug"] == "companies")
    total = api.post(
        "/v1/segmentation/segments/fetch",
        json={"modelUuid": companies["uuid"], "fetchingLimit": 0, "filter": {"conjonction": "and", "groups": []}},
    )
    query = {"metric": "query", "operator": "gte", "value": 1}
    storage = preview(
        api, {"kind": "storageQuery", "query": "SELECT count(*) FROM datasets_crm.models_companies"}, query
    )
    assert storage["value"] == total.json()["count"]
    counted = preview(
        api,
        {"kind": "model", "modelUuid": companies["uuid"]},
        {"metric": "recordsCount", "operator": "lte", "value": 10},
    )
    assert counted["value"] == storage["value"] and counted["isBreached"] is False
    fresh = preview(
        api, {"kind": "model", "modelUuid": companies["uuid"]}, {"metric": "freshness", "operator": "gte", "value": 60}
    )
    assert fresh["outcome"] == "computed" and fresh["value"] > 0
    text = preview(api, {"kind": "orchestrationQuery", "query": "SELECT 'many'"}, query)
    assert text["outcome"] == "notComputed" and "number" in text["computeErrorMessage"]
    none = preview(api, {"kind": "orchestrationQuery", "query": "SELECT 1 FROM orchestration.runs WHERE 0"}, query)
    assert none == {"outcome": "empty"}


def test_a_query_alert_reads_its_window_through_named_parameters(api: httpx.Client, fake_clock: FakeClock) -> None:
    sql = (
        "SELECT count(*) FROM orchestration.runs WHERE status = 'error'"
        " AND created_at >= :window_started_at AND created_at < :window_ended_at"
    )
    alert = create(
        api,
        scope={"kind": "orchestrationQuery", "query": sql},
        threshold={"metric": "query", "operator": "gte", "value": 2},
        cron="*/10 * * * *",
    )
    run_graph(api, fake_clock, ok=False, n=3)
    fake_clock.advance(600)
    run_graph(api, fake_clock, ok=False)
    fake_clock.advance(600)
    assert [(e["value"], e["status"]) for e in events(api, alert)] == [(1.0, "healthy"), (3.0, "unhealthy")]


# -- what an alert must be ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"cron": "often"}, 400, "invalidCron"),
        ({"threshold": {"metric": "recordsCount", "operator": "gte", "value": 1}}, 400, "mismatchedThreshold"),
        ({"threshold": {"metric": "duration", "operator": "gte", "value": 1}}, 400, "invalidRequest"),
        (
            {
                "scope": {"kind": "storageQuery", "query": "SELECT * FROM nowhere"},
                "threshold": {"metric": "query", "operator": "gte", "value": 1},
            },
            400,
            "invalidSql",
        ),
        (
            {
                "scope": {"kind": "orchestrationQuery", "query": "DELETE FROM orchestration.runs"},
                "threshold": {"metric": "query", "operator": "gte", "value": 1},
            },
            400,
            "invalidSql",
        ),
        (
            {
                "scope": {"kind": "model", "modelUuid": "9a0b0c0d-0000-4000-8000-000000000000"},
                "threshold": {"metric": "recordsCount", "operator": "gte", "value": 1},
            },
            404,
            "modelNotFound",
        ),
        (
            {"actions": [{"kind": "tool", "toolUuid": "9a0b0c0d-0000-4000-8000-000000000000", "config": {}}]},
            404,
            "actionNotFound",
        ),
        ({"folderUuid": "9a0b0c0d-0000-4000-8000-000000000000"}, 404, "folderNotFound"),
        ({"scope": {"kind": "logs"}}, 400, "invalidField"),
    ],
)
def test_alert_mistakes_are_refused(api: httpx.Client, change: dict[str, Any], status: int, reason: str) -> None:
    body = {"name": "A", "cron": "*/5 * * * *", "scope": {"kind": "runs"}, "threshold": COUNT, **change}
    answer = api.post("/v1/observability/alerts", json=body)
    assert (answer.status_code, answer.json()["reason"]) == (status, reason), answer.text


def test_alerts_and_events_of_another_workspace_are_not_found(sandbox: Sandbox, api: httpx.Client) -> None:
    alert = create(api)
    other = second_workspace_client(sandbox)
    assert other.get(f"/v1/observability/alerts/{alert['uuid']}").json()["reason"] == "alertNotFound"
    listed = other.post("/v1/observability/events/list", json={"alertUuid": alert["uuid"]})
    assert (listed.status_code, listed.json()["reason"]) == (404, "alertNotFound")
    assert other.get("/v1/observability/alerts/list").json() == {"alerts": []}
