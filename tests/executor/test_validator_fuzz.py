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


# -- the whole command line: generated argv never gives "Internal error" nor a traceback ----------------
NASTY = st.sampled_from(
    [
        "[" * 5000,
        "{" * 300,
        "[" * 150 + "]" * 150,
        '{"kind": {"a": 1}}',
        '{"kind": ["records"]}',
        '{"kind": "records", "records": "x"}',
        '{"kind": "recordIds", "ids": [[[]]]}',
        "@/nonexistent/file.json",
        "@.",
        "-",
        "",
        "a" * 70_000,
        "x\ny",
        "\x00",
        "é",
        "true",
        "null",
        "1e999",
        "-1",
        "99999999999999999999",
        ",,,",
        "3f2b1c4e-0000-4000-8000-000000000000",
        "3f2b1c4e-0000-4000-8000-000000000000\n",
    ]
)
GLOBALS = st.sampled_from(
    [
        [],
        ["--yes"],
        ["--output", "table"],
        ["--token", "t\n"],
        ["--token", "tök"],
        ["--workspace-uuid", "w\r"],
        ["--base-url", "ftp://x"],
        ["--strict", "--yes"],
    ]
)


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    spec = draw(st.sampled_from(SPECS))
    flags = [a.flag for a in spec.args if not a.positional] + ["--bogus", "--wait-until-finished", "--help"]
    argv = ["--token", "t", *draw(GLOBALS), *spec.words]  # a bad --token from GLOBALS comes last and wins
    for _ in spec.positionals:
        if draw(st.booleans()):
            argv.append(draw(NASTY | st.text(max_size=20)))
    for flag in draw(st.lists(st.sampled_from(flags), max_size=4)):
        argv += [flag, draw(NASTY | st.text(max_size=20))]
    return argv


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argvs())
def test_generated_command_lines_never_crash(argv: list[str]) -> None:
    from tests.helpers import run_cli

    result = run_cli(*argv, transport=httpx.MockTransport(_answer))
    assert "Internal error" not in result.stdout, (argv, result.stdout)
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    assert result.exit_status in (0, 1, 2, 3, 4, 5), (argv, result.exit_status)
