"""Fuzz the sandbox WSGI app: whatever a client sends, the answer is never a 500.

Every route of the app is driven in-process (the WSGI callable with a hand-built environ, as a
server would call it) with generated paths, bracket query strings, headers and JSON bodies:
bodies start from plausible values of the route's fields (names and types from the registry,
ids from the seeded data) and have some fields replaced by values of the wrong type, nesting,
huge numbers and control characters. Raw bodies, query strings and headers get their own tests.

Examples are derandomized, so CI runs the same cases every time; set ``SANDBOX_FUZZ_EXPLORE=1``
for random examples (and ``SANDBOX_FUZZ_EXAMPLES=N`` for more of them; ``SANDBOX_FUZZ_NO_SHRINK=1``
reports failures without shrinking them, faster while fixing).
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cargo_shell.registry import get_registry
from cargo_shell.registry.spec import ArgSpec
from cargo_shell.sandbox.app import build_router
from cargo_shell.sandbox.http import Route
from cargo_shell.sandbox.runtime import Sandbox
from tests.support import FakeClock, open_copy

EXPLORE = bool(os.environ.get("SANDBOX_FUZZ_EXPLORE"))
EXAMPLES = int(os.environ.get("SANDBOX_FUZZ_EXAMPLES", "0")) or None


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=EXAMPLES or examples,
        derandomize=not EXPLORE,
        phases=[Phase.explicit, Phase.generate] if os.environ.get("SANDBOX_FUZZ_NO_SHRINK") else list(Phase),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


ROUTES: list[Route] = build_router().routes


def _route_id(route: Route) -> str:
    return f"{route.method} {route.template}"


# -- what the registry says each route takes ---------------------------------------------
def _args_by_route() -> dict[tuple[str, str], list[ArgSpec]]:
    found: dict[tuple[str, str], list[ArgSpec]] = {}
    for spec in get_registry():
        if spec.http is None:
            continue
        key = (spec.http.method.upper(), re.sub(r"{\w+}", "{}", spec.http.path))
        for arg in spec.args:
            if arg.sent and arg.location != "path":
                found.setdefault(key, []).append(arg)
    return found


ARGS = _args_by_route()
FIELD_NAMES = sorted({(a.field or a.name).split(".")[0] for args in ARGS.values() for a in args})
#: keys of nested platform objects (filters, nodes, icons, parts ...), to build deeper bodies
STRUCTURE_KEYS = [
    "kind", "uuid", "slug", "name", "type", "config", "value", "values", "operator", "columnSlug",
    "conjonction", "groups", "conditions", "nodes", "node", "edges", "childrenUuids", "sourceUuid",
    "targetUuid", "parts", "text", "actions", "resources", "columns", "label", "expression", "color",
    "face", "trigger", "mode", "data", "records", "filter", "sort", "limit", "offset", "modelUuid",
]  # fmt: skip


def _route_args(route: Route) -> list[ArgSpec]:
    return ARGS.get((route.method, re.sub(r"{\w+}", "{}", route.template)), [])


# -- ids and slugs of the seeded workspace -----------------------------------------------
@dataclass
class Pools:
    by_stem: dict[str, list[str]]
    ids: list[str]
    slugs: list[str]
    token: str
    workspace: str

    def for_name(self, name: str) -> list[str]:
        return self.by_stem.get(_stem(name), self.ids)


def _stem(name: str) -> str:
    text = re.sub(r"(?i)uuid$|_uuid$|^(ai|wf)_", "", name)
    text = re.sub(r"[^a-z0-9]", "", text.lower())
    return re.sub(r"(es|s)$", "", text) if text.endswith(("ches", "ses")) else text.rstrip("s")


def _pools(box: Sandbox) -> Pools:
    """Ids and slugs by kind; never the fuzzing token, its user or its workspace (a generated
    ``DELETE /tokens/{uuid}`` that hit them would turn every later example into a 401)."""
    conn = sqlite3.connect(box.data_dir / "sandbox.db")
    own = {box.workspace_uuid}
    own |= {r[0] for r in conn.execute("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'")}
    own |= {r[0] for r in conn.execute("SELECT uuid FROM tokens WHERE user_uuid IN (SELECT value FROM sandbox_meta)")}
    by_stem: dict[str, set[str]] = {}
    slugs: set[str] = set()
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        for column in columns:
            if not (column.endswith("uuid") or column in ("slug", "mem0_id")):
                continue
            rows = conn.execute(f'SELECT DISTINCT "{column}" FROM "{table}" LIMIT 20')
            values = {str(r[0]) for r in rows if r[0]} - own
            if column == "slug":
                slugs |= values
                continue
            stem = _stem(table) if column in ("uuid", "mem0_id") else _stem(column)
            by_stem.setdefault(stem, set()).update(values)
    conn.close()
    ids = sorted({v for values in by_stem.values() for v in values})
    return Pools({k: sorted(v) for k, v in by_stem.items()}, ids, sorted(slugs), box.token, box.workspace_uuid)


@pytest.fixture(scope="module")
def fuzz_box(tmp_path_factory: pytest.TempPathFactory, seeded_sandbox_template: Path) -> Iterator[Sandbox]:
    box = open_copy(seeded_sandbox_template, tmp_path_factory.mktemp("fuzz"), FakeClock())
    yield box
    still = call(box, "GET", "/v1/userManagement/users/current", headers=auth(_pools(box)))
    box.close()
    assert still.status == 200, "the fuzzing token stopped working: later examples proved nothing"


@pytest.fixture(scope="module")
def pools(fuzz_box: Sandbox) -> Pools:
    return _pools(fuzz_box)


# -- values ------------------------------------------------------------------------------
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\n",
        "..",
        "../../etc",
        "%00",
        "é",
        "x" * 5000,
        "[]",
        "{}",
        "null",
        "SELECT 1",
        "SELECT x'00ff' AS b",
        "SELECT zeroblob(4) AS z, 1.5 AS f",
        "SELECT * FROM datasets_crm.models_contacts",
        "1; DROP TABLE models",
        "2024-13-45",
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
    ]
)
SQL = st.sampled_from(
    [
        "SELECT 1 AS one",
        "SELECT x'00ff' AS b",
        "SELECT zeroblob(3) AS z, NULL AS n, 1.5 AS f",
        "SELECT randomblob(4)",
        "SELECT * FROM datasets_crm.models_contacts LIMIT 5",
        "SELECT name FROM sqlite_master",
        "SELECT 9223372036854775807",
        "SELECT",
        "DELETE FROM datasets_crm.models_contacts",
        "SELECT 1; SELECT 2",
        "PRAGMA table_info(x)",
    ]
)
HUGE_NUMBERS = st.sampled_from([2**63, -(2**63) - 1, 10**20, -(10**20), 2**64, 10**400, 1e308, -1e-308, 0.5, -1])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), HUGE_NUMBERS, st.floats(allow_nan=False),
    st.text(max_size=20), NASTY_TEXT,
)  # fmt: skip
KEYS = st.one_of(st.sampled_from(FIELD_NAMES + STRUCTURE_KEYS), st.text(max_size=8))
JSON_VALUES = st.recursive(
    SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(KEYS, kids, max_size=5)),
    max_leaves=12,
)


def _deep(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


DEEP_VALUES = st.builds(_deep, st.sampled_from([40, 200, 600]), st.sampled_from(["list", "dict"]))


def plausible(arg: ArgSpec, pools: Pools) -> st.SearchStrategy[Any]:
    """A value of the right type for the field (what a well-behaved client sends)."""
    name = (arg.field or arg.name).split(".")[-1]
    if arg.type == "uuid":
        return st.sampled_from(pools.for_name(name) or ["00000000-0000-4000-8000-000000000000"])
    if arg.type == "int":
        return st.integers(0, 200)
    if arg.type == "number":
        return st.floats(0, 2, allow_nan=False)
    if arg.type == "bool":
        return st.booleans()
    if arg.type == "enum" and arg.values:
        return st.sampled_from(arg.values)
    if arg.type == "list":
        items = st.sampled_from(arg.item_values) if arg.item_values else st.text(max_size=10)
        return st.lists(items, max_size=3)
    if arg.type == "date":
        return st.sampled_from(["2025-01-01", "2025-01-15T10:00:00.000Z"])
    if arg.type == "json":
        return st.one_of(st.dictionaries(KEYS, JSON_VALUES, max_size=4), st.lists(JSON_VALUES, max_size=3))
    if name.lower().endswith("slug"):
        return st.sampled_from(pools.slugs or ["x"])
    if name in ("query", "sql"):
        return SQL
    return st.one_of(st.text(min_size=1, max_size=12), NASTY_TEXT)


HOSTILE = st.one_of(SCALARS, JSON_VALUES, DEEP_VALUES, st.lists(st.booleans(), min_size=1, max_size=2), st.just({}))


@st.composite
def bodies(draw: st.DrawFn, args: list[ArgSpec], pools: Pools) -> Any:
    """A body of the route's fields, some of them (maybe all) given a value of the wrong shape."""
    if not args or draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.dictionaries(KEYS, JSON_VALUES, max_size=5), JSON_VALUES))
    body: dict[str, Any] = {}
    for arg in args:
        if arg.required or draw(st.booleans()):
            value = draw(HOSTILE) if draw(st.integers(0, 3)) == 0 else draw(plausible(arg, pools))
            parts = (arg.field or arg.name).split(".")
            node = body
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                node = child if isinstance(child, dict) else {}
            node[parts[-1]] = value
    return body


