"""Every catalogue command of the data domains has a sandbox route."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import cargo_shell
from cargo_shell.sandbox.app import build_router

DOMAINS = ("billing", "connection", "segmentation", "storage", "system-of-record", "workspace")
REGISTRY = Path(cargo_shell.__file__).parent / "registry" / "commands"


def _commands() -> list[tuple[str, str, str]]:
    out = []
    for domain in DOMAINS:
        for command in json.loads((REGISTRY / f"{domain}.json").read_text())["commands"]:
            http = command.get("http") or {}
            if isinstance(http, dict) and http.get("path", "").startswith("/v1/"):
                out.append((command["command"], http["method"], http["path"]))
    return out


COMMANDS = _commands()
ROUTER = build_router()


def test_catalogue_has_the_data_domains() -> None:
    assert len(COMMANDS) >= 55


@pytest.mark.parametrize(("command", "method", "path"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_is_routed(command: str, method: str, path: str) -> None:
    concrete = re.sub(r"{\w+}", "00000000-0000-4000-8000-000000000000", path)
    assert ROUTER.match(method, concrete) is not None, command
