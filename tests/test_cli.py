"""The one-shot command line: exit codes, JSON on stdout, errors, help and completion."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from cargo_shell.registry import get_registry
from tests.helpers import run_cli

TOKEN = "cgo_canary_5f1d2e3c4b5a69788796a5b4c3d2e1f0"
WS = "0e5c7a7e-9a43-4a55-9d7c-2a6f4b1c0d11"
D1 = "6b1d5c1e-0a8b-4c39-9b7e-3f0c2d1a4e51"
D2 = "6b1d5c1e-0a8b-4c39-9b7e-3f0c2d1a4e52"


class FakeCloud:
    """A stand-in for the Cargo cloud at the HTTP level, recording what it was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"errorMessage": "Unauthorized"})
        path = request.url.path
        if path == "/v1/userManagement/users/current":
            return httpx.Response(200, json={"user": {"uuid": "u-1", "email": "ada@example.com", "x": None}})
        if path == "/v1/workspaceManagement/workspaces/current":
            return httpx.Response(200, json={"workspace": {"uuid": WS, "name": "Acme"}})
        if path == "/v1/storage/models/list":
            return httpx.Response(
                200,
                json={
                    "models": [
                        {"uuid": "m-1", "name": "Companies", "datasetUuid": D1, "description": None},
                        {"uuid": "m-2", "name": "Contacts", "datasetUuid": D2},
                    ]
                },
            )
        if path == "/v1/orchestration/batches":
            return httpx.Response(400, json={"errorMessage": "Not enough credits", "reason": "notEnoughCredits"})
        return httpx.Response(404, json={"errorMessage": f"no route {path}"})


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


def cli(cloud: FakeCloud, *argv: str, stdin: str = "") -> object:
    return run_cli(
        *argv,
        stdin=stdin,
        transport=httpx.MockTransport(cloud),
        env_overrides={"CARGO_API_TOKEN": TOKEN, "CARGO_API_URL": "https://api.example.test"},
    )


def test_model_list_prints_json_with_nulls_dropped(cloud: FakeCloud) -> None:
    result = cli(cloud, "storage", "model", "list")
    assert result.exit_status == 0, result.stdout
    assert result.json["models"][0] == {"uuid": "m-1", "name": "Companies", "datasetUuid": D1}
    assert len(cloud.requests) == 1


def test_client_side_filter_for_flag_without_api_field(cloud: FakeCloud) -> None:
    result = cli(cloud, "storage", "model", "list", "--dataset-uuid", D2)
    assert [m["name"] for m in result.json["models"]] == ["Contacts"]


def test_api_error_is_json_on_stdout_with_exit_1(cloud: FakeCloud) -> None:
    wf = "8d6f0d3e-1c1f-4a8e-9b53-0b7a1f2c3d4e"
    result = cli(
        cloud,
        "orchestration",
        "batch",
        "create",
        "--workflow-uuid",
        wf,
        "--data",
        '{"kind":"records","records":[]}',
        "--yes",
    )
    assert result.exit_status == 1
    assert result.json == {"errorMessage": "Not enough credits", "status": 400, "reason": "notEnoughCredits"}
    assert result.stdout.count("\n") == 1


def test_unauthorized_gives_auth_hint() -> None:
    result = run_cli(
        "storage", "model", "list",
        transport=httpx.MockTransport(FakeCloud()),
        env_overrides={"CARGO_API_TOKEN": "wrong", "CARGO_API_URL": "https://api.example.test"},
    )  # fmt: skip
    assert result.exit_status == 1
    assert result.json["status"] == 401
    assert "cargo-shell login" in result.stderr


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["storage", "modle", "list"], "Did you mean model"),
        (["storage"], "needs a resource"),
        (["storage", "model"], "needs a verb"),
        (["storage", "model", "get"], "MODEL-UUID"),
        (["storage", "model", "get", "not-a-uuid"], "expected a UUID"),
        (["orchestration", "batch", "list", "--statuses", "runing"], "not one of"),
        (["storage", "model", "list", "--nope", "1"], "unrecognized arguments: --nope"),
    ],
)
def test_usage_errors_exit_2_with_json(cloud: FakeCloud, argv: list[str], needle: str) -> None:
    result = cli(cloud, *argv)
    assert result.exit_status == 2, result.stdout
    assert needle in result.json["errorMessage"], result.json
    assert cloud.requests == []


def test_json_flag_error_names_flag_and_position(cloud: FakeCloud) -> None:
    result = cli(cloud, "orchestration", "batch", "create", "--data", '{"kind": "records",, }')
    assert result.exit_status == 2
    message = result.json["errorMessage"]
    assert message.startswith("--data: invalid JSON in inline JSON at line 1 column 20")
    assert cloud.requests == []


def test_json_flag_from_file_and_stdin(cloud: FakeCloud, tmp_path: Path) -> None:
    bad = tmp_path / "data.json"
    bad.write_text('{\n  "kind": "records"\n  "records": []\n}')
    result = cli(cloud, "orchestration", "batch", "create", "--data", f"@{bad}")
    assert result.exit_status == 2
    assert f"--data: invalid JSON in {bad} at line 3 column 3" in result.json["errorMessage"]
    result = cli(cloud, "orchestration", "batch", "create", "--data", "-", stdin="[1,")
    assert "invalid JSON in stdin" in result.json["errorMessage"]
    missing = cli(cloud, "orchestration", "batch", "create", "--data", "@/nonexistent/x.json")
    assert "--data: cannot read" in missing.json["errorMessage"]


