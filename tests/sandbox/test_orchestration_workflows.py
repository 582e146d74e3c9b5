"""Releases, drafts, node validate/compute/execute, templates, expressions."""

from __future__ import annotations

import httpx
import pytest

from cargo_shell.sandbox.engine.expressions import ExpressionError, compute, evaluate
from tests.sandbox.orchestration_helpers import flaky_graph, node, tool


def test_draft_update_deploy_and_versions(api: httpx.Client) -> None:
    score = tool(api, "Score lead")
    wf = score["workflowUuid"]
    deployed = api.get("/v1/orchestration/releases/deployed", params={"workflowUuid": wf}).json()["release"]
    assert (deployed["status"], deployed["version"]) == ("deployed", "1.0.1")
    draft = api.get("/v1/orchestration/releases/draft", params={"workflowUuid": wf}).json()["release"]
    assert draft["status"] == "draft" and draft["nodes"] == deployed["nodes"]
    nodes = flaky_graph()
    updated = api.post("/v1/orchestration/releases/draft/update", json={"workflowUuid": wf, "nodes": nodes}).json()
    assert [n["slug"] for n in updated["release"]["nodes"]] == ["start", "ok", "call", "end"]
    refused = api.post(
        "/v1/orchestration/releases/draft/deploy", json={"workflowUuid": wf, "nodes": nodes, "formFields": None}
    )
    assert refused.json()["reason"] == "toolReleaseRequiresFormFields"
    bad = api.post(
        "/v1/orchestration/releases/draft/deploy", json={"workflowUuid": wf, "nodes": nodes[1:], "formFields": []}
    )
    assert bad.json()["reason"] == "draftReleaseNodesAreInvalid"
    numeric = api.post(
        "/v1/orchestration/releases/draft/deploy",
        json={"workflowUuid": wf, "nodes": nodes, "formFields": [], "version": 3},
    )
    assert numeric.json()["reason"] == "invalidReleaseVersion"
    ok = api.post(
        "/v1/orchestration/releases/draft/deploy", json={"workflowUuid": wf, "nodes": nodes, "formFields": []}
    )
    assert (ok.json()["release"]["status"], ok.json()["release"]["version"]) == ("deployed", "1.0.2")
    releases = api.get("/v1/orchestration/releases/list", params={"workflowUuid": wf}).json()["releases"]
    assert sorted(r["status"] for r in releases) == ["archived", "archived", "deployed"]
    got = api.get(f"/v1/orchestration/releases/{ok.json()['release']['uuid']}").json()["release"]
    assert got["formFields"] == []
    workflows = api.get("/v1/orchestration/workflows/list").json()["workflows"]
    assert next(w for w in workflows if w["uuid"] == wf)["deployedRelease"]["version"] == "1.0.2"


def test_node_validate_compute_execute(api: httpx.Client) -> None:
    valid = api.post("/v1/orchestration/nodes/validate", json={"nodes": flaky_graph()}).json()
    assert valid == {"outcome": "valid", "invalidNodes": []}
    broken = [*flaky_graph()[1:], node("x", "bad slug!", "end", [])]
    result = api.post("/v1/orchestration/nodes/validate", json={"nodes": broken}).json()
    reasons = {i["reason"] for i in result["invalidNodes"]}
    assert result["outcome"] == "notValid" and {"startNodeNotFound", "slugInvalid"} <= reasons
    connector = {**node("c", "enrich", "x", ["n-end"]), "kind": "connector", "integrationSlug": "clearbit",
                 "actionSlug": "enrichCompany", "connectorUuid": "00000000-0000-4000-8000-000000000000"}  # fmt: skip
    missing = api.post("/v1/orchestration/nodes/validate", json={"nodes": [*flaky_graph(), connector]}).json()
    assert missing["invalidNodes"][0]["reason"] == "connectorNotFound"
    config = {"condition": "{{nodes.start.n > 2}}", "label": "n is {{nodes.start.n}}"}
    computed = api.post(
        "/v1/orchestration/nodes/compute",
        json={"node": node("b", "b", "branch", ["x", "y"], config), "context": {"nodes": {"start": {"n": 3}}}},
    ).json()
    assert computed == {"computedConfig": {"condition": True, "label": "n is 3"}}
    wf = tool(api, "Enrich company")["workflowUuid"]
    enrich_node = api.get("/v1/orchestration/releases/deployed", params={"workflowUuid": wf}).json()["release"][
        "nodes"
    ][1]
    executed = api.post(
        "/v1/orchestration/nodes/execute",
        json={"workflowUuid": wf, "node": enrich_node, "computedConfig": {"domain": "acme.com"}, "context": {}},
    ).json()
    assert executed["status"] == "success" and executed["creditsUsedCount"] == 2
    assert executed["data"]["domain"] == "acme.com" and executed["data"]["employeeCount"] > 0
    again = api.post(
        "/v1/orchestration/nodes/execute",
        json={"workflowUuid": wf, "node": enrich_node, "computedConfig": {"domain": "acme.com"}, "context": {}},
    ).json()
    assert again["data"] == executed["data"]  # deterministic
    failed = api.post(
        "/v1/orchestration/nodes/execute",
        json={"workflowUuid": wf, "node": enrich_node, "computedConfig": {}, "context": {}},
    ).json()
    assert failed["status"] == "error" and "domain" in failed["message"]


def test_templates_and_lists(api: httpx.Client) -> None:
    templates = api.post("/v1/orchestration/templates/list", json={"kinds": ["tool"]}).json()["templates"]
    assert [t["slug"] for t in templates] == ["company-enrichment"]
    got = api.get("/v1/orchestration/templates/lead-scoring").json()["template"]
    assert got["kind"] == "play" and got["nodes"][0]["slug"] == "start"
    assert api.get("/v1/orchestration/templates/nope").json()["reason"] == "templateNotFound"
    tools = {t["name"] for t in api.get("/v1/orchestration/tools/list").json()["tools"]}
    assert tools == {"Score lead", "Enrich company", "Write back"}
    play = api.get("/v1/orchestration/plays/list").json()["plays"][0]
    assert play["name"] == "Score new companies" and play["isEnabled"] is True


def test_expression_language() -> None:
    scope = {"nodes": {"start": {"domain": "Acme.io", "n": 7, "tags": ["a", "b"], "empty": None}}}
    assert evaluate("nodes.start.n % 4 === 3 && nodes.start.tags.includes('b')", scope) is True
    assert evaluate("nodes.start.domain.toLowerCase().endsWith('.io') ? 'io' : 'other'", scope) == "io"
    assert evaluate("nodes.start.empty ?? nodes.start.missing?.deep ?? 'fallback'", scope) == "fallback"
    assert evaluate("Math.max(1, nodes.start.n, 3) - -1", scope) == 8
    assert compute({"v": {"kind": "jsExpression", "expression": "[nodes.start.n, 'x']"}}, scope) == {"v": [7, "x"]}
    assert compute("{{nodes.start.tags}} / {{nodes.start.missing}}", scope) == "a,b / "
    for unsafe in ("__import__('os')", "nodes.start.constructor.constructor('x')()", "eval('1')", "nodes.start.n ="):
        with pytest.raises(ExpressionError):
            evaluate(unsafe, scope)