def _path_value(name: str, route: Route, pools: Pools) -> st.SearchStrategy[str]:
    segment = route.template.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[-1]
    known = pools.slugs if "slug" in name.lower() else pools.by_stem.get(_stem(segment), pools.for_name(name))
    return st.one_of(
        st.sampled_from(known or pools.ids),
        st.sampled_from(pools.ids),
        NASTY_TEXT.filter(lambda t: t and "/" not in t),
        st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t),
    )


def _query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)


def query_pairs(args: list[ArgSpec], pools: Pools) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = [a.field or a.name for a in args if a.location == "query"] or ["limit", "offset"]
    values = st.one_of(
        st.integers(-5, 300).map(str), st.sampled_from(pools.ids), st.text(max_size=12),
        st.sampled_from(["99999999999999999999", "-1", "1e3", "true", "", "\x00", "null"]),
    )  # fmt: skip
    keys = st.one_of(st.sampled_from(names), st.sampled_from(names).map(lambda n: n + "[]"))
    return st.lists(st.tuples(keys, values), max_size=4)


# -- calling the app ---------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    body: bytes


def call(
    box: Sandbox,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8", "surrogatepass").decode("latin-1"),  # PEP 3333: bytes as latin-1
        "QUERY_STRING": query,
        "SERVER_NAME": "sandbox.local",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(len(body)) if body else "",
    }
    for key, value in (headers or {}).items():
        if key.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + key.upper().replace("-", "_")] = value
    seen: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Any:
        seen.append(status)
        return lambda _data: None

    chunks = box.app(environ, start_response)
    try:
        payload = b"".join(chunks)  # a stream that fails half-way is as bad as a 500
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
    return Answer(int(seen[0].split()[0]), payload)


