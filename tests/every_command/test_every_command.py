"""Every registry command has a case that runs it against the sandbox (login is local)."""

from __future__ import annotations

from cargo_shell.registry import get_registry
from tests.every_command import (
    test_ai_commands,
    test_data_commands,
    test_expression_commands,
    test_observability_commands,
    test_orchestration_commands,
    test_orchestration_platform_commands,
    test_org_commands,
    test_platform_ai_commands,
    test_platform_data_commands,
)

#: The case modules, one per group of domains; the conformance test walks the same list.
CASE_MODULES = {
    "data": test_data_commands,
    "orchestration": test_orchestration_commands,
    "ai": test_ai_commands,
    "platform-ai": test_platform_ai_commands,
    "org": test_org_commands,
    "platform data": test_platform_data_commands,
    "orchestration platform": test_orchestration_platform_commands,
    "observability": test_observability_commands,
    "expression": test_expression_commands,
}
TABLES = {name: module.cases.table for name, module in CASE_MODULES.items()}
LOCAL_ONLY = {"login"}


def test_every_registry_command_has_a_case() -> None:
    registry = {spec.name for spec in get_registry() if spec.skill}  # the catalogue's; login is local
    covered = [name for table in TABLES.values() for name in table]
    assert len(covered) == len(set(covered)), "a command is covered by two files"
    assert sorted(registry - set(covered) - LOCAL_ONLY) == []
    assert sorted(set(covered) - registry) == []
    assert len(covered) == len(registry) - len(LOCAL_ONLY)  # the facts' 306 operations once all are commands


def test_login_is_local_and_sends_nothing() -> None:
    spec = get_registry().get("login")
    assert spec.own and spec.http is None
    assert spec.arg("token").location == "local"
