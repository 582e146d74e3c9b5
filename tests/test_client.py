"""CargoClient: headers, base URL semantics, error mapping and streamed downloads."""

from __future__ import annotations

import io

import httpx
import pytest

from cargo_shell import __version__
from cargo_shell.api.client import CargoClient, drop_nulls, normalise_base_url
from cargo_shell.api.request import ApiRequest
from cargo_shell.errors import (
    AmbiguousNetworkError,
    AuthError,
    ConnectError,
    RequestError,
    ServerError,
)


def client_for(handler: object, **kw: object) -> CargoClient:
    return CargoClient(httpx.Client(transport=httpx.MockTransport(handler)), token="t0k", **kw)  # type: ignore[arg-type]


def test_headers_and_base_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    c = client_for(handler, base_url="https://cargo.example/v1/", workspace_uuid="ws-1")
    c.send(ApiRequest("GET", "/v1/storage/models/list"))
    req = seen[0]
    assert str(req.url) == "https://cargo.example/v1/storage/models/list"
    assert req.headers["authorization"] == "Bearer t0k"
    assert req.headers["selected-workspace-uuid"] == "ws-1"
    assert req.headers["x-cargo-origin"] == "cargo-shell"
    assert req.headers["x-cargo-origin-version"] == __version__
    assert "content-type" not in req.headers


def test_workspace_header_omitted_when_unknown() -> None:
    seen: list[httpx.Request] = []
    c = client_for(lambda r: seen.append(r) or httpx.Response(200, json={}))
    c.send(ApiRequest("POST", "/v1/x", json={"a": 1}))
    assert "selected-workspace-uuid" not in seen[0].headers
    assert seen[0].headers["content-type"] == "application/json"
    assert seen[0].content == b'{"a":1}'


@pytest.mark.parametrize(
    ("status", "body", "cls", "reason"),
    [
        (401, {"errorMessage": "Unauthorized"}, AuthError, None),
        (400, {"errorMessage": "Bad filter", "reason": "invalidFilter"}, RequestError, "invalidFilter"),
        (400, {"errorMessage": "No records", "dataError": {"reason": "noRecords"}}, RequestError, "noRecords"),
        (404, {}, RequestError, None),
        (500, "<html>oops</html>", ServerError, None),
        (499, {}, ServerError, None),
    ],
)
def test_error_mapping(status: int, body: object, cls: type, reason: str | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"x-request-id": "r-9"})
        return httpx.Response(status, json=body, headers={"x-request-id": "r-9"})

    with pytest.raises(cls) as info:
        client_for(handler).send(ApiRequest("GET", "/v1/x"))
    err = info.value
    assert err.status == status  # type: ignore[attr-defined]
    assert err.reason == reason  # type: ignore[attr-defined]
    assert err.request_id == "r-9"  # type: ignore[attr-defined]
    assert err.message


def test_retry_after_is_parsed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"errorMessage": "slow down"}, headers={"retry-after": "3"})

    with pytest.raises(RequestError) as info:
        client_for(handler).send(ApiRequest("GET", "/v1/x"))
    assert info.value.retry_after == 3.0


def test_connect_error_is_known_not_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ConnectError) as info:
        client_for(handler).send(ApiRequest("POST", "/v1/orchestration/batches", json={}))
    assert info.value.never_sent


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_mid_request_failures_are_ambiguous(exc: type[httpx.TransportError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("broken", request=request)

    with pytest.raises(AmbiguousNetworkError) as info:
        client_for(handler).send(ApiRequest("POST", "/v1/orchestration/batches", json={}))
    assert not info.value.never_sent


def test_download_streams_without_auth_header() -> None:
    chunks = [b"a" * 65536 for _ in range(20)]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=httpx.ByteStream(b"".join(chunks)))

    sink = io.BytesIO()
    written = client_for(handler).stream_url("https://signed.example/file?sig=abc", sink)
    assert written == 20 * 65536 == len(sink.getvalue())
    assert "authorization" not in seen[0].headers


def test_drop_nulls_keeps_run_context() -> None:
    data = {"a": None, "b": {"c": None, "runContext": None}, "l": [{"d": None, "e": 1}]}
    assert drop_nulls(data) == {"b": {"runContext": None}, "l": [{"e": 1}]}


def test_normalise_base_url() -> None:
    assert normalise_base_url("https://api.getcargo.io/") == "https://api.getcargo.io"
    assert normalise_base_url("http://127.0.0.1:8787/v1") == "http://127.0.0.1:8787"