def assert_no_server_error(answer: Answer, what: str) -> None:
    assert answer.status < 500, f"{what} -> {answer.status}: {answer.body[:300]!r}"
    if answer.status >= 400:
        assert "errorMessage" in json.loads(answer.body), what


def auth(pools: Pools) -> dict[str, str]:
    return {"authorization": f"Bearer {pools.token}", "selected-workspace-uuid": pools.workspace}


def _follow_downloads(box: Sandbox, answer: Answer, pools: Pools) -> None:
    """Download URLs handed out must download (the CSV of any query included)."""
    try:
        urls = json.loads(answer.body).get("urls") if answer.status == 200 else None
    except (ValueError, AttributeError):
        return
    for url in urls or []:
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
        got = call(box, "GET", path.split("?")[0], query=path.partition("?")[2])
        assert_no_server_error(got, f"GET {url}")


# -- the tests ---------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_route_never_answers_500(route: Route, fuzz_box: Sandbox, pools: Pools) -> None:
    args = _route_args(route)
    names = re.findall(r"{(\w+)}", route.template)

    @fuzz_settings(15)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path = route.template
        for name in names:
            path = path.replace("{" + name + "}", data.draw(_path_value(name, route, pools)), 1)
        query = _query_string(data.draw(query_pairs(args, pools)))
        headers = auth(pools)
        payload = b""
        if route.method in ("POST", "PUT", "DELETE", "PATCH"):
            payload = json.dumps(data.draw(bodies(args, pools))).encode()
            headers["content-type"] = "application/json"
        answer = call(fuzz_box, route.method, path, query=query, body=payload, headers=headers)
        assert_no_server_error(answer, f"{route.method} {path}?{query} {payload[:300]!r}")
        _follow_downloads(fuzz_box, answer, pools)

    check()


