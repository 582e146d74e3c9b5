from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.faults import ConnectionDropped, FaultSpec
from cargo_shell.sandbox.http import JsonResponse, Request, parse_query
from cargo_shell.sandbox.runtime import Sandbox

FOLDERS = "/v1/workspaceManagement/folders"


def test_missing_token_is_401_with_request_id(sandbox: Sandbox) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.app), base_url=sandbox.base_url) as client:
        response = client.get("/v1/storage/datasets/list")
        bad = client.get("/v1/storage/datasets/list", headers={"authorization": "Bearer cai_sandbox_nope"})
    assert response.status_code == 401 and bad.status_code == 401
    assert response.json()["errorMessage"] == "Unauthorized"
    assert response.headers["x-request-id"].startswith("req_")


def test_unknown_path_and_method(api: httpx.Client) -> None:
    response = api.get("/v1/nothing/here")
    assert response.status_code == 404 and response.json()["reason"] == "routeNotFound"
    assert api.patch("/v1/storage/datasets/list").status_code == 405


def test_wrong_workspace_header_is_403(api: httpx.Client) -> None:
    other = "00000000-0000-4000-8000-000000000000"
    assert api.get("/v1/storage/datasets/list", headers={"selected-workspace-uuid": other}).status_code == 403


def test_unexpected_error_is_json_500_without_traceback(api: httpx.Client, sandbox: Sandbox) -> None:
    def boom(req: Request) -> JsonResponse:
        raise RuntimeError("secret internals")

    sandbox.app.router.route("GET", "/v1/test/boom")(boom)
    response = api.get("/v1/test/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert response.json()["requestId"] == response.headers["x-request-id"]


def test_invalid_json_body_is_400(api: httpx.Client) -> None:
    response = api.post(FOLDERS, content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["errorMessage"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("statuses[]=a&statuses[]=b", {"statuses": ["a", "b"]}),
        ("filter[kind]=segment&filter[uuid]=x", {"filter": {"kind": "segment", "uuid": "x"}}),
        ("a[b][0]=x&a[b][1]=y&a[c]=z", {"a": {"b": ["x", "y"], "c": "z"}}),
        ("k=1&k=2&j=3", {"k": ["1", "2"], "j": "3"}),
        ("q=a+b%3Ac", {"q": "a b:c"}),
    ],
)
def test_bracket_query_parsing(query: str, expected: dict[str, Any]) -> None:
    assert parse_query(query) == expected


def test_fault_spec_parsing() -> None:
    spec = FaultSpec.parse("429=0.1,500=0.05,503=0.05,reset=0.02,latency=50ms,seed=7,retry-after=3")
    assert spec.probabilities == {"429": 0.1, "500": 0.05, "503": 0.05, "reset": 0.02}
    assert spec.latency_s == 0.05 and spec.retry_after_s == 3 and spec.seed == 7
    for bad in ("429=2", "boom=0.1", "429", "429=0.6,500=0.6"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_fault_429_and_503_carry_retry_after(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.app.faults = FaultSpec.parse("429=1,retry-after=2")
    response = api.get(FOLDERS + "/list")
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert response.json()["reason"] == "sandboxFault" and response.headers["x-request-id"]
    sandbox.app.faults = FaultSpec.parse("503=1")
    assert api.get(FOLDERS + "/list").headers["retry-after"] == "1"
    sandbox.app.faults = FaultSpec.parse("429=1,match=/v1/billing")
    assert api.get(FOLDERS + "/list").status_code == 200


def count_folders(api: httpx.Client) -> int:
    return len(api.get(FOLDERS + "/list").json()["folders"])


def test_fault_500_before_writes_nothing_and_500after_writes(api: httpx.Client, sandbox: Sandbox) -> None:
    start = count_folders(api)
    body = {"name": "Retried", "emojiSlug": "x", "kind": "tool"}
    sandbox.app.faults = FaultSpec.parse("500=1")
    assert api.post(FOLDERS, json=body).status_code == 500
    sandbox.app.faults = None
    assert count_folders(api) == start
    sandbox.app.faults = FaultSpec.parse("500after=1")
    assert api.post(FOLDERS, json=body).status_code == 500
    sandbox.app.faults = None
    assert count_folders(api) == start + 1  # the write happened although the client saw an error


def test_fault_reset_surfaces_as_transport_error(api: httpx.Client, sandbox: Sandbox) -> None:
    start = count_folders(api)
    sandbox.app.faults = FaultSpec.parse("reset=1")
    with pytest.raises(httpx.TransportError):
        api.post(FOLDERS, json={"name": "A", "emojiSlug": "x", "kind": "tool"})
    sandbox.app.faults = FaultSpec.parse("resetafter=1")
    with pytest.raises(ConnectionDropped):
        api.post(FOLDERS, json={"name": "B", "emojiSlug": "x", "kind": "tool"})
    sandbox.app.faults = None
    assert count_folders(api) == start + 1


def test_seeded_faults_are_deterministic(api: httpx.Client, sandbox: Sandbox) -> None:
    def statuses() -> list[int]:
        sandbox.app.faults = FaultSpec.parse("429=0.3,503=0.2,seed=11")
        return [api.get(FOLDERS + "/list").status_code for _ in range(30)]

    first = statuses()
    assert first == statuses()
    assert {200, 429, 503} == set(first)


def test_reopen_keeps_data_and_token(sandbox: Sandbox, fake_clock: Any) -> None:
    token, ws = sandbox.token, sandbox.workspace_uuid
    sandbox.close()
    again = Sandbox.open(sandbox.data_dir, clock=fake_clock)
    assert (again.token, again.workspace_uuid) == (token, ws)
    assert again.info() == {"baseUrl": "http://sandbox.local", "workspaceUuid": ws, "token": token}
    assert (sandbox.data_dir / "admin-token").stat().st_mode & 0o777 == 0o600
    again.close()
    fresh = Sandbox.open(sandbox.data_dir, clock=fake_clock, reset=True, token="cai_sandbox_given")
    assert fresh.token == "cai_sandbox_given" and fresh.workspace_uuid == ws  # deterministic seed
    with httpx.Client(
        transport=httpx.WSGITransport(app=fresh.app),
        base_url=fresh.base_url,
        headers={"authorization": "Bearer cai_sandbox_given"},
    ) as client:
        assert client.get(FOLDERS + "/list").status_code == 200
    fresh.close()


RECORDS = {"kind": "records", "records": [{}]}


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "/v1/storage/models/list", "a[%00]=x", None),
        ("GET", "/v1/storage/models/list", "filter" + "[a]" * 600 + "=x", None),
        ("POST", FOLDERS, "", b"[" * 100_000 + b"]" * 100_000),
        ("POST", FOLDERS, "", {"name": "n", "emojiSlug": "e", "kind": "tool", "parentUuid": {"a": 1}}),
        (
            "POST",
            "/v1/orchestration/batches",
            "",
            {"workflowUuid": ["x"], "data": {"kind": "records", "records": [{}]}},
        ),
        ("POST", "/v1/orchestration/batches", "", {"nodes": [True], "data": {"kind": "records", "records": [{}]}}),
        ("GET", "/v1/ai/chats/list", "limit=99999999999999999999", None),
        ("POST", "/v1/systemOfRecordIntegration/clients/fetch", "", {"query": "SELECT 1", "offset": 10**20}),
        ("POST", FOLDERS, "", b'{"name": NaN, "emojiSlug": "e", "kind": "tool"}'),
        ("POST", FOLDERS, "", b'{"name": "\\ud800", "emojiSlug": "e", "kind": "tool"}'),
    ],
    ids=[
        "nul-in-bracket-key",
        "brackets-600-deep",
        "json-100k-deep",
        "object-as-parent-uuid",
        "list-as-workflow-uuid",
        "nodes-true",
        "huge-limit",
        "huge-offset",
        "nan",
        "lone-surrogate",
    ],
)
def test_hostile_input_is_a_4xx_in_the_error_shape(
    api: httpx.Client, method: str, path: str, query: str, body: Any
) -> None:
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} if content else {}
    response = api.request(method, f"{path}?{query}" if query else path, content=content, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["errorMessage"] and response.json()["reason"]
