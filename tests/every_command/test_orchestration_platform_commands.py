"""Orchestration operations beyond the documented CLI (issue 12): plays and tools as objects, previews,
output schemas, spans and traces of real runs, SQL over orchestration data, exports of outputs.

Every case goes through the real executor and client against the seeded sandbox; runs are waited
for through the executor's poll loop on the fake clock.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.every_command.world import Cases, World, fetch_download

cases = Cases()
BIG = {"kind": "number", "columnSlug": "employees", "operator": "greaterThan", "value": 1000}
FORMULA = {"kind": "native", "actionSlug": "formula", "config": {"expression": "{{nodes.start.a * 10}}"}}


def where(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"conjonction": "and", "groups": [{"conjonction": "and", "conditions": list(conditions)}]}


def score_wf(w: World) -> str:
    return str(w.score_tool["workflowUuid"])


def scored_run(w: World, record_id: str, employees: int) -> dict[str, Any]:
    data = {"id": record_id, "domain": f"{record_id}.io", "employees": employees}
    outcome = w.run(
        "orchestration run create", {"workflow-uuid": score_wf(w), "data": data, "wait-until-finished": True}
    )
    assert outcome.job is not None and outcome.job_status == "success"
    return outcome.job


# -- plays -----------------------------------------------------------------------------------
@cases.add(
    "orchestration play create", "orchestration play get", "orchestration play update", "orchestration play remove"
)
def _play_lifecycle(w: World) -> None:
    args = {
        "name": "Big accounts",
        "model-uuid": w.companies["uuid"],
        "change-kinds": ["added", "updated"],
        "run-creation-rule": "once",
        "filter": where(BIG),
        "schedule": {"type": "cron", "cron": "0 9 * * 1"},
        "folder-uuid": w.folder("play")["uuid"],
    }
    play = w.item("orchestration play create", args)
    assert (play["name"], play["modelUuid"], play["isEnabled"]) == ("Big accounts", w.companies["uuid"], False)
    assert play["schedule"]["cron"] == "0 9 * * 1" and play["schedule"]["temporalScheduleWorkflowId"]
    segment = w.item("segmentation segment get", {"segment-uuid": play["segmentUuid"]})
    assert segment["fromPlay"] is True and segment["filter"] == where(BIG)
    big = segment["recordsCount"]
    assert big > 0
    draft = w.item("orchestration draft-release get", {"workflow-uuid": play["workflowUuid"]})
    assert [n["actionSlug"] for n in draft["nodes"]] == ["start", "end"]
    assert w.item("orchestration play get", {"play-uuid": play["uuid"]}) == play

    # enabling needs a deployed release
    error = w.fails("orchestration play update", {"uuid": play["uuid"], "is-enabled": True}, status=400)
    assert error.reason == "playNotDeployed"
    w.run(
        "orchestration draft-release deploy",
        {"workflow-uuid": play["workflowUuid"], "nodes": draft["nodes"], "form-fields": []},
    )
    everyone = {"conjonction": "and", "groups": []}
    updated = w.item(
        "orchestration play update",
        {"uuid": play["uuid"], "is-enabled": True, "name": "All accounts", "filter": everyone, "health-threshold": 0.2},
    )
    assert (updated["isEnabled"], updated["name"], updated["healthThreshold"]) == (True, "All accounts", 0.2)
    recounted = w.item("segmentation segment get", {"segment-uuid": play["segmentUuid"]})
    assert recounted["recordsCount"] > big

    # a batch of the play, cancelled by removing the play
    batch = w.run(
        "orchestration batch create",
        {"workflow-uuid": play["workflowUuid"], "data": {"kind": "segment", "segmentUuid": play["segmentUuid"]}},
    )
    assert batch.job is not None and batch.job["status"] == "pending"
    w.run("orchestration play remove", {"play-uuid": play["uuid"]})
    w.gone("orchestration play get", {"play-uuid": play["uuid"]})
    w.gone("segmentation segment get", {"segment-uuid": play["segmentUuid"]})
    assert play["workflowUuid"] not in {wf["uuid"] for wf in w.items("orchestration workflow list")}
    w.settle()
    assert w.item("orchestration batch get", {"batch-uuid": batch.job["uuid"]})["status"] == "cancelled"


# -- tools -----------------------------------------------------------------------------------
@cases.add(
    "orchestration tool create", "orchestration tool get", "orchestration tool update", "orchestration tool remove"
)
def _tool_lifecycle(w: World) -> None:
    trigger = {"type": "cron", "name": "Nightly", "cron": "0 2 * * *", "data": {"a": 1}, "description": None}
    tool = w.item(
        "orchestration tool create",
        {"name": "Times ten", "icon": {"kind": "emoji", "emojiSlug": "keycap_ten"}, "triggers": [trigger]},
    )
    assert (tool["name"], tool["icon"]["emojiSlug"], tool["isReadOnly"]) == ("Times ten", "keycap_ten", False)
    assert tool["triggers"][0]["cron"] == "0 2 * * *" and tool["triggers"][0]["temporalScheduleWorkflowId"]
    assert w.item("orchestration tool get", {"tool-uuid": tool["uuid"]}) == tool
    form = {
        "isEnabled": True,
        "allowedOrigins": ["https://acme.io"],
        "presentation": None,
        "spam": {"captchaProvider": None, "captchaSecret": None, "captchaSiteKey": None, "minFillMillis": 800},
    }
    updated = w.item("orchestration tool update", {"uuid": tool["uuid"], "name": "Times 10", "public-form": form})
    shown = {"isEnabled": True, "allowedOrigins": ["https://acme.io"], "spam": {"minFillMillis": 800}}  # nulls dropped
    assert (updated["name"], updated["publicForm"]) == ("Times 10", shown)

    # build and deploy its graph on the first draft, run it, remove the tool while a run waits
    wf = tool["workflowUuid"]
    start, end = w.item("orchestration draft-release get", {"workflow-uuid": wf})["nodes"]
    calc = {
        "uuid": "6a0b2c1e-1111-4aaa-8bbb-000000000010",
        "slug": "calc",
        "kind": "native",
        "actionSlug": "formula",
        "config": FORMULA["config"],
        "childrenUuids": [end["uuid"]],
        "fallbackOnFailure": False,
        "position": {"x": 0, "y": 60},
    }
    end["config"] = {"variables": [{"name": "result", "type": "number", "value": "{{nodes.calc.result}}"}]}
    nodes = [{**start, "childrenUuids": [calc["uuid"]]}, calc, end]
    w.run("orchestration draft-release deploy", {"workflow-uuid": wf, "nodes": nodes, "form-fields": []})
    done = w.run("orchestration run create", {"workflow-uuid": wf, "data": {"a": 4}, "wait-until-finished": True})
    assert done.job_status == "success"
    assert w.data("orchestration run get", {"run-uuid": done.job_id})["runContext"]["end"] == {"result": 40}
    waiting = w.run("orchestration run create", {"workflow-uuid": wf, "data": {"a": 5}})
    w.run("orchestration tool remove", {"tool-uuid": tool["uuid"]})
    w.gone("orchestration tool get", {"tool-uuid": tool["uuid"]})
    assert tool["uuid"] not in {t["uuid"] for t in w.items("orchestration tool list")}
    w.settle()
    assert w.data("orchestration run get", {"run-uuid": waiting.job_id})["run"]["status"] == "cancelled"
    assert (
        w.fails("orchestration run create", {"workflow-uuid": wf, "data": {"a": 1}}, 404).reason == "workflowNotFound"
    )


# -- looking before running ------------------------------------------------------------------
@cases.add("orchestration action get-output-schema")
def _output_schema(w: World) -> None:
    tool = w.item(
        "orchestration action get-output-schema",
        {"action": {"kind": "tool", "toolUuid": w.score_tool["uuid"], "config": {}}},
    )
    assert tool["properties"] == {"score": {"type": "number"}, "tier": {"type": "string"}}
    native = w.item("orchestration action get-output-schema", {"action": FORMULA})
    assert set(native["properties"]) == {"result"}
    slack = w.slack
    receipt = w.item(
        "orchestration action get-output-schema",
        {
            "action": {
                "kind": "connector",
                "integrationSlug": "slack",
                "actionSlug": next(iter(_actions(w, "slack"))),
                "connectorUuid": slack["uuid"],
                "config": {},
            }
        },
    )
    assert set(receipt["properties"]) == {"id", "status", "sandbox", "message"}
    # what a run of the action really outputs has the schema's keys
    ran = w.run("orchestration action execute", {"action": FORMULA, "data": {"a": 2}, "wait-until-finished": True})
    output = w.data("orchestration run get", {"run-uuid": ran.job_id})["runContext"]["action"]
    assert set(output) == set(native["properties"]) and output["result"] == 20
    missing = {"kind": "native", "actionSlug": "teleport", "config": {}}
    assert w.fails("orchestration action get-output-schema", {"action": missing}, 404).reason == "actionNotFound"


def _actions(w: World, integration: str) -> dict[str, Any]:
    actions: dict[str, Any] = w.item("connection integration get", {"slug": integration})["actions"]
    return actions


@cases.add("orchestration batch preview")
def _batch_preview(w: World) -> None:
    play = w.play
    segment = w.item("segmentation segment get", {"segment-uuid": play["segmentUuid"]})
    preview = w.data(
        "orchestration batch preview",
        {"workflow-uuid": play["workflowUuid"], "data": {"kind": "segment", "segmentUuid": segment["uuid"]}},
    )
    assert preview["count"] == segment["recordsCount"] and len(preview["records"]) == min(100, preview["count"])
    assert {"domain", "employees"} <= {c["slug"] for c in preview["columns"]}
    records = [{"id": "p1", "employees": 12}, {"id": "p2", "employees": 40}]
    inline = w.data(
        "orchestration batch preview", {"workflow-uuid": score_wf(w), "data": {"kind": "records", "records": records}}
    )
    assert (inline["count"], inline["records"]) == (2, records)
    assert inline["columns"] == [
        {"slug": "id", "label": "id", "type": "string"},
        {"slug": "employees", "label": "employees", "type": "number"},
    ]
    wrong = {"workflow-uuid": play["workflowUuid"], "data": {"kind": "records", "records": records}}
    assert w.fails("orchestration batch preview", wrong, 400).reason == "modelLinkedToWorkflow"
    assert w.items("orchestration batch list", {"workflow-uuids": [score_wf(w)]})  # nothing new was started
    before = {b["uuid"] for b in w.items("orchestration batch list", {"workflow-uuids": [score_wf(w)]})}
    w.data(
        "orchestration batch preview", {"workflow-uuid": score_wf(w), "data": {"kind": "records", "records": records}}
    )
    assert {b["uuid"] for b in w.items("orchestration batch list", {"workflow-uuids": [score_wf(w)]})} == before


# -- spans and traces ------------------------------------------------------------------------
@cases.add(
    "orchestration trace get",
    "orchestration trace list",
    "orchestration trace count",
    "orchestration span list",
    "orchestration span count",
)
def _telemetry(w: World) -> None:
    run = scored_run(w, "traced", 2600)
    full = w.data("orchestration run get", {"run-uuid": run["uuid"]})["run"]
    trace = w.item("orchestration trace get", {"trace-uuid": run["traceUuid"]})
    assert (trace["uuid"], trace["rootRunUuid"], trace["status"]) == (run["traceUuid"], run["uuid"], "success")
    assert trace["spansCount"] == trace["succeededSpansCount"] == len(full["executions"]) == 4
    since = trace["startedAt"]
    spans = w.data("orchestration span list", {"trace-uuid": trace["uuid"], "execution-started-after": since})
    assert spans["count"] == 4
    assert [s["nodeSlug"] for s in spans["spans"]] == ["start", "score", "is_hot", "end"]
    assert [s["executionIndex"] for s in spans["spans"]] == [0, 1, 2, 3]
    for span, execution in zip(spans["spans"], full["executions"], strict=True):
        assert span["executionStartedAt"] == execution["startedAt"] >= since
        assert span["executionFinishedAt"] >= span["executionStartedAt"]
        assert (span["runUuid"], span["recordId"], span["traceUuid"]) == (run["uuid"], "traced", trace["uuid"])
    assert spans["spans"][2]["nodeChildIndex"] == 0  # the branch took its yes path
    assert trace["finishedAt"] >= spans["spans"][-1]["executionFinishedAt"]

    listed = w.data("orchestration trace list", {"started-after": since, "workflow-uuid": score_wf(w)})
    assert run["uuid"] in {t["uuid"] for t in listed["traces"]} and listed["count"] >= 1
    counted = w.data("orchestration trace count", {"started-after": since, "workflow-uuid": score_wf(w)})
    assert counted["count"] == listed["count"]
    assert (
        w.data(
            "orchestration trace count", {"started-after": since, "statuses": ["error"], "workflow-uuid": score_wf(w)}
        )["count"]
        == 0
    )
    branch = {"execution-started-after": since, "record-id": "traced", "node-slug": "is_hot"}
    assert w.data("orchestration span count", branch)["count"] == 1
    assert w.data("orchestration span count", {**branch, "execution-statuses": ["error"]})["count"] == 0
    assert w.gone("orchestration trace get", {"trace-uuid": "00000000-0000-4000-8000-00000000dead"}) is None


# -- SQL over orchestration data -------------------------------------------------------------
@cases.add("orchestration query execute")
def _query(w: World) -> None:
    scored_run(w, "queried", 10)
    sql = f"SELECT count(*) AS n FROM orchestration.runs WHERE workflow_uuid = '{score_wf(w)}'"
    rows = w.data("orchestration query execute", {"sql": sql})["rows"]
    total = w.data("orchestration run count", {"workflow-uuid": score_wf(w)})["count"]
    assert rows == [{"n": total}]
    slugs = w.data(
        "orchestration query execute",
        {
            "sql": "SELECT node_slug, execution_status FROM orchestration.spans WHERE record_id = 'queried'"
            " ORDER BY execution_index"
        },
    )["rows"]
    assert slugs == [{"node_slug": s, "execution_status": "success"} for s in ("start", "score", "is_hot", "end")]
    refused = w.fails("orchestration query execute", {"sql": "DELETE FROM orchestration.runs"}, 400)
    assert refused.reason == "readOnlyQuery"


# -- exports of outputs ----------------------------------------------------------------------
@cases.add("orchestration run download-outputs", "orchestration record download-outputs")
def _outputs(w: World) -> None:
    run = scored_run(w, "exported", 2600)
    text = fetch_download(
        w, "orchestration run download-outputs", {"workflow-uuid": score_wf(w), "record-id": "exported"}
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["runUuid"], r["score"], r["tier"]) for r in rows] == [(run["uuid"], "62", "hot")]
    scores = json.loads(
        fetch_download(
            w,
            "orchestration record download-outputs",
            {"workflow-uuid": score_wf(w), "ids": ["exported"], "output-node-slug": "score", "format": "json"},
        )
    )
    assert scores == [
        {
            "runUuid": run["uuid"],
            "recordId": "exported",
            "recordTitle": "exported.io",
            "status": "success",
            "errorMessage": None,
            "output": {"score": 62, "domain": "exported.io"},
        }
    ]
    nothing = {"workflow-uuid": score_wf(w), "record-id": "never-ran"}
    assert w.fails("orchestration run download-outputs", nothing, 404).reason == "noRunsFound"
    typo = {"workflow-uuid": score_wf(w), "record-id": "exported", "output-node-slug": "scroe"}
    assert "scroe" in w.fails("orchestration run download-outputs", typo, 400).message


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
