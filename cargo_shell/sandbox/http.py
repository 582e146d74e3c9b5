"""Request/response primitives of the sandbox WSGI app: errors, request parsing, routing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from cargo_shell.sandbox.db import Database


class ApiError(Exception):
    """An error answered as ``{"errorMessage": ..., "reason": ...}`` with the given status."""

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errorMessage": self.message, "reason": self.reason, **self.extra}


def not_found(what: str, reason: str | None = None) -> ApiError:
    return ApiError(404, f"{what} not found", reason or "notFound")


def bad_request(message: str, reason: str | None = "invalidRequest") -> ApiError:
    return ApiError(400, message, reason)


#: Refusals of what needs an outside service. A 4xx, not 501: clients (ours included) retry
#: 5xx answers or report a write as "may have happened", and neither is true of a refusal.
UNAVAILABLE_STATUS = 422


def unavailable(what: str) -> ApiError:
    """The sandbox cannot reach the outside service this command needs."""
    return ApiError(
        UNAVAILABLE_STATUS,
        f"{what} is not available in the sandbox: it needs an external service the sandbox cannot reach",
        "unavailableInSandbox",
    )


@dataclass
class Ctx:
    """What a handler knows about the caller and the app."""

    db: Database
    workspace_uuid: str
    user_uuid: str
    token_uuid: str
    clock: Callable[[], float]
    engine: Any = None
    base_url: str = "http://sandbox.local"
    is_admin: bool = True


@dataclass
class Request:
    method: str
    path: str
    path_params: dict[str, str]
    query: dict[str, Any]
    json: Any
    files: dict[str, tuple[str, bytes, str]]
    headers: dict[str, str]
    ctx: Ctx
    form: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The JSON body as an object (``{}`` when absent); 400 when it is not an object."""
        if self.json is None:
            return {}
        if not isinstance(self.json, dict):
            raise bad_request("The request body must be a JSON object")
        return self.json


@dataclass
class JsonResponse:
    obj: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    iterable: Iterable[bytes]
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


Handler = Callable[[Request], "JsonResponse | StreamResponse | dict[str, Any]"]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.template))


_UUID_VALUE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid_param(name: str) -> bool:
    """``{uuid}``, ``{userUuid}``, ``{connectorUuid}``...: parameters that only ever hold a UUID."""
    return name == "uuid" or name.endswith("Uuid")


@dataclass
class _Node:
    """One path segment: literal children, one parameter child, and the routes ending here by method."""

    literals: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    routes: dict[str, Route] = field(default_factory=dict)


class Router:
    """Path templates with ``{name}`` parameters, matched one segment at a time.

    A literal segment beats a parameter wherever either is registered: once a segment equals a
    literal registered at that place (by any route, any method), only that literal's branch is
    followed, so ``/models/existsBySlug`` never reaches ``/models/{uuid}``. A parameter named
    ``uuid`` or ``...Uuid`` only takes a UUID, so a literal no route serves yet (or a typo) is no
    route at all instead of "object not found" from the wrong handler. A known path asked with a
    method it does not have is a 405 naming the methods it has.
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._root = _Node()

    def route(self, method: str, template: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.add(Route(method.upper(), template, handler, auth))
            return handler

        return decorator

    def add(self, route: Route) -> None:
        node = self._root
        for segment in _segments(route.template):
            if segment.startswith("{") and segment.endswith("}"):
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.literals.setdefault(segment, _Node())
        if route.method in node.routes:
            raise ValueError(f"two sandbox routes for {route.method} {route.template}")
        node.routes[route.method] = route
        self.routes.append(route)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for the request and its path parameters; None when no route has this path,
        405 (``methodNotAllowed``, with ``Allow``) when routes have it for other methods only."""
        walked = self._walk(path)
        if walked is None:
            return None
        node, values = walked
        fitting = {m: r for m, r in node.routes.items() if _fits(r, values)}
        if not fitting:
            return None
        route = fitting.get(method)
        if route is None:
            allowed = ", ".join(sorted(fitting))
            raise ApiError(
                405,
                f"{path} does not take {method}; it takes {allowed}",
                "methodNotAllowed",
                headers={"allow": allowed},
            )
        return route, dict(zip(route.param_names, values, strict=True))

    def why_not(self, path: str) -> str:
        """Why no route has this path, for the 404 message: a value where a UUID belongs."""
        walked = self._walk(path)
        if walked is None:
            return ""
        node, values = walked
        for route in node.routes.values():
            for name, value in zip(route.param_names, values, strict=True):
                if is_uuid_param(name) and not _UUID_VALUE.match(value):
                    return f" ({value!r} is not a UUID, and no route has the segment {value!r} there)"
        return ""

    def _walk(self, path: str) -> tuple[_Node, list[str]] | None:
        """The node the path ends at (a literal segment never falls back to a parameter) and the
        values taken by parameters on the way."""
        node = self._root
        values: list[str] = []
        for segment in _segments(path):
            literal = node.literals.get(segment)
            if literal is not None:
                node = literal
            elif node.param is not None and segment:
                values.append(segment)
                node = node.param
            else:
                return None
        return node, values


