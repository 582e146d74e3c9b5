"""Drive the installed ``cargo-shell mcp`` as a real subprocess with the official SDK's client.

Each server gets a fresh CARGO_SHELL_HOME holding a copy of the session's seeded sandbox, so it
works on the embedded sandbox like a user who never logged in. Person-side answers to
elicitations are scripted (:class:`Person`); an elicitation nobody scripted is recorded and
declined, and tests assert there was none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client, StdioServerParameters

BIN = Path(sys.executable).parent / "cargo-shell"
TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"  # the sandbox's "Enrich company" tool workflow


def make_home(tmp_path: Path, template: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(template, home / "data" / "sandbox")
    (home / "data" / "sandbox" / ".notice-shown").touch()
    return home


def server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_API", "CARGO_WORKSPACE", "OPENAI"))}
    env.update(CARGO_SHELL_HOME=str(home), CARGO_SHELL_NO_KEYRING="1", PYTHONUNBUFFERED="1")
    return env


def cli(home: Path, *argv: str) -> Any:
    """Run the installed CLI on the same home (to set rules, read what the sandbox holds)."""
    done = subprocess.run([str(BIN), *argv], capture_output=True, text=True, env=server_env(home), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def audit(home: Path) -> list[dict[str, Any]]:
    path = home / "state" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def payload(result: types.CallToolResult) -> Any:
    assert len(result.content) == 1 and isinstance(result.content[0], types.TextContent)
    return json.loads(result.content[0].text)


def text_of(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


@dataclass
class Person:
    """Answers elicitations in order: "accept" (box ticked), "accept-unticked", "decline" or "cancel"."""

    answers: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    unexpected: int = 0

    async def __call__(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        if not self.answers:
            self.unexpected += 1
            return types.ElicitResult(action="decline")
        answer = self.answers.pop(0)
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"run": True})
        if answer == "accept-unticked":
            return types.ElicitResult(action="accept", content={"run": False})
        return types.ElicitResult(action=answer)  # type: ignore[arg-type]


@asynccontextmanager
async def stdio_client(
    home: Path, *args: str, person: Person | None = None, mode: str = "legacy"
) -> AsyncIterator[Client]:
    """A client on a fresh ``cargo-shell mcp`` over stdio; no ``person``: the client cannot elicit."""
    params = StdioServerParameters(command=str(BIN), args=["mcp", *args], env=server_env(home))
    async with Client(params, mode=mode, elicitation_callback=person, read_timeout_seconds=120) as client:
        yield client


def folder_names(home: Path) -> list[str]:
    data = cli(home, "workspace", "folder", "list")
    folders = data.get("folders", data) if isinstance(data, dict) else data
    return [f.get("name") for f in folders]


FOLDER = {"command": "workspace folder create", "args": {"name": "From MCP", "emoji-slug": "rocket", "kind": "play"}}
