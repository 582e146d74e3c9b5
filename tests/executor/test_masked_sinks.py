"""The executor's own files (job store, audit log) and the crash log hold no secret in clear."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cargo_shell import cli
from cargo_shell.environment import Environment
from cargo_shell.executor import Policy
from cargo_shell.secrets import MASK, KnownSecrets

from .conftest import MakeExecutor, first, spec

CANARY = "canary-record-apitoken-4x9"
SHAPED = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


def test_a_jobs_command_line_and_audit_line_are_masked(make_executor: MakeExecutor, tmp_path: Path) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    workflow = first(executor, "orchestration tool list", "tools", name="Enrich company")["workflowUuid"]
    records = [{"domain": "acme.com", "api_token": CANARY, "note": f"key {SHAPED}"}]
    outcome = executor.run(
        spec("orchestration batch create"), {"workflow-uuid": workflow, "data": {"kind": "records", "records": records}}
    )
    assert outcome.job_id
    assert executor.jobs is not None
    [job] = executor.jobs.list()
    assert MASK in job.command_line
    for name in ("jobs.db", "audit.jsonl"):
        raw = (tmp_path / name).read_bytes()
        assert CANARY.encode() not in raw and SHAPED.encode() not in raw, name


def test_the_crash_log_and_the_internal_error_are_masked(
    monkeypatch: pytest.MonkeyPatch, shell_home: Path, known_secrets: KnownSecrets
) -> None:
    known_secrets.add(CANARY)

    def boom(ctx: object, argv: list[str]) -> int:
        raise RuntimeError(f"header was Bearer {CANARY}; also {SHAPED}")

    monkeypatch.setattr(cli, "dispatch", boom)
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, stdin_isatty=False, stdout_isatty=False)
    assert cli.main(["whoami"], env=env) == 1
    log = (shell_home / "state" / "cargo-shell.log").read_text(encoding="utf-8")
    assert "RuntimeError" in log and "Traceback" in log
    for text in (log, out.getvalue(), err.getvalue()):
        assert CANARY not in text and SHAPED not in text
    assert json.loads(out.getvalue())["errorMessage"].startswith(
        f"Internal error: RuntimeError: header was Bearer {MASK}"
    )
