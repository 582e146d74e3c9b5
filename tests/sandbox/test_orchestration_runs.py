"""Runs, batches, actions and records through the in-process sandbox, driven by a fake clock."""

from __future__ import annotations

import httpx

from cargo_shell.sandbox.runtime import Sandbox
from tests.sandbox.conftest import FakeClock
from tests.sandbox.orchestration_helpers import (
    agent_graph,
    flaky_graph,
    second_workspace_client,
    set_remaining_credits,
    tool,
)


def test_run_goes_pending_running_success_with_outputs(api: httpx.Client, fake_clock: FakeClock) -> None:
    score = tool(api, "Score lead")
    data = {"domain": "acme.com", "employees": 2500, "industry": "Software"}
    created = api.post("/v1/orchestration/runs", json={"workflowUuid": score["workflowUuid"], "data": data})
    assert created.status_code == 200
    run = created.json()["run"]
    assert run["status"] == "pending"
    fake_clock.advance(0.6)
    assert api.get(f"/v1/orchestration/runs/{run['uuid']}").json()["run"]["status"] == "running"
    fake_clock.advance(1.0)
    body = api.get(f"/v1/orchestration/runs/{run['uuid']}").json()
    assert body["run"]["status"] == "success"
    assert [e["nodeSlug"] for e in body["run"]["executions"]] == ["start", "score", "is_hot", "end"]
    assert body["run"]["executions"][2]["nodeChildIndex"] == 0  # branch: yes path
    assert body["runContext"]["end"] == {"score": 90, "tier": "hot"}
    assert body["runComputedConfigs"]["is_hot"] == {"condition": True}


def test_batch_progress_counts_and_per_record_failures(api: httpx.Client, fake_clock: FakeClock) -> None:
    records = [{"id": f"r{i}", "n": i, "ok": i % 4 != 0} for i in range(20)]
    created = api.post(
        "/v1/orchestration/batches", json={"nodes": flaky_graph(), "data": {"kind": "records", "records": records}}
    )
    batch = created.json()["batch"]
    assert batch["status"] == "pending"
    fake_clock.advance(0.6)
    running = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert (running["status"], running["runsCount"], running["executedRunsCount"]) == ("running", 20, 0)
    fake_clock.advance(2.5)
    partial = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert 0 < partial["executedRunsCount"] < 20
    fake_clock.advance(10)
    done = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert (done["status"], done["executedRunsCount"], done["failedRunsCount"]) == ("success", 20, 5)
    assert done["runsStatus"] == "healthy"
    failed = api.post("/v1/orchestration/runs/list", json={"batchUuid": batch["uuid"], "statuses": ["error"]}).json()
    assert failed["count"] == 5
    assert all("network" in r["errorMessage"] for r in failed["runs"])
    ok = api.post("/v1/orchestration/runs/list", json={"batchUuid": batch["uuid"], "recordId": "r3"}).json()["runs"][0]
    assert api.get(f"/v1/orchestration/runs/{ok['uuid']}").json()["runContext"]["end"] == {"n": 6}


def test_batch_cancel_midway(sandbox: Sandbox, api: httpx.Client, fake_clock: FakeClock) -> None:
    score = tool(api, "Score lead")
    records = [{"id": f"c{i}", "domain": f"c{i}.com", "employees": i * 10} for i in range(20)]
    batch = api.post(
        "/v1/orchestration/batches",
        json={"workflowUuid": score["workflowUuid"], "data": {"kind": "records", "records": records}},
    ).json()["batch"]
    fake_clock.advance(0.6)
    api.get(f"/v1/orchestration/batches/{batch['uuid']}")
    fake_clock.advance(1.5)
    before = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert 0 < before["executedRunsCount"] < 20
    assert api.post(f"/v1/orchestration/batches/{batch['uuid']}/cancel").status_code == 200
    status = sandbox.app.db.scalar("SELECT status FROM wf_batches WHERE uuid = ?", (batch["uuid"],))
    assert status == "cancelling"
    after = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert after["status"] == "cancelled"
    fake_clock.advance(30)
    final = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert final["executedRunsCount"] == before["executedRunsCount"]
    cancelled = api.post("/v1/orchestration/runs/count", json={"batchUuid": batch["uuid"], "statuses": ["cancelled"]})
    assert cancelled.json()["count"] == 20 - before["executedRunsCount"]
    again = api.post(f"/v1/orchestration/batches/{batch['uuid']}/cancel")
    assert again.json()["reason"] == "batchAlreadyFinished"


