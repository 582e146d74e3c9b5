"""Bad input on the command line is a usage error naming what was wrong, never "Internal error",
and a setting that cannot be sent is refused before anything is sent (without showing its value)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cargo_shell.config import ConfigStore
from cargo_shell.paths import resolve_paths
from tests.helpers import CliResult, run_cli

TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"
BATCH = ["--yes", "orchestration", "batch", "create", "--workflow-uuid", TOOL_WF]
SECRET = "tok_do_not_print_me"


class Recorder:
    """A cloud at the HTTP level that answers 200 {} and remembers whether anything reached it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={})


def _usage(result: CliResult, *words: str) -> dict[str, str]:
    assert result.exit_status == 2, result.stdout
    body = result.json
    assert "Internal error" not in body["errorMessage"] and "Traceback" not in result.stderr
    for word in words:
        assert word in body["errorMessage"], body["errorMessage"]
    return body  # type: ignore[no-any-return]


def test_json_nested_100k_deep_is_a_usage_error(tmp_path: Path) -> None:
    deep = "[" * 100_000
    _usage(run_cli(*BATCH, "--data", deep), "--data", "nests more than 100 levels")
    (tmp_path / "deep.json").write_text(deep)
    _usage(run_cli(*BATCH, "--data", f"@{tmp_path / 'deep.json'}"), "--data", "nests more than 100 levels")
    parsed_but_deep = "[" * 150 + "]" * 150  # parses, but nests deeper than anything the API takes
    _usage(run_cli(*BATCH, "--data", parsed_but_deep), "--data", "nests more than 100 levels")
    _usage(run_cli(*BATCH, "--data", "-", stdin=deep), "--data", "(stdin)")


def test_a_json_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes('{"name": "Müller"}'.encode("latin-1"))
    _usage(run_cli(*BATCH, "--data", f"@{tmp_path / 'latin1.json'}"), "--data", "not UTF-8")


@pytest.mark.parametrize("kind", ['{"a": 1}', "[1]", "3", "true"])
def test_a_batch_kind_that_is_not_a_string_is_a_usage_error(kind: str) -> None:
    _usage(run_cli(*BATCH, "--data", f'{{"kind": {kind}}}'), "--data", "not a string")


def test_file_path_must_name_a_readable_non_empty_file(tmp_path: Path) -> None:
    upload = ["--yes", "workspace", "file", "upload", "--file-path"]
    (tmp_path / "empty.csv").write_text("")
    _usage(run_cli(*upload, str(tmp_path)), "--file-path", "is a directory")
    _usage(run_cli(*upload, str(tmp_path / "empty.csv")), "--file-path", "is empty")
    _usage(run_cli(*upload, str(tmp_path / "missing.csv")), "--file-path", "no file at")
    (tmp_path / "ok.csv").write_text("domain\nacme.com\n")
    assert run_cli(*upload, str(tmp_path / "ok.csv")).exit_status == 0


def test_a_path_value_over_64_kb_is_a_usage_error() -> None:
    body = _usage(run_cli("connection", "integration", "get", "a" * 70_000), "SLUG", "too long")
    assert len(body["errorMessage"]) < 300  # the value is not echoed back whole


def test_a_url_too_long_for_http_is_a_usage_error() -> None:
    cloud = Recorder()
    uuids = ",".join(f"3f2b1c4e-0000-4000-8000-{n:012d}" for n in range(2000))
    result = run_cli(
        "--token",
        "t",
        "orchestration",
        "batch",
        "list",
        "--workflow-uuids",
        uuids,
        transport=httpx.MockTransport(cloud),
    )
    _usage(result, "cannot be sent", "nothing was sent")
    assert cloud.requests == []


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (SECRET + "\n", "line break"),
        (SECRET + "\r", "line break"),
        (SECRET[:3] + "\x07" + SECRET[3:], "control character U+0007"),
        (SECRET + "é", "non-ASCII character U+00E9"),
        (SECRET[:3] + " " + SECRET[3:], "a space"),
    ],
)
def test_a_token_that_cannot_be_a_header_is_refused_naming_where_it_came_from(
    bad: str, what: str, shell_home: Path
) -> None:
    cloud = Recorder()
    transport = httpx.MockTransport(cloud)
    cases = [
        (run_cli("--token", bad, "storage", "model", "list", transport=transport), "from the --token flag"),
        (
            run_cli("storage", "model", "list", env_overrides={"CARGO_API_TOKEN": bad}, transport=transport),
            "from the environment variable CARGO_API_TOKEN",
        ),
    ]
    ConfigStore(resolve_paths({"CARGO_SHELL_HOME": str(shell_home)})).set_token("default", bad)
    cases.append((run_cli("storage", "model", "list", transport=transport), "from the token stored for profile"))
    for result, origin in cases:
        _usage(result, "API token", origin, what, "nothing was sent")
        assert SECRET not in result.stdout + result.stderr and SECRET[3:] not in result.stdout + result.stderr
    assert cloud.requests == []  # nothing was sent, so nothing was retried


def test_a_workspace_uuid_with_a_newline_is_refused_before_sending() -> None:
    cloud = Recorder()
    result = run_cli(
        "--token", "t", "--workspace-uuid", "3f2b1c4e-0000-4000-8000-000000000000\n", "storage", "model", "list",
        transport=httpx.MockTransport(cloud),
    )  # fmt: skip
    _usage(result, "workspace UUID from the --workspace-uuid flag", "line break")
    assert cloud.requests == []
    sandbox = run_cli("--workspace-uuid", "x\ny", "storage", "model", "list")  # also on the embedded sandbox
    _usage(sandbox, "workspace UUID", "line break")


def test_a_base_url_without_a_token_says_so_and_how_to_give_one() -> None:
    cloud = Recorder()
    result = run_cli(
        "--base-url", "http://127.0.0.1:9", "storage", "model", "list", transport=httpx.MockTransport(cloud)
    )
    body = _usage(result, "No API token for http://127.0.0.1:9", "--base-url flag")
    assert "cargo-shell login --token" in body["hint"] and "sandbox info" in body["hint"]
    assert "Unauthorized" not in result.stdout and cloud.requests == []
    env = run_cli("storage", "model", "list", env_overrides={"CARGO_API_URL": "http://127.0.0.1:9"})
    _usage(env, "No API token", "environment variable CARGO_API_URL")


@pytest.mark.parametrize("url", ["not a url", "ftp://files.example", "http://"])
def test_a_base_url_that_is_not_http_is_refused(url: str) -> None:
    cloud = Recorder()
    result = run_cli(
        "--token", "t", "--base-url", url, "storage", "model", "list", transport=httpx.MockTransport(cloud)
    )
    _usage(result, "API base URL from the --base-url flag")
    assert cloud.requests == []


def test_login_refuses_an_unsendable_token_and_stores_nothing(shell_home: Path) -> None:
    cloud = Recorder()
    result = run_cli("login", "--token", SECRET + "\n", transport=httpx.MockTransport(cloud))
    _usage(result, "API token from the --token flag", "line break")
    assert cloud.requests == [] and SECRET not in result.stdout + result.stderr
    assert ConfigStore(resolve_paths({"CARGO_SHELL_HOME": str(shell_home)})).get_token("default") is None
