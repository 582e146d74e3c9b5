"""CargoClient fast paths: response parsing equals the plain parse + null drop, URL reuse, secrets()."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cargo_shell.api.client import CargoClient, drop_nulls, parse_json
from cargo_shell.api.request import ApiRequest
from cargo_shell.errors import RequestError

KEYS = st.sampled_from(["a", "name", "runContext", "computedConfig", "testRecords", "nullable", "x y"])
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.just("null")
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(value=JSON, pad=st.sampled_from(["", " ", "\n"]))
def test_parse_json_is_the_plain_parse_without_nulls(value: Any, pad: str) -> None:
    body = (pad + json.dumps(value, ensure_ascii=False)).encode()
    assert parse_json(body) == drop_nulls(json.loads(body))


def test_parse_json_keeps_nulls_under_the_official_clients_keys() -> None:
    body = b'{"run": {"runContext": {"a": null}, "b": null}, "testRecords": null}'
    assert parse_json(body) == {"run": {"runContext": {"a": None}}, "testRecords": None}
    assert parse_json('{"a": null, "b": [null, {"c": null}]}'.encode("utf-16")) == {"b": [None, {}]}


def client(handler: Any, **kw: Any) -> CargoClient:
    return CargoClient(httpx.Client(transport=httpx.MockTransport(handler)), base_url="https://c.example", **kw)


def test_bodies_that_are_not_utf8_json_fall_back_to_the_declared_charset() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/latin":
            body = '{"name": "café", "gone": null}'.encode("latin-1")
            return httpx.Response(200, content=body, headers={"content-type": "application/json; charset=latin-1"})
        return httpx.Response(200, content=b"plain words")

    c = client(handler)
    assert c.send(ApiRequest("GET", "/latin")).data == {"name": "café"}
    assert c.send(ApiRequest("GET", "/text")).data == "plain words"


def test_error_bodies_are_kept_as_sent() -> None:
    c = client(lambda r: httpx.Response(400, json={"errorMessage": "bad", "reason": None, "extra": None}))
    with pytest.raises(RequestError) as info:
        c.send(ApiRequest("GET", "/x"))
    assert info.value.body == {"errorMessage": "bad", "reason": None, "extra": None}


def test_parsed_urls_are_reused_but_each_request_gets_its_own_url() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    c = client(handler)
    for i in range(300):
        c.send(ApiRequest("GET", f"/v1/items/{i}", query={"limit": i % 3}))
    c.send(ApiRequest("GET", "/v1/items/1", query={"limit": 1}))
    assert seen[:2] == ["https://c.example/v1/items/0?limit=0", "https://c.example/v1/items/1?limit=1"]
    assert seen[-1] == seen[1] and len(seen) == 301
    assert len(c._urls) <= 256


def test_headers_follow_a_workspace_change() -> None:
    seen: list[httpx.Request] = []
    c = client(lambda r: seen.append(r) or httpx.Response(200, json={}), token="tok-123456789", workspace_uuid="w1")
    c.send(ApiRequest("GET", "/a"))
    c.workspace_uuid = "w2"
    c.send(ApiRequest("GET", "/a"))
    assert [r.headers["selected-workspace-uuid"] for r in seen] == ["w1", "w2"]
    c.headers()["authorization"] = "changed"  # a copy each time
    assert c.headers()["authorization"] == "Bearer tok-123456789"


def test_secrets_names_the_token_only_when_there_is_one() -> None:
    assert client(lambda r: httpx.Response(200), token="tok-123456789").secrets() == ("tok-123456789",)
    assert client(lambda r: httpx.Response(200)).secrets() == ()
