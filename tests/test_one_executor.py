"""One constructor of executors: the session context. What used to build bare executors (``login``
checking a token, onboarding, the shell's background refresher) now gets the profile's deny rules,
and the audit log where a person asked for the action."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx

import cargo_shell
from cargo_shell.environment import Environment
from tests.helpers import run_cli

PACKAGE = Path(cargo_shell.__file__).parent


def test_only_the_session_context_constructs_an_executor() -> None:
    makers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name == "Executor":
                    makers.append(str(path.relative_to(PACKAGE)))
    assert makers == ["commands/context.py"]


def test_login_checks_the_token_through_the_profiles_deny_rules() -> None:
    sent: list[httpx.Request] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"user": {"uuid": "u-1"}, "workspace": {"uuid": "w-1"}})

    assert run_cli("policy", "deny", "whoami").exit_status == 0
    result = run_cli("login", "--token", "cai_example", "--base-url", "https://api.example.test",
                     transport=httpx.MockTransport(cloud))  # fmt: skip
    assert result.exit_status == 3, result.stdout
    assert sent == []  # denied before anything left
    decisions = [json.loads(line) for line in Environment().paths.audit_log.read_text().splitlines()]
    assert any(d.get("command") == "whoami" and d.get("decision") == "denied" for d in decisions)


def test_login_checks_the_token_with_an_audited_whoami() -> None:
    def cloud(request: httpx.Request) -> httpx.Response:
        key = "user" if "users" in request.url.path else "workspace"
        return httpx.Response(200, json={key: {"uuid": "0e5c7a7e-9a43-4a55-9d7c-2a6f4b1c0d11", "name": "Acme"}})

    result = run_cli("login", "--token", "cai_example", "--base-url", "https://api.example.test",
                     transport=httpx.MockTransport(cloud))  # fmt: skip
    assert result.exit_status == 0, result.stdout
    assert result.json["profile"] == "default" and result.json["workspace"]["name"] == "Acme"
    lines = [json.loads(line) for line in Environment().paths.audit_log.read_text().splitlines()]
    assert [line["command"] for line in lines] == ["whoami"]