@pytest.mark.parametrize("words", sorted({s.name for s in get_registry()}))
def test_help_for_every_command(words: str) -> None:
    result = run_cli(*words.split(), "--help")
    assert result.exit_status == 0
    spec = get_registry().get(words)
    assert result.stdout.startswith(f"Usage: cargo-shell {words}")
    assert spec.summary in result.stdout
    for arg in spec.args:
        assert (arg.name.upper() if arg.positional else arg.flag) in result.stdout


def test_help_at_every_level() -> None:
    root = run_cli("--help")
    assert root.exit_status == 0 and "orchestration" in root.stdout
    for domain in get_registry().children(()):
        out = run_cli(domain, "--help")
        assert out.exit_status == 0, domain
        for resource in get_registry().children((domain,)):
            assert resource in out.stdout
            sub = run_cli(domain, resource, "--help")
            assert sub.exit_status == 0


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_cover_registry(shell: str) -> None:
    result = run_cli("completion", shell)
    assert result.exit_status == 0
    script = result.stdout
    assert "--wait-until-finished" in script and "get-ddl" in script and "system-of-record" in script


def test_bash_completion_really_completes(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("bash not installed")
    script = tmp_path / "c.bash"
    script.write_text(run_cli("completion", "bash").stdout)
    probe = (
        f"source {script}; COMP_WORDS=(cargo-shell storage model g); COMP_CWORD=3; "
        '_cargo_shell_complete; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["get", "get-ddl"]


def test_login_stores_token_privately_and_never_prints_it(cloud: FakeCloud, shell_home: Path) -> None:
    result = run_cli(
        "login", "--token", TOKEN, "--base-url", "https://api.example.test",
        transport=httpx.MockTransport(cloud),
    )  # fmt: skip
    assert result.exit_status == 0, result.stdout
    assert result.json["workspace"]["uuid"] == WS
    assert result.json["tokenStoredIn"] == "file"
    creds = shell_home / "config" / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert stat.S_IMODE((shell_home / "config" / "config.json").stat().st_mode) == 0o600
    # later commands use the stored token without it being passed again
    later = run_cli("storage", "model", "list", transport=httpx.MockTransport(cloud))
    assert later.exit_status == 0
    assert cloud.requests[-1].headers["selected-workspace-uuid"] == WS
    shown = run_cli("config", "show")
    assert shown.json["settings"]["token"]["value"] == "******** (hidden)"
    assert shown.json["settings"]["target"]["value"] == "cloud"
    # the canary never appears in any output, nor in any file but the credential store
    for text in (result.stdout, result.stderr, later.stdout, later.stderr, shown.stdout, shown.stderr):
        assert TOKEN not in text
    for path in shell_home.rglob("*"):
        if path.is_file() and path != creds:
            assert TOKEN.encode() not in path.read_bytes(), path
    out = run_cli("logout")
    assert out.json == {"profile": "default", "loggedOut": True}
    assert run_cli("config", "show").json["settings"]["target"]["value"] == "sandbox"


def test_login_with_a_bad_token_stores_nothing(cloud: FakeCloud, shell_home: Path) -> None:
    result = run_cli(
        "login", "--token", "nope", "--base-url", "https://api.example.test", transport=httpx.MockTransport(cloud)
    )
    assert result.exit_status == 1
    assert not (shell_home / "config" / "credentials.json").exists()


def test_profiles_are_separate(cloud: FakeCloud) -> None:
    run_cli(
        "login", "--token", TOKEN, "--base-url", "https://api.example.test", "--profile", "prod",
        transport=httpx.MockTransport(cloud),
    )  # fmt: skip
    shown = run_cli("--profile", "default", "config", "show").json
    assert shown["settings"]["target"]["value"] == "sandbox"
    assert run_cli("config", "show").json["settings"]["profile"]["value"] == "prod"
    assert sorted(shown["profiles"]) == ["prod"]


def test_unexpected_errors_do_not_leak_tracebacks(cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from cargo_shell.api import client

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(client.CargoClient, "send", boom)
    result = cli(cloud, "storage", "model", "list")
    assert result.exit_status == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert json.loads(result.stdout)["errorMessage"].startswith("Internal error: RuntimeError: kaput")


def test_output_switch_after_a_local_command() -> None:
    result = run_cli("jobs", "--output", "json")
    assert result.exit_status == 0, result.stdout
    assert result.json == {"jobs": []}
    assert run_cli("config", "show", "--debug").exit_status == 0


def test_completion_lists_every_own_command() -> None:
    script = run_cli("completion", "bash").stdout
    top = next(line for line in script.splitlines() if line.strip().startswith('"")'))
    for spec in get_registry().view("cli"):
        if spec.own:
            assert f" {spec.words[0]} " in top or f'"{spec.words[0]} ' in top
