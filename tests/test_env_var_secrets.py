"""A hosting env var's value is a secret when its ``isSecret`` switch says so, wherever it travels.

The flag is named ``--value`` (no secret-looking name), so the masker goes by the switch beside it:
in API bodies (``isSecret``), in argument mappings (``is-secret``) and in typed command lines
(``--is-secret``). A value set with ``--is-secret false`` is ordinary text and stays readable.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cargo_shell.api.client import CargoClient
from cargo_shell.executor import Executor, Policy
from cargo_shell.executor.audit import AuditLog
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.secrets import MASK, KnownSecrets, Masker
from tests.support import FakeClock, open_copy

SECRET = "whsec_Zq81nB2xLc0pQ7"


def test_an_object_saying_it_is_secret_hides_its_value() -> None:
    masker = Masker(KnownSecrets())
    body = {"kind": "app", "key": "WEBHOOK_SIGNING", "value": SECRET, "isSecret": True}
    assert masker.data(body) == {**body, "value": MASK}
    assert SECRET in masker.known  # from now on hidden under any key and in any text
    plain = {**body, "value": "https://api.example.com", "isSecret": False}
    assert masker.data(plain) == plain
    args = {"key": "WEBHOOK_SIGNING", "value": "another-secret-9", "is-secret": True}
    assert masker.arguments(args) == {**args, "value": MASK}


@pytest.mark.parametrize(
    "line",
    [
        f"hosting env-var create --kind app --app-uuid u --key K --value {SECRET} --is-secret",
        f"hosting env-var update --uuid u --is-secret true --value '{SECRET}'",
        f'hosting env-var update --uuid u --value="{SECRET}" --is-secret=true',
    ],
)
def test_a_typed_line_setting_a_secret_value_is_masked(line: str) -> None:
    """What the shell's history file stores: the line as typed, before anything ran."""
    masked = Masker(KnownSecrets()).text(line)
    assert SECRET not in masked and MASK in masked and "--is-secret" in masked


def test_a_value_set_as_not_secret_stays_readable() -> None:
    line = "hosting env-var create --kind app --app-uuid u --key LOG_LEVEL --value verbose-debug --is-secret false"
    assert Masker(KnownSecrets()).text(line) == line


@pytest.fixture
def box(tmp_path: Path, seeded_sandbox_template: Path) -> Sandbox:
    return open_copy(seeded_sandbox_template, tmp_path, FakeClock())


def test_plans_and_the_audit_log_never_hold_a_secret_value(box: Sandbox, tmp_path: Path) -> None:
    http = httpx.Client(transport=httpx.WSGITransport(app=box.app))
    client = CargoClient(http, base_url=box.base_url, token=box.token, workspace_uuid=box.workspace_uuid)
    audit = AuditLog(tmp_path / "audit.jsonl", profile="default", workspace_uuid=box.workspace_uuid)
    executor = Executor(client, policy=Policy(assume_yes=True), audit=audit)
    try:
        apps = executor.run(get_registry().get("hosting app list"), {}).data["apps"]
        spec = get_registry().get("hosting env-var create")
        args = {"kind": "app", "app-uuid": apps[0]["uuid"], "key": "WEBHOOK_SIGNING", "value": SECRET,
                "is-secret": True}  # fmt: skip
        plan = executor.plan(spec, executor.validate(spec, args))
        shown = json.dumps(plan.to_json()) + plan.command_line + plan.render()
        assert SECRET not in shown and MASK in plan.command_line
        outcome = executor.run(spec, args)
        assert "value" not in outcome.data["envVar"]  # the sandbox answers null: write-only
    finally:
        client.close()
        box.close()
    log = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "WEBHOOK_SIGNING" in log and SECRET not in log
