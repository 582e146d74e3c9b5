"""The executor as a new user meets it on the command line (in-process, embedded sandbox)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from cargo_shell.commands.args import parse_command_args
from cargo_shell.registry import get_registry
from tests.helpers import run_cli

FOLDER = ["--name", "Reports", "--emoji-slug", "rocket", "--kind", "play"]


def test_non_tty_write_is_refused_with_exit_3_and_the_plan() -> None:
    result = run_cli("workspace", "folder", "create", *FOLDER)
    assert result.exit_status == 3
    body = result.json
    assert body["errorMessage"].startswith("approval required")
    assert (
        body["plan"]["commandLine"]
        == "cargo-shell workspace folder create --name Reports --emoji-slug rocket --kind play"
    )
    assert body["plan"]["request"] == {
        "method": "POST",
        "path": "/v1/workspaceManagement/folders",
        "body": {"name": "Reports", "emojiSlug": "rocket", "kind": "play"},
    }
    assert "--yes" in result.stderr


def test_yes_runs_it_and_the_audit_log_says_so() -> None:
    result = run_cli("--yes", "workspace", "folder", "create", *FOLDER)
    assert result.exit_status == 0, result.stdout
    uuid = result.json["folder"]["uuid"]
    log = run_cli("log", "--limit", "1").json["entries"]
    assert log[-1]["command"] == "workspace folder create"
    assert log[-1]["approval"] == "flag" and log[-1]["outcome"] == "ok"
    assert log[-1]["requestIds"] and log[-1]["arguments"]["name"] == "Reports"
    removed = run_cli("--yes", "workspace", "folder", "remove", uuid)
    assert removed.exit_status == 0


def test_destructive_on_a_tty_shows_the_exact_command_and_asks() -> None:
    created = run_cli("--yes", "workspace", "folder", "create", *FOLDER).json["folder"]["uuid"]
    declined = run_cli("workspace", "folder", "remove", created, tty=True, stdin="n\n")
    assert declined.exit_status == 3
    assert "DESTRUCTIVE action: workspace folder remove" in declined.stderr
    assert f"$ cargo-shell workspace folder remove {created}" in declined.stderr
    assert "touches: folder 'Reports'" in declined.stderr
    accepted = run_cli("workspace", "folder", "remove", created, tty=True, stdin="y\n")
    assert accepted.exit_status == 0
    assert run_cli("log").json["entries"][-1]["approval"] == "user"


def test_policy_rules_from_the_command_line() -> None:
    added = run_cli("policy", "allow", "workspace folder create", "--arg", "kind=play")
    assert added.exit_status == 0 and added.json["added"]["id"] == 1
    assert run_cli("workspace", "folder", "create", *FOLDER).exit_status == 0  # allowed by the rule
    other = ["--name", "T", "--emoji-slug", "rocket", "--kind", "tool"]
    assert run_cli("workspace", "folder", "create", *other).exit_status == 3  # rule does not match
    run_cli("policy", "deny", "workspace folder *")
    denied = run_cli("--yes", "workspace", "folder", "create", *FOLDER)
    assert denied.exit_status == 3 and "denied by policy rule #2" in denied.json["errorMessage"]
    rules = run_cli("policy", "list").json["rules"]
    assert [r["action"] for r in rules] == ["allow", "deny"]
    assert run_cli("policy", "remove", "2").exit_status == 0
    assert run_cli("policy", "remove", "2").exit_status == 2
    assert run_cli("policy", "deny", "no such command").exit_status == 2


def test_jobs_lists_started_batches(tmp_path: Path) -> None:
    wf = "f25816c8-a008-480f-9a3f-b8b0595f5548"
    started = run_cli(
        "--yes", "orchestration", "batch", "create", "--workflow-uuid", wf,
        "--data", '{"kind":"records","records":[{"domain":"a.example"}]}',
    )  # fmt: skip
    assert started.exit_status == 0, started.stdout
    jobs = run_cli("jobs").json["jobs"]
    assert jobs[0]["jobId"] == started.json["batch"]["uuid"] and jobs[0]["kind"] == "batch"
    assert jobs[0]["commandLine"].startswith("cargo-shell orchestration batch create --workflow-uuid")
    assert run_cli("jobs", "wait", "nope").exit_status == 2


def test_plan_command_line_parses_back_to_the_same_arguments() -> None:
    result = run_cli(
        "orchestration", "batch", "create", "--workflow-uuid", "f25816c8-a008-480f-9a3f-b8b0595f5548",
        "--data", json.dumps({"kind": "records", "records": [{"name": "O'Brien & Co", "n": 1}]}),
    )  # fmt: skip
    line = result.json["plan"]["commandLine"]
    words = shlex.split(line)
    spec = get_registry().get("orchestration batch create")
    raw, _ = parse_command_args(spec, words[4:], None)  # type: ignore[arg-type]
    assert raw["data"] == {"kind": "records", "records": [{"name": "O'Brien & Co", "n": 1}]}


def test_secrets_are_masked_in_plans_and_the_log() -> None:
    secret = "sk_live_do_not_print_me"
    result = run_cli(
        "connection", "connector", "create", "--integration-slug", "hubspot", "--slug", "crm", "--name", "CRM",
        "--config", json.dumps({"apiKey": secret, "region": "eu"}),
    )  # fmt: skip
    assert result.exit_status == 3
    assert secret not in result.stdout and secret not in result.stderr
    assert '"apiKey":"«masked»","region":"eu"' in result.json["plan"]["commandLine"]


def test_jobs_cancel_sends_the_kinds_cancel_with_the_recorded_job_fields() -> None:
    tool_wf = "b4e52f36-6f15-4876-acf4-74eefa4418f8"
    started = run_cli(
        "--yes", "orchestration", "run", "create", "--workflow-uuid", tool_wf,
        "--data", '{"domain":"a.example","employees":5}',
    )  # fmt: skip
    assert started.exit_status == 0, started.stdout
    run_uuid = started.json["run"]["uuid"]
    cancelled = run_cli("--yes", "jobs", "cancel", run_uuid)
    assert cancelled.exit_status == 0, cancelled.stdout + cancelled.stderr
    sent = run_cli("log", "--lines", "--command", "orchestration run cancel").json["entries"]
    assert sent[0]["arguments"] == {"workflow-uuid": tool_wf, "uuids": [run_uuid]}
