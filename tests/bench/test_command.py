"""The command's own surface: help, listing, wiring, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from cargo_shell.bench.task import load_tasks
from tests.bench.helpers import bench


def test_help_names_the_modes_and_the_model_flags() -> None:
    ran = bench("--help")
    assert ran.status == 0
    for flag in ("--oracle", "--decoy", "-k, --only", "--base-url", "--model", "--repeat", "--jobs", "--fresh"):
        assert flag in ran.out


def test_list_shows_every_task_or_the_selection() -> None:
    every = bench("--list")
    assert every.status == 0 and every.out.strip().endswith(f"{len(load_tasks())} tasks")
    picked = bench("--list", "-k", "billing", "--output", "json").json()["tasks"]
    assert picked and {t["skill"] for t in picked} == {"billing"}


def test_bench_is_an_own_command_of_the_registry() -> None:
    from cargo_shell.commands.completion import completion_script
    from cargo_shell.commands.help import root_help
    from cargo_shell.registry import get_registry

    registry = get_registry()
    assert registry.get("bench").handler == "cargo_shell.bench.command:bench_command"
    assert "bench" in root_help(registry)
    assert "--oracle" in completion_script("bash", registry)


def test_without_a_model_it_says_how_to_configure_one(tmp_path: Path) -> None:
    ran = bench("--results", str(tmp_path))
    assert ran.status == 1
    assert "No language model is configured for the benchmark" in ran.out
    assert "--base-url" in ran.err and "--oracle" in ran.err
    assert not (tmp_path / "runs").exists()


def test_bad_input_is_a_usage_error() -> None:
    for args, message in (
        (["--oracle", "--only", "no-such-task"], "No task matches 'no-such-task'"),
        (["--oracle", "--repeat", "0"], "--repeat: Input should be greater than or equal to 1"),
        (["--oracle", "--jobs", "0"], "--jobs: Input should be greater than or equal to 1"),
        (["--oracle", "--prices", "cheap"], "--prices cheap: give two prices"),
        (["--oracle", "--tasks", "/nonexistent-folder"], "--tasks /nonexistent-folder: no such folder"),
        (["--oracle", "--decoy"], "--oracle and --decoy cannot be combined"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ):
        ran = bench(*args)
        assert ran.status == 2, args
        assert message in ran.out, (args, ran.out)


def test_sandbox_copies_are_removed_unless_kept(tmp_path: Path) -> None:
    assert bench("--oracle", "--only", "user-role", "--results", str(tmp_path / "plain")).status == 0
    assert not (tmp_path / "plain" / "work").exists()
    assert bench("--oracle", "--only", "user-role", "--results", str(tmp_path / "kept"), "--keep").status == 0
    kept = tmp_path / "kept" / "work" / "user-role" / "0"
    assert (kept / "data" / "sandbox" / "sandbox.db").exists()
    audit = [json.loads(line) for line in (kept / "state" / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(a["command"], a["frontEnd"]) for a in audit] == [("workspace user list", "bench")]  # the agent's only
