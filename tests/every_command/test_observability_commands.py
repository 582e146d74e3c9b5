"""Observability commands: alerts stored and evaluated on their schedule over the sandbox's real
runs, models and SQL; events as those evaluations; previews computed on the spot."""

from __future__ import annotations

from typing import Any

import pytest

from tests.every_command.world import Cases, World

cases = Cases()
FAILS = {"kind": "native", "actionSlug": "httpRequest", "config": {"url": "https://example.com"}}
WORKS = {"kind": "native", "actionSlug": "formula", "config": {"expression": "{{nodes.start.n}}"}}
ERROR_RATE = {"metric": "errorRate", "operator": "gte", "value": 0.5}


def actions_workflow(w: World) -> str:
    """The hidden workflow of one-off actions: run one and read it off the run."""
    outcome = w.run("orchestration action execute", {"action": WORKS, "data": {"n": 0}, "wait-until-finished": True})
    return str(outcome.job["workflowUuid"]) if outcome.job else ""


def act(w: World, action: dict[str, Any], n: int) -> None:
    w.run("orchestration action execute", {"action": action, "data": {"n": n}, "wait-until-finished": True})


@cases.add(
    "observability alert create",
    "observability alert get",
    "observability alert list",
    "observability alert update",
    "observability alert remove",
    "observability event list",
    "observability event count",
)
def _alert_lifecycle(w: World) -> None:
    scope = {"kind": "runs", "workflowUuid": actions_workflow(w), "statuses": ["success", "error"]}
    args = {
        "name": "Actions failing",
        "cron": "*/10 * * * *",
        "scope": scope,
        "threshold": ERROR_RATE,
        "actions": [WORKS],
        "folder-uuid": w.folder("play")["uuid"],
    }
    alert = w.item("observability alert create", args)
    assert (alert["isEnabled"], alert["schedule"]["cron"], alert["scope"], alert["threshold"]) == (
        True,
        "*/10 * * * *",
        scope,
        ERROR_RATE,
    )
    assert "lastEvent" not in alert  # not evaluated yet (null, dropped by the client)
    assert alert["uuid"] in {a["uuid"] for a in w.items("observability alert list")}

    # two failures and one success in the first window: unhealthy, its action runs
    act(w, FAILS, 1)
    act(w, FAILS, 2)
    act(w, WORKS, 3)
    w.clock.advance(600)  # past the first tick
    events = w.data("observability event list", {"alert-uuid": alert["uuid"]})
    assert events["count"] >= 1
    [first] = [e for e in events["events"] if e["status"] == "unhealthy"]  # the window of the three runs
    assert first["value"] == 2 / 3
    assert first["windowStartedAt"] <= first["windowEndedAt"] and len(first["runUuids"]) == 1
    w.settle()
    fired = w.data("orchestration run get", {"run-uuid": first["runUuids"][0]})
    assert fired["run"]["status"] == "success" and fired["runContext"]["start"]["event"]["status"] == "unhealthy"
    got = w.item("observability alert get", {"alert-uuid": alert["uuid"]})
    assert got["lastEvent"]["uuid"] == events["events"][0]["uuid"] and got["lastEvaluatedAt"]

    counts = {
        s: w.data("observability event count", {"alert-uuid": alert["uuid"], "statuses": [s]})["count"]
        for s in ("healthy", "unhealthy", "error")
    }
    assert counts["unhealthy"] == 1 and sum(counts.values()) == events["count"]

    # disabled, it is no longer evaluated
    off = w.item("observability alert update", {"uuid": alert["uuid"], "is-enabled": False, "name": "Quiet"})
    assert (off["isEnabled"], off["name"]) == (False, "Quiet")
    total = events["count"]
    w.clock.advance(3600)
    w.settle()
    assert w.data("observability event count", {"alert-uuid": alert["uuid"]})["count"] == total
    mismatch = {"uuid": alert["uuid"], "threshold": {"metric": "recordsCount", "operator": "gte", "value": 1}}
    assert w.fails("observability alert update", mismatch, 400).reason == "mismatchedThreshold"

    w.run("observability alert remove", {"alert-uuid": alert["uuid"]})
    w.gone("observability alert get", {"alert-uuid": alert["uuid"]})
    assert alert["uuid"] not in {a["uuid"] for a in w.items("observability alert list")}


@cases.add("observability alert preview")
def _preview(w: World) -> None:
    workflow = actions_workflow(w)
    act(w, FAILS, 1)
    runs = {"kind": "runs", "workflowUuid": workflow}
    count = w.data("orchestration run count", {"workflow-uuid": workflow, "statuses": ["error"]})["count"]
    errors = w.data(
        "observability alert preview",
        {
            "scope": {**runs, "statuses": ["error"]},
            "threshold": {"metric": "count", "operator": "gte", "value": 1},
            "window-minutes": 60 * 24 * 365,
        },
    )
    assert errors == {"outcome": "computed", "value": count, "isBreached": True, "total": count}
    sql = "SELECT count(*) FROM orchestration.spans WHERE execution_status = 'error'"
    query = w.data(
        "observability alert preview",
        {
            "scope": {"kind": "orchestrationQuery", "query": sql},
            "threshold": {"metric": "query", "operator": "lte", "value": 0},
            "window-minutes": 5,
        },
    )
    assert query["outcome"] == "computed" and query["value"] >= 1 and query["isBreached"] is False
    software = {"kind": "string", "columnSlug": "industry", "operator": "is", "values": ["Software"]}
    flt = {"conjonction": "and", "groups": [{"conjonction": "and", "conditions": [software]}]}
    model = {"kind": "model", "modelUuid": w.companies["uuid"], "filter": flt}
    share = w.data(
        "observability alert preview",
        {
            "scope": model,
            "window-minutes": 60,
            "threshold": {"metric": "recordsShare", "operator": "gte", "value": 0.9},
        },
    )
    fetched = w.data("segmentation segment fetch", {"model-uuid": w.companies["uuid"], "filter": flt})["count"]
    assert share["outcome"] == "computed" and share["failed"] == fetched and share["value"] == fetched / share["total"]
    empty = w.data("observability alert preview", {"scope": runs, "threshold": ERROR_RATE, "window-minutes": 0.001})
    assert empty == {"outcome": "empty"}
    sync = w.data(
        "observability alert preview",
        {
            "scope": {"kind": "model", "modelUuid": w.companies["uuid"]},
            "threshold": {"metric": "syncDuration", "operator": "gte", "value": 1},
            "window-minutes": 60,
        },
    )
    assert sync["outcome"] == "notComputed" and "not synced" in sync["computeErrorMessage"]


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