def test_not_enough_credits_at_start_and_mid_batch(sandbox: Sandbox, api: httpx.Client, fake_clock: FakeClock) -> None:
    set_remaining_credits(sandbox, 0)
    refused = api.post("/v1/orchestration/runs", json={"nodes": agent_graph(), "data": {"name": "x"}})
    assert (refused.status_code, refused.json()["reason"]) == (402, "notEnoughCredits")
    refused = api.post(
        "/v1/orchestration/batches", json={"nodes": agent_graph(), "data": {"kind": "records", "records": [{}]}}
    )
    assert refused.json()["reason"] == "notEnoughCredits"

    set_remaining_credits(sandbox, 3)
    records = [{"id": str(i), "name": f"Company {i}"} for i in range(6)]
    batch = api.post(
        "/v1/orchestration/batches", json={"nodes": agent_graph(), "data": {"kind": "records", "records": records}}
    )
    uuid = batch.json()["batch"]["uuid"]
    fake_clock.advance(10)
    sandbox.app.engine.advance(until_idle=True)
    done = api.get(f"/v1/orchestration/batches/{uuid}").json()["batch"]
    assert (done["status"], done["failedRunsCount"], done["creditsUsedCount"]) == ("success", 3, 3.0)
    errors = api.post("/v1/orchestration/runs/list", json={"batchUuid": uuid, "statuses": ["error"]}).json()["runs"]
    assert all(r["errorMessage"].startswith("notEnoughCredits") for r in errors)
    spent = sandbox.app.db.scalar(
        "SELECT SUM(amount) FROM credit_ledger l JOIN wf_runs r ON r.uuid = l.run_uuid"
        " WHERE r.batch_uuid = ? AND l.unit = 'billing.credits'",
        (uuid,),
    )
    assert spent == 3.0


def test_play_rules_and_data_kinds(api: httpx.Client) -> None:
    play = api.get("/v1/orchestration/plays/list").json()["plays"][0]
    refused = api.post("/v1/orchestration/runs", json={"workflowUuid": play["workflowUuid"], "data": {}})
    assert refused.json()["reason"] == "playNotCompatible"
    wrong = api.post(
        "/v1/orchestration/batches",
        json={"workflowUuid": play["workflowUuid"], "data": {"kind": "records", "records": [{}]}},
    )
    assert wrong.json()["reason"] == "invalidDataKind"
    score = tool(api, "Score lead")
    wrong = api.post(
        "/v1/orchestration/batches",
        json={"workflowUuid": score["workflowUuid"], "data": {"kind": "segment", "segmentUuid": play["segmentUuid"]}},
    )
    assert wrong.json()["reason"] == "invalidDataKind"
    ok = api.post(
        "/v1/orchestration/batches",
        json={"workflowUuid": play["workflowUuid"], "data": {"kind": "segment", "segmentUuid": play["segmentUuid"]}},
    )
    assert ok.status_code == 200
    both = api.post(
        "/v1/orchestration/runs",
        json={"releaseUuid": ok.json()["batch"]["releaseUuid"], "nodes": flaky_graph(), "data": {}},
    )
    assert both.json()["reason"] == "invalidReleaseOrCustomNodes"
    missing = api.post(
        "/v1/orchestration/runs", json={"workflowUuid": "00000000-0000-4000-8000-000000000000", "data": {}}
    )
    assert (missing.status_code, missing.json()["reason"]) == (404, "workflowNotFound")


def test_play_batch_over_segment_runs_the_segment_records(api: httpx.Client, fake_clock: FakeClock) -> None:
    play = api.get("/v1/orchestration/plays/list").json()["plays"][0]
    segment = next(
        s for s in api.get("/v1/segmentation/segments/list").json()["segments"] if s["uuid"] == play["segmentUuid"]
    )
    batch = api.post(
        "/v1/orchestration/batches",
        json={"workflowUuid": play["workflowUuid"], "data": {"kind": "segment", "segmentUuid": play["segmentUuid"]}},
    ).json()["batch"]
    fake_clock.advance(10)
    api.get(f"/v1/orchestration/batches/{batch['uuid']}")
    fake_clock.advance(10)
    done = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert done["status"] == "success"
    assert done["runsCount"] == segment["recordsCount"]


def test_runs_are_isolated_between_workspaces(sandbox: Sandbox, api: httpx.Client, fake_clock: FakeClock) -> None:
    run = api.post("/v1/orchestration/runs", json={"nodes": flaky_graph(), "data": {"ok": True, "n": 1}}).json()["run"]
    batches = api.get("/v1/orchestration/batches/list").json()["batches"]
    assert batches
    with second_workspace_client(sandbox) as other:
        assert other.get(f"/v1/orchestration/runs/{run['uuid']}").status_code == 404
        assert other.get(f"/v1/orchestration/batches/{batches[0]['uuid']}").status_code == 404
        assert other.post("/v1/orchestration/runs/list", json={}).json() == {"runs": [], "count": 0}
        assert other.get("/v1/orchestration/batches/list").json() == {"batches": []}
        assert other.get("/v1/orchestration/tools/list").json() == {"tools": []}
        cancel = other.post(f"/v1/orchestration/batches/{batches[0]['uuid']}/cancel")
        assert cancel.json()["reason"] == "batchNotFound"