def _segments(path: str) -> list[str]:
    return path.removeprefix("/").split("/")


def _fits(route: Route, values: list[str]) -> bool:
    """Whether the values taken by the route's parameters have their kinds (a UUID where one belongs)."""
    return all(
        _UUID_VALUE.match(value) or not is_uuid_param(name)
        for name, value in zip(route.param_names, values, strict=True)
    )


#: Limits of what a request may carry; past them the answer is a 400, never a 500.
MAX_QUERY_PARAMS = 1000
MAX_BRACKET_DEPTH = 10
MAX_JSON_DEPTH = 64
INT64 = (-(2**63), 2**63 - 1)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_APPEND = object()  # the key of an ``a[]`` slot: never equal to a key the client sent


def parse_query(query_string: str) -> dict[str, Any]:
    """Decode the official client's bracket encoding into nested dicts and lists.

    ``a[]=x&a[]=y`` -> list, ``a[b]=v`` -> dict, ``a[b][0]=v`` -> list inside a dict,
    a repeated plain key -> list. Control characters in a key, more than
    ``MAX_BRACKET_DEPTH`` brackets or ``MAX_QUERY_PARAMS`` parameters are a 400.
    """
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_QUERY_PARAMS)
    except ValueError:
        raise bad_request(f"The query string has more than {MAX_QUERY_PARAMS} parameters", "invalidQuery") from None
    root: dict[Any, Any] = {}
    for key, value in pairs:
        if _CONTROL.search(key):
            raise bad_request(f"Query parameter {key!r} contains a control character", "invalidQuery")
        head, _, rest = key.partition("[")
        parts: list[Any] = [head] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
        if len(parts) > MAX_BRACKET_DEPTH + 1:
            raise bad_request(
                f"Query parameter {head!r} is nested more than {MAX_BRACKET_DEPTH} levels deep", "invalidQuery"
            )
        node: dict[Any, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = (_APPEND, len(node))  # an "append" slot, kept in order
            if last:
                if part in node and i == 0:
                    prev = node[part]
                    node[part] = [*prev, value] if isinstance(prev, list) else [prev, value]
                else:
                    node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return {(k if isinstance(k, str) else str(k[1])): _listify(v) for k, v in root.items()}


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    keys = list(converted)
    if keys and all(isinstance(k, tuple) or (k.isdigit() and len(k) <= 6) for k in keys):
        ordered = sorted(keys, key=lambda k: k[1] if isinstance(k, tuple) else int(k))
        return [converted[k] for k in ordered]
    return {(f"{k[1]}" if isinstance(k, tuple) else k): v for k, v in converted.items()}


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, tuple[str, bytes, str]], dict[str, str]]:
    """Split a multipart/form-data body into file parts and plain form fields."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    files: dict[str, tuple[str, bytes, str]] = {}
    form: dict[str, str] = {}
    if not message.is_multipart():
        raise bad_request("Malformed multipart body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, data, part.get_content_type())
        else:
            form[name] = data.decode("utf-8", "replace")
    return files, form


def parse_json_body(body: bytes) -> Any:
    """The JSON body; 400 unless it is valid JSON (no NaN/Infinity) of depth <= ``MAX_JSON_DEPTH``,
    with integers that fit in 64 bits and strings that are valid Unicode."""
    if not body.strip():
        return None
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise bad_request(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from None
    check_json_value(value)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_json_value(value: Any, where: str = "The request body") -> None:
    """400 when ``value`` nests deeper than ``MAX_JSON_DEPTH``, holds an integer beyond 64 bits or a
    string that is not valid Unicode (a lone surrogate): none of them can be stored."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise bad_request(f"{where} is nested more than {MAX_JSON_DEPTH} levels deep")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    _check_text(key, where)
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, int) and not isinstance(item, bool) and not INT64[0] <= item <= INT64[1]:
            raise bad_request(f"{where} holds the number {item}, which does not fit in 64 bits")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f"{where} holds a string that is not valid Unicode (a lone surrogate)") from None