BRACKET_KEYS = st.one_of(
    st.builds(lambda head, parts: head + "".join(f"[{p}]" for p in parts), KEYS, st.lists(st.text(max_size=4))),
    st.builds(lambda n: "filter" + "[a]" * n, st.sampled_from([1, 30, 600, 5_000])),
    st.builds(lambda n: "a" + "[]" * n, st.sampled_from([2, 600])),
    st.sampled_from(
        ["a[\x00]", "a[\x00][b]", "a[0]", "a[-1]", "a[99999999999999999999]", "a[", "a]", "[", "[]", "a[]b"]
    ),
    st.text(max_size=10),
)


@fuzz_settings(100)
@given(route=st.sampled_from([r for r in ROUTES if r.method == "GET" and "{" not in r.template]), data=st.data())
def test_query_strings_never_answer_500(route: Route, data: st.DataObject, fuzz_box: Sandbox, pools: Pools) -> None:
    pairs = data.draw(st.lists(st.tuples(BRACKET_KEYS, st.text(max_size=10)), max_size=5))
    query = data.draw(st.one_of(st.just(_query_string(pairs)), st.text(max_size=40)))
    answer = call(fuzz_box, "GET", route.template, query=query, headers=auth(pools))
    assert_no_server_error(answer, f"GET {route.template}?{query[:300]}")


RAW_BODIES = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda n, o, c: (o * n + c * n).encode(), st.sampled_from([10, 1_500, 100_000]), *([st.just("[")] * 1),
              st.just("]")),
    st.builds(lambda n: ('{"a":' * n + "1" + "}" * n).encode(), st.sampled_from([1_500, 100_000])),
    st.sampled_from([b"NaN", b'{"limit": Infinity}', b'{"name": NaN}', b"\xff\xfe", b'"\\ud800"', b"1e999999",
                     b'{"a": 1, "a": 2}', b"[", b"{}" * 3]),
)  # fmt: skip


@fuzz_settings(100)
@given(route=st.sampled_from([r for r in ROUTES if r.method in ("POST", "PUT")]), raw=RAW_BODIES)
def test_raw_bodies_never_answer_500(route: Route, raw: bytes, fuzz_box: Sandbox, pools: Pools) -> None:
    path = re.sub(r"{\w+}", pools.ids[0], route.template)
    headers = {**auth(pools), "content-type": "application/json"}
    answer = call(fuzz_box, route.method, path, body=raw, headers=headers)
    assert_no_server_error(answer, f"{route.method} {path} {raw[:200]!r}")


HEADER_VALUES = st.one_of(
    st.text(max_size=30), NASTY_TEXT, st.sampled_from(["Bearer", "Bearer ", "bearer x", "Basic x"])
).map(lambda v: v.encode("utf-8", "surrogatepass").decode("latin-1"))  # what a server hands over: bytes as latin-1
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data;"
     " boundary=xyz", "application/json; charset=latin-1", "", "\x00"]
)  # fmt: skip


@st.composite
def multipart_bodies(draw: st.DrawFn) -> bytes:
    parts = []
    for name in draw(st.lists(st.sampled_from(["file", "folderUuid", "uuid", "name", "x", ""]), max_size=3)):
        filename = draw(st.one_of(st.none(), st.text(max_size=8)))
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        content = draw(st.binary(max_size=20))
        parts.append(b"--xyz\r\nContent-Disposition: " + disposition.encode("utf-8", "replace") + b"\r\n\r\n" + content)
    return b"\r\n".join(parts) + b"\r\n--xyz--\r\n" if parts else draw(st.binary(max_size=30))


@fuzz_settings(100)
@given(route=st.sampled_from(ROUTES), data=st.data())
def test_headers_never_answer_500(route: Route, data: st.DataObject, fuzz_box: Sandbox, pools: Pools) -> None:
    headers = auth(pools) if data.draw(st.booleans()) else {}
    for name in data.draw(
        st.lists(st.sampled_from(["authorization", "selected-workspace-uuid", "x-other"]), max_size=2)
    ):
        headers[name] = data.draw(HEADER_VALUES)
    headers["content-type"] = data.draw(CONTENT_TYPES)
    body = data.draw(st.one_of(multipart_bodies(), st.binary(max_size=20)))
    path = re.sub(r"{\w+}", pools.ids[0], route.template)
    answer = call(fuzz_box, route.method, path, body=body, headers=headers)
    assert_no_server_error(answer, f"{route.method} {path} {headers} {body[:200]!r}")