def test_batch_download_serves_node_outputs(api: httpx.Client, fake_clock: FakeClock) -> None:
    records = [{"id": f"r{i}", "n": i, "ok": True} for i in range(3)]
    batch = api.post(
        "/v1/orchestration/batches", json={"nodes": flaky_graph(), "data": {"kind": "records", "records": records}}
    ).json()["batch"]
    early = api.post(f"/v1/orchestration/batches/{batch['uuid']}/download", json={"outputNodeSlug": "end"})
    assert early.json()["reason"] == "batchNotFinished"
    fake_clock.advance(10)
    api.get(f"/v1/orchestration/batches/{batch['uuid']}")
    fake_clock.advance(10)
    bad = api.post(f"/v1/orchestration/batches/{batch['uuid']}/download", json={"outputNodeSlug": "nope"})
    assert bad.status_code == 400
    url = api.post(f"/v1/orchestration/batches/{batch['uuid']}/download", json={"outputNodeSlug": "end"}).json()["url"]
    rows = httpx.Client(transport=api._transport).get(url).json()
    assert [(r["recordId"], r["output"]) for r in rows] == [("r0", {"n": 0}), ("r1", {"n": 2}), ("r2", {"n": 4})]
    wf = api.post("/v1/orchestration/runs/list", json={"batchUuid": batch["uuid"]}).json()["runs"][0]["workflowUuid"]
    url = api.post("/v1/orchestration/runs/download", json={"workflowUuid": wf, "batchUuid": batch["uuid"]}).json()[
        "url"
    ]
    runs = httpx.Client(transport=api._transport).get(url).json()
    assert sorted(r["recordId"] for r in runs) == ["r0", "r1", "r2"]


def test_action_execute_and_execute_batch(api: httpx.Client, fake_clock: FakeClock) -> None:
    action = {"kind": "native", "actionSlug": "formula", "config": {"expression": "{{nodes.start.a + nodes.start.b}}"}}
    run = api.post("/v1/orchestration/actions/execute", json={"action": action, "data": {"a": 2, "b": 3}}).json()["run"]
    fake_clock.advance(2)
    body = api.get(f"/v1/orchestration/runs/{run['uuid']}").json()
    assert body["runContext"]["end"]["output"] == {"result": 5}
    missing = api.post(
        "/v1/orchestration/actions/execute", json={"action": {"kind": "native", "actionSlug": "formula"}, "data": {}}
    )
    assert missing.status_code == 400
    batch = api.post(
        "/v1/orchestration/actions/execute-batch",
        json={"action": action, "records": [{"a": i, "b": 1} for i in range(4)]},
    ).json()["batch"]
    fake_clock.advance(10)
    api.get(f"/v1/orchestration/batches/{batch['uuid']}")
    fake_clock.advance(10)
    done = api.get(f"/v1/orchestration/batches/{batch['uuid']}").json()["batch"]
    assert (done["status"], done["executedRunsCount"], done["data"]["kind"]) == ("success", 4, "records")


def test_records_metrics_and_run_cancel(api: httpx.Client, fake_clock: FakeClock) -> None:
    enrich = tool(api, "Enrich company")
    wf = enrich["workflowUuid"]
    records = api.post("/v1/orchestration/records/list", json={"workflowUuid": wf}).json()
    assert records["count"] == 9
    errors = api.post("/v1/orchestration/records/count", json={"workflowUuid": wf, "statuses": ["error"]}).json()
    assert errors["count"] >= 1  # the seeded record without a domain
    metrics = api.post("/v1/orchestration/runs/metrics", json={"workflowUuid": wf}).json()["runMetrics"]
    enrich_node = next(m for m in metrics if m["errorExecutionsCount"])
    assert enrich_node["totalExecutionsCount"] == 9
    assert enrich_node["creditsUsedCount"] == 2 * enrich_node["successExecutionsCount"]
    run = api.post(
        "/v1/orchestration/runs", json={"workflowUuid": wf, "data": {"id": "late", "domain": "late.io"}}
    ).json()["run"]
    assert (
        api.post("/v1/orchestration/runs/cancel", json={"workflowUuid": wf, "uuids": [run["uuid"]]}).status_code == 200
    )
    fake_clock.advance(5)
    assert api.get(f"/v1/orchestration/runs/{run['uuid']}").json()["run"]["status"] == "cancelled"
    assert api.post("/v1/orchestration/records/metrics", json={"workflowUuid": wf}).json()["recordMetrics"]
