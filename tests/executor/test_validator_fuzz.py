"""Generated argument sets never crash validation, guards or planning: only UsageError comes out."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cargo_shell.api.client import CargoClient
from cargo_shell.errors import CargoShellError
from cargo_shell.executor import Executor
from cargo_shell.registry import get_registry

SPECS = sorted((s for s in get_registry() if s.http is not None), key=lambda s: s.name)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
TRICKY = st.sampled_from(
    [
        "3f2b1c4e-0000-4000-8000-000000000000",
        {"conjunction": "and", "groups": []},
        {"kind": "records", "records": [{}]},
        {"kind": "recordIds", "recordIds": ["1"]},
        {"kind": "segment"},
        "SELECT * FROM datasets_x.models_y",
        ["a", "b"],
        "",
    ]
)


def _client() -> CargoClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    return CargoClient(httpx.Client(transport=httpx.MockTransport(answer)), token="t", workspace_uuid=None)


EXECUTOR = Executor(_client())


@st.composite
def arguments(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    spec = draw(st.sampled_from(SPECS))
    names = [a.name for a in spec.args] + ["bogus", "--data", "wait_until_finished"]
    keys = draw(st.lists(st.sampled_from(names), max_size=6, unique=True))
    raw = {k: draw(TRICKY | JSONISH) for k in keys}
    return spec, raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arguments())
def test_prepare_never_crashes(case: tuple[Any, dict[str, Any]]) -> None:
    spec, raw = case
    try:
        plan = EXECUTOR.prepare(spec, raw)
    except CargoShellError as exc:
        assert exc.message  # a message a person can read
    else:
        assert plan.command_line.startswith(f"cargo-shell {spec.name}")
        assert plan.to_json()["command"] == spec.name
