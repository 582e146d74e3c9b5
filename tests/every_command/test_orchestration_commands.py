"""Orchestration commands: tools, plays, releases, nodes, runs, batches and records.

Runs use the seeded native "Score lead" tool (no credits, no network) and the one-off
``formula`` action; waits go through the executor's poll loop on the fake clock.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.every_command.world import Cases, World, fetch_download

cases = Cases()
FORMULA = {"kind": "native", "actionSlug": "formula", "config": {"expression": "{{nodes.start.a + nodes.start.b}}"}}


def score_wf(w: World) -> str:
    return str(w.score_tool["workflowUuid"])


def start_run(w: World, record_id: str, wait: bool) -> dict[str, Any]:
    args = {"workflow-uuid": score_wf(w), "data": {"id": record_id, "domain": f"{record_id}.io", "employees": 900}}
    outcome = w.run("orchestration run create", {**args, "wait-until-finished": wait})
    assert outcome.job is not None and outcome.job_id == outcome.job["uuid"]
    return outcome.job


# -- catalogue reads -------------------------------------------------------------------------
@cases.add("orchestration tool list", "orchestration workflow list", "orchestration play list")
def _lists(w: World) -> None:
    assert {t["name"] for t in w.items("orchestration tool list")} >= {"Score lead", "Enrich company"}
    workflows = {wf["uuid"]: wf for wf in w.items("orchestration workflow list")}
    assert workflows[score_wf(w)]["toolUuid"] == w.score_tool["uuid"]
    plays = w.items("orchestration play list", {"segment-uuid": w.segment["uuid"]})
    assert [p["workflowUuid"] in workflows for p in plays] == [True]
    assert w.play["segmentUuid"] == w.segment["uuid"]


@cases.add("orchestration template list", "orchestration template get")
def _templates(w: World) -> None:
    tools = w.items("orchestration template list", {"kinds": ["tool"]})
    assert [t["kind"] for t in tools] == ["tool"] * len(tools)
    got = w.item("orchestration template get", {"slug": "lead-scoring"})
    assert got["slug"] == "lead-scoring" and got["nodes"][0]["slug"] == "start"


@cases.add(
    "orchestration release list",
    "orchestration release get",
    "orchestration release get-deployed",
    "orchestration draft-release get",
)
def _releases(w: World) -> None:
    releases = w.items("orchestration release list", {"workflow-uuid": score_wf(w)})
    deployed = next(r for r in releases if r["status"] == "deployed")
    got = w.item("orchestration release get", {"release-uuid": deployed["uuid"]})
    assert (got["uuid"], got["workflowUuid"]) == (deployed["uuid"], score_wf(w))
    assert w.item("orchestration release get-deployed", {"workflow-uuid": score_wf(w)})["uuid"] == deployed["uuid"]
    draft = w.item("orchestration draft-release get", {"workflow-uuid": score_wf(w)})
    assert draft["status"] == "draft" and draft["workflowUuid"] == score_wf(w)


@cases.add("orchestration draft-release update", "orchestration draft-release deploy")
def _draft(w: World) -> None:
    wf = w.tool_by_name("Write back")["workflowUuid"]  # a workflow no other case runs
    draft = w.item("orchestration draft-release get", {"workflow-uuid": wf})
    test_records = [{"kind": "data", "data": {"domain": "acme.io"}}]
    updated = w.item(
        "orchestration draft-release update",
        {"workflow-uuid": wf, "nodes": draft["nodes"], "test-records": test_records},
    )
    assert updated["uuid"] == draft["uuid"] and updated["testRecords"] == test_records
    args = {"workflow-uuid": wf, "nodes": draft["nodes"], "form-fields": draft["formFields"], "version": "7.0.0"}
    released = w.item("orchestration draft-release deploy", args)
    assert (released["status"], released["version"]) == ("deployed", "7.0.0")
    assert w.item("orchestration release get-deployed", {"workflow-uuid": wf})["uuid"] == released["uuid"]


# -- nodes -----------------------------------------------------------------------------------
@cases.add("orchestration node validate", "orchestration node compute")
def _nodes(w: World) -> None:
    nodes = w.item("orchestration release get-deployed", {"workflow-uuid": score_wf(w)})["nodes"]
    assert w.data("orchestration node validate", {"nodes": nodes}) == {"outcome": "valid", "invalidNodes": []}
    branch = next(n for n in nodes if n["actionSlug"] == "branch")
    context = {"nodes": {"score": {"score": 55}}}
    computed = w.item("orchestration node compute", {"node": branch, "context": context})
    assert computed["condition"] is True


@cases.add("orchestration node execute")
def _node_execute(w: World) -> None:
    wf = w.tool_by_name("Enrich company")["workflowUuid"]
    nodes = w.item("orchestration release get-deployed", {"workflow-uuid": wf})["nodes"]
    enrich = next(n for n in nodes if n["kind"] == "connector")
    args = {"workflow-uuid": wf, "node": enrich, "computed-config": {"domain": "acme.com"}, "context": {}}
    executed = w.data("orchestration node execute", args)
    assert executed["status"] == "success" and executed["data"]["domain"] == "acme.com"


# -- one-off actions -------------------------------------------------------------------------
@cases.add("orchestration action execute", "orchestration run get")
def _action(w: World) -> None:
    outcome = w.run(
        "orchestration action execute", {"action": FORMULA, "data": {"a": 2, "b": 3}, "wait-until-finished": True}
    )
    assert outcome.job_status == "success"
    run = w.data("orchestration run get", {"run-uuid": outcome.job_id})
    assert run["run"]["status"] == "success" and run["runContext"]["end"]["output"] == {"result": 5}


@cases.add("orchestration action execute-batch")
def _action_batch(w: World) -> None:
    records = [{"a": i, "b": 1} for i in range(4)]
    outcome = w.run(
        "orchestration action execute-batch", {"action": FORMULA, "records": records, "wait-until-finished": True}
    )
    assert outcome.job is not None and outcome.job_status == "success"
    assert (outcome.job["executedRunsCount"], outcome.job["data"]["kind"]) == (4, "records")


# -- runs ------------------------------------------------------------------------------------
@cases.add("orchestration run create", "orchestration run list", "orchestration run count")
def _runs(w: World) -> None:
    run = start_run(w, "hot-lead", wait=True)
    assert run["status"] == "success" and run["workflowUuid"] == score_wf(w)
    listed = w.data("orchestration run list", {"workflow-uuid": score_wf(w), "record-id": "hot-lead"})
    assert [r["uuid"] for r in listed["runs"]] == [run["uuid"]]
    counted = w.data("orchestration run count", {"workflow-uuid": score_wf(w), "statuses": ["success"]})
    assert counted["count"] >= 1


@cases.add("orchestration run cancel")
def _run_cancel(w: World) -> None:
    run = start_run(w, "too-late", wait=False)
    w.run("orchestration run cancel", {"workflow-uuid": score_wf(w), "uuids": [run["uuid"]]})
    w.settle()
    assert w.data("orchestration run get", {"run-uuid": run["uuid"]})["run"]["status"] == "cancelled"


@cases.add("orchestration run get-metrics", "orchestration run download")
def _run_reports(w: World) -> None:
    metrics = w.items("orchestration run get-metrics", {"workflow-uuid": score_wf(w)})
    assert all(m["totalExecutionsCount"] >= m["successExecutionsCount"] for m in metrics)
    runs = json.loads(fetch_download(w, "orchestration run download", {"workflow-uuid": score_wf(w)}))
    assert runs and {r["workflowUuid"] for r in runs} == {score_wf(w)}


# -- batches ---------------------------------------------------------------------------------
def records_batch(w: World, ids: list[str], wait: bool) -> dict[str, Any]:
    records = [{"id": i, "domain": f"{i}.io", "employees": 100} for i in ids]
    args = {"workflow-uuid": score_wf(w), "data": {"kind": "records", "records": records}}
    outcome = w.run("orchestration batch create", {**args, "wait-until-finished": wait})
    assert outcome.job is not None
    return outcome.job


@cases.add(
    "orchestration batch create",
    "orchestration batch get",
    "orchestration batch list",
    "orchestration batch download",
)
def _batches(w: World) -> None:
    batch = records_batch(w, ["b1", "b2", "b3"], wait=True)
    assert batch["status"] == "success" and batch["executedRunsCount"] == 3
    assert w.item("orchestration batch get", {"batch-uuid": batch["uuid"]})["status"] == "success"
    listed = w.items("orchestration batch list", {"workflow-uuids": [score_wf(w)]})
    assert batch["uuid"] in {b["uuid"] for b in listed}
    rows = json.loads(
        fetch_download(w, "orchestration batch download", {"uuid": batch["uuid"], "output-node-slug": "end"})
    )
    assert sorted(r["recordId"] for r in rows) == ["b1", "b2", "b3"]
    assert {r["output"]["tier"] for r in rows} == {"cold"}  # 100 employees score 12


@cases.add("orchestration batch cancel")
def _batch_cancel(w: World) -> None:
    batch = records_batch(w, ["c1", "c2"], wait=False)
    w.run("orchestration batch cancel", {"batch-uuid": batch["uuid"]})
    w.settle()
    assert w.item("orchestration batch get", {"batch-uuid": batch["uuid"]})["status"] == "cancelled"


# -- records ---------------------------------------------------------------------------------
@cases.add(
    "orchestration record list",
    "orchestration record count",
    "orchestration record get-metrics",
    "orchestration record download",
)
def _records(w: World) -> None:
    wf = score_wf(w)
    listed = w.data("orchestration record list", {"workflow-uuid": wf})
    assert listed["records"] and all(r["workflowUuid"] == wf for r in listed["records"])
    assert w.data("orchestration record count", {"workflow-uuid": wf})["count"] == listed["count"]
    assert w.items("orchestration record get-metrics", {"workflow-uuid": wf})
    downloaded = json.loads(fetch_download(w, "orchestration record download", {"workflow-uuid": wf}))
    assert len(downloaded) == listed["count"]


@cases.add("orchestration record cancel")
def _record_cancel(w: World) -> None:
    run = start_run(w, "record-to-cancel", wait=False)
    w.run("orchestration record cancel", {"workflow-uuid": score_wf(w), "ids": ["record-to-cancel"]})
    w.settle()
    assert w.data("orchestration run get", {"run-uuid": run["uuid"]})["run"]["status"] == "cancelled"


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
