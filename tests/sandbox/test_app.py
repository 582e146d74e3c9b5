from __future__ import annotations

import httpx

from cargo_shell.sandbox.runtime import Sandbox


def test_missing_token_is_401_with_request_id(sandbox: Sandbox) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.app), base_url=sandbox.base_url) as client:
        response = client.get("/v1/storage/datasets/list")
    assert response.status_code == 401
    assert response.json()["errorMessage"] == "Unauthorized"
    assert response.headers["x-request-id"].startswith("req_")


def test_unknown_path_is_json_404(api: httpx.Client) -> None:
    response = api.get("/v1/nothing/here")
    assert response.status_code == 404
    assert response.json()["reason"] == "routeNotFound"


def test_wrong_workspace_header_is_403(api: httpx.Client) -> None:
    response = api.get(
        "/v1/nothing", headers={"selected-workspace-uuid": "00000000-0000-4000-8000-000000000000"}
    )
    assert response.status_code == 403
