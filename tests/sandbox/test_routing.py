"""The sandbox router: literal segments beat parameters, UUID parameters take UUIDs, 404/405.

The walk over the official client's operations (``tests/client_facts``) checks every route of
every domain: a path asked the way the client asks it reaches the handler registered for that
operation, or no handler at all (an operation not served yet) — never another operation's.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.app import build_router
from cargo_shell.sandbox.http import ApiError, Request, Router
from cargo_shell.sandbox.runtime import Sandbox
from tests.client_facts.facts import Operation, load_facts

FACTS = load_facts()
ROUTER = build_router()
SOME_UUID = "0b6c9f3e-7d1a-4c52-9e8b-2f4a6d1c3e5f"


def _handler(name: str) -> Any:
    def handle(request: Request) -> dict[str, Any]:
        return {"handler": name, "params": request.path_params}

    return handle


def _router(*routes: tuple[str, str]) -> Router:
    router = Router()
    for method, template in routes:
        router.route(method, template)(_handler(f"{method} {template}"))
    return router


def _reached(router: Router, method: str, path: str) -> str | None:
    found = router.match(method, path)
    return None if found is None else found[0].template


# -- the router on its own --------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, -1], ids=["literal-first", "parameter-first"])
def test_a_literal_beats_a_parameter_in_whatever_order_they_were_registered(order: int) -> None:
    routes = [("GET", "/v1/things/existsBySlug"), ("GET", "/v1/things/{uuid}"), ("DELETE", "/v1/things/{uuid}")]
    router = _router(*routes[::order])
    assert _reached(router, "GET", "/v1/things/existsBySlug") == "/v1/things/existsBySlug"
    assert _reached(router, "GET", f"/v1/things/{SOME_UUID}") == "/v1/things/{uuid}"
    # the literal is reserved for every method: DELETE of it is not "remove the thing 'existsBySlug'"
    with pytest.raises(ApiError) as info:
        router.match("DELETE", "/v1/things/existsBySlug")
    assert (info.value.status, info.value.reason, info.value.headers) == (405, "methodNotAllowed", {"allow": "GET"})


def test_a_literal_is_never_taken_by_a_parameter_deeper_down() -> None:
    router = _router(("GET", "/v1/apps/list"), ("GET", "/v1/apps/{slug}/documentation"))
    assert _reached(router, "GET", "/v1/apps/crm/documentation") == "/v1/apps/{slug}/documentation"
    assert _reached(router, "GET", "/v1/apps/list/documentation") is None


def test_literal_precedence_is_per_segment_from_the_left() -> None:
    router = _router(("GET", "/v1/a/{x}/b"), ("GET", "/v1/a/c/{y}"))
    assert _reached(router, "GET", "/v1/a/c/b") == "/v1/a/c/{y}"
    assert _reached(router, "GET", "/v1/a/z/b") == "/v1/a/{x}/b"
    found = router.match("GET", "/v1/a/c/b")
    assert found is not None and found[1] == {"y": "b"}


def test_uuid_parameters_only_take_uuids() -> None:
    router = _router(("GET", "/v1/releases/{uuid}"), ("PUT", "/v1/users/{userUuid}"), ("GET", "/v1/kinds/{slug}"))
    assert _reached(router, "GET", "/v1/releases/deployed") is None  # a literal nobody serves yet
    assert "'deployed' is not a UUID" in router.why_not("/v1/releases/deployed")
    assert _reached(router, "PUT", "/v1/users/ada") is None
    found = router.match("GET", f"/v1/releases/{SOME_UUID.upper()}")
    assert found is not None and found[1] == {"uuid": SOME_UUID.upper()}
    assert _reached(router, "GET", "/v1/kinds/anything-at-all") == "/v1/kinds/{slug}"  # a slug is any word
    assert router.why_not("/v1/kinds/x/y") == ""


def test_parameter_names_may_differ_between_routes_of_one_place() -> None:
    router = _router(("GET", "/v1/connectors/{uuid}"), ("POST", "/v1/connectors/{connectorUuid}/autocomplete"))
    found = router.match("POST", f"/v1/connectors/{SOME_UUID}/autocomplete")
    assert found is not None and found[1] == {"connectorUuid": SOME_UUID}
    found = router.match("GET", f"/v1/connectors/{SOME_UUID}")
    assert found is not None and found[1] == {"uuid": SOME_UUID}


def test_empty_segments_and_unknown_paths_match_nothing() -> None:
    router = _router(("GET", "/v1/things/{uuid}"), ("GET", "/v1/things/list"))
    for path in ("/v1/things/", "/v1/things//", "/v1/things", "/v1/things/list/", "/v1//things/list", "/"):
        assert _reached(router, "GET", path) is None, path


def test_a_route_registered_twice_is_refused() -> None:
    router = _router(("GET", "/v1/things/{uuid}"))
    with pytest.raises(ValueError, match="two sandbox routes"):
        router.route("GET", "/v1/things/{thingUuid}")(_handler("again"))


# -- every operation of the official client -------------------------------------------------------
def _concrete(op: Operation) -> str:
    """The path as the client would send it: a UUID for ``{uuid}``-like parameters, a word otherwise."""
    return re.sub(r"{(\w+)}", lambda m: SOME_UUID if m.group(1).lower().endswith("uuid") else "sales", op.path)


def _shape(template: str) -> str:
    return re.sub(r"{\w+}", "{}", template)


def _with_literal_where_others_have_a_parameter() -> list[Operation]:
    """Operations whose path has a literal segment where another operation's path has a parameter."""
    out = []
    for op in FACTS:
        mine = op.path.split("/")
        for other in FACTS:
            theirs = other.path.split("/")
            if other is op or len(theirs) != len(mine):
                continue
            clash = False
            for a, b in zip(mine, theirs, strict=True):
                if b.startswith("{") and not a.startswith("{"):
                    clash = True
                elif a != b and not (a.startswith("{") or b.startswith("{")):
                    break
            else:
                if clash:
                    out.append(op)
                    break
    return out


