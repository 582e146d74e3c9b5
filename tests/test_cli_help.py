"""What a new user reads in help: every command listed, no internal names, plain words."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from cargo_shell.registry import get_registry
from tests.helpers import run_cli

OWN_WORDS = sorted({spec.words[0] for spec in get_registry() if spec.own})


def test_root_help_lists_every_command_cargo_shell_runs() -> None:
    root = run_cli("--help").stdout
    for name in OWN_WORDS:
        assert f"\n  {name} " in root, f"{name} is missing from --help"
    own = root[root.index("cargo-shell's own commands:") :]
    assert "jobs cancel|list|wait" in own and "policy allow|deny|list|remove" in own


@pytest.mark.parametrize("argv", [["jobs", "--limit", "5"], ["jobs", "--active"], ["jobs"], ["jobs", "list"]])
def test_jobs_lists_by_default(argv: list[str]) -> None:
    result = run_cli(*argv)
    assert result.exit_status == 0, result.stdout
    assert result.json == {"jobs": []}


def test_policy_lists_by_default() -> None:
    result = run_cli("policy")
    assert result.exit_status == 0, result.stdout
    assert result.json["rules"] == []


def test_a_group_without_its_verb_is_a_usage_error_like_registry_groups() -> None:
    result = run_cli("sandbox")
    assert result.exit_status == 2
    assert result.json["errorMessage"] == "`sandbox` needs a verb: one of info, reset, serve"
    assert result.stderr.startswith("Usage: cargo-shell sandbox <verb>")
    registry = run_cli("storage")
    assert registry.exit_status == 2 and "needs a resource" in registry.json["errorMessage"]


def test_a_command_without_its_positional_names_the_choices() -> None:
    result = run_cli("completion")
    assert result.exit_status == 2
    assert result.json["errorMessage"].startswith("Invalid arguments for `completion`: SHELL is required")
    assert "bash, zsh, fish" in result.json["errorMessage"]


def _every_help_text() -> str:
    texts = [run_cli("--help").stdout]
    texts += [run_cli(name, "--help").stdout for name in OWN_WORDS]
    texts += [run_cli(*spec.words, "--help").stdout for spec in get_registry()]
    texts += [run_cli("policy", verb, "--help").stdout for verb in ("allow", "deny")]
    return "\n".join(texts)


def test_help_speaks_of_what_a_user_can_see() -> None:
    text = _every_help_text()
    for internal in ("batch_data_kinds", "filters.yaml", "denys", ".yaml"):
        assert internal not in text, internal


def test_batch_create_help_lists_the_data_kinds() -> None:
    text = run_cli("orchestration", "batch", "create", "--help").stdout
    assert "Data kinds (--data):" in text
    assert "records:" in text and "segment:" in text
    assert "plays take: segment, change, filter, recordIds" in text


def test_login_help_does_not_call_it_a_write() -> None:
    text = run_cli("login", "--help").stdout
    assert "changes workspace data" not in text
    assert "stores the token on this machine" in text
    assert "--profile" in text[text.index("Arguments:") :]


def test_jobs_list_summarises_a_long_data_value(tmp_path: Any) -> None:
    import json

    from cargo_shell.environment import Environment
    from cargo_shell.executor import JobStore

    records = [{"domain": f"company{i}.example"} for i in range(300)]
    line = "cargo-shell orchestration batch create --workflow-uuid W --data " + shlex.quote(
        json.dumps({"kind": "records", "records": records})
    )
    store = JobStore(Environment().paths.jobs_db)
    store.record_start(
        job_id="b-1", kind="batch", command="orchestration batch create", command_line=line,
        profile="default", base_url="", workspace_uuid=None, status="pending", detail={},
    )  # fmt: skip
    [job] = run_cli("jobs").json["jobs"]
    assert len(job["commandLine"]) < 250
    assert "300 records" in job["commandLine"] and "company299" not in job["commandLine"]