CLASHING = _with_literal_where_others_have_a_parameter()
SERVED = {(r.method, _shape(r.template)) for r in ROUTER.routes}


def test_the_facts_have_literals_beside_parameters() -> None:
    paths = {op.path for op in CLASHING}
    assert {"/v1/storage/models/existsBySlug", "/v1/ai/releases/deployed", "/v1/storage/models/list"} <= paths
    assert len(CLASHING) >= 40


@pytest.mark.parametrize("op", list(FACTS), ids=lambda op: op.id)
def test_every_client_path_reaches_its_own_handler_or_none(op: Operation) -> None:
    """For every method any route has at this path: its own operation's route, a 405, or no route."""
    path = _concrete(op)
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE", op.method}):
        try:
            found = ROUTER.match(method, path)
        except ApiError as exc:
            assert exc.status == 405, (method, path)
            assert method != op.method or (op.method, _shape(op.path)) not in SERVED
            continue
        if found is None:
            assert (method, _shape(op.path)) not in SERVED or method != op.method, (method, path)
            continue
        reached = _shape(found[0].template)
        own = FACTS.for_request(method, path)
        assert own is not None and reached == _shape(own.path), f"{method} {path} reached {found[0].template}"


@pytest.mark.parametrize("op", CLASHING, ids=lambda op: op.id)
def test_a_literal_segment_is_never_swallowed_by_a_parameter(op: Operation) -> None:
    """Whatever the method, the route reached (if any) has a literal wherever this path has one."""
    path = _concrete(op)
    literals = [i for i, segment in enumerate(op.path.split("/")) if segment and not segment.startswith("{")]
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            found = ROUTER.match(method, path)
        except ApiError:
            continue  # 405: the path is known, for other methods
        if found is not None:
            template = found[0].template.split("/")
            swallowed = [template[i] for i in literals if template[i].startswith("{")]
            assert not swallowed, f"{method} {path} reached {found[0].template}"


# -- the app: 404 for any method on an unknown route, 405 for a known path, 401 first -------------
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "BREW"]


@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_route_is_404_route_not_found_whatever_the_method(api: httpx.Client, method: str) -> None:
    for path in ("/v1/nothing/here", "/v1/storage/models/not-a-uuid", "/v1/storage", "/elsewhere"):
        response = api.request(method, path)
        assert response.status_code == 404, (method, path, response.status_code)
        if method != "HEAD":
            body = response.json()
            assert body["reason"] == "routeNotFound" and method in body["errorMessage"], body


def test_the_404_says_when_a_uuid_was_expected(api: httpx.Client) -> None:
    body = api.get("/v1/storage/models/companies").json()
    assert body["reason"] == "routeNotFound"
    assert "'companies' is not a UUID" in body["errorMessage"]


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "BREW"])
def test_a_known_path_asked_with_another_method_is_405_with_allow(api: httpx.Client, method: str) -> None:
    response = api.request(method, "/v1/storage/datasets/list")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    body = response.json()
    assert body["reason"] == "methodNotAllowed" and "GET" in body["errorMessage"]
    response = api.request(method, f"/v1/storage/models/{uuid.uuid4()}")
    assert response.status_code == 405 and response.headers["allow"] == "DELETE, GET, PUT"


def test_unauthenticated_requests_get_401_before_404_or_405(sandbox: Sandbox) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.app), base_url=sandbox.base_url) as client:
        assert client.get("/v1/nothing/here").status_code == 401
        assert client.patch("/v1/storage/datasets/list").status_code == 401
        assert client.get("/elsewhere").status_code == 404  # outside /v1/ there is nothing to authenticate for


def test_exists_by_slug_is_no_longer_read_as_a_model_uuid(api: httpx.Client) -> None:
    """Before, GET /v1/storage/models/existsBySlug answered modelNotFound from the model handler."""
    response = api.get("/v1/storage/models/existsBySlug", params={"slug": "x", "datasetUuid": SOME_UUID})
    assert response.json().get("reason") != "modelNotFound", response.json()
