"""``cargo-shell mcp --http``: the same server over streamable HTTP on 127.0.0.1 (a smaller set)."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client

from cargo_shell.agent.skills import SKILL_NAMES
from tests.mcp.harness import BIN, FOLDER, TOOL_WF, Person, audit, folder_names, make_home, payload, server_env, text_of


@pytest.fixture
def served(tmp_path: Path, seeded_sandbox_template: Path) -> Iterator[tuple[Path, str]]:
    """A running ``cargo-shell mcp --http --port 0``: (its home, its URL), read from its first line."""
    home = make_home(tmp_path, seeded_sandbox_template)
    child = subprocess.Popen(
        [str(BIN), "mcp", "--http", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(home),
    )
    assert child.stderr is not None
    url = None
    for line in child.stderr:  # the line comes once the socket listens: connecting cannot race it
        found = re.search(r"http://127\.0\.0\.1:(\d+)/mcp", line)
        if found:
            url = found.group(0)
            break
    try:
        assert url is not None, f"the server printed no URL (exit {child.poll()})"
        yield home, url
    finally:
        child.terminate()
        child.communicate(timeout=60)


def test_it_listens_on_loopback_only_and_refuses_foreign_hosts(served: tuple[Path, str]) -> None:
    _, url = served
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=30):
        pass  # the port accepts on loopback
    rebinding = httpx.post(url, headers={"Host": "evil.example", "Content-Type": "application/json"}, json={})
    assert rebinding.status_code in (400, 403, 421)


def test_tools_a_read_and_a_write_over_http(served: tuple[Path, str]) -> None:
    home, url = served
    person = Person(["accept"])

    async def scenario() -> None:
        async with Client(url, mode="legacy", elicitation_callback=person, read_timeout_seconds=120) as client:
            tools = (await client.list_tools()).tools
            assert [t.name for t in tools] == list(SKILL_NAMES)
            read = await client.call_tool("storage", {"command": "storage model list"})
            assert not read.is_error and payload(read)["status"] == "ok"
            write = await client.call_tool("workspace", FOLDER)
            assert not write.is_error, text_of(write)

    anyio.run(scenario)
    assert len(person.asked) == 1 and "$ cargo-shell workspace folder create" in person.asked[0]
    assert "From MCP" in folder_names(home)
    sent = [a for a in audit(home) if a["command"] == "workspace folder create" and a["phase"] == "sent"]
    assert [a["decidedBy"] for a in sent] == ["mcp"]


def test_without_elicitation_a_write_is_refused_with_the_plan_over_http(served: tuple[Path, str]) -> None:
    home, url = served

    async def scenario() -> None:
        async with Client(url, mode="legacy", read_timeout_seconds=120) as client:
            result = await client.call_tool("workspace", FOLDER)
            assert result.is_error
            body = payload(result)
            assert body["status"] == "approval_required"
            assert body["plan"]["commandLine"].startswith("cargo-shell workspace folder create")

    anyio.run(scenario)
    assert "From MCP" not in folder_names(home)


def test_progress_of_an_awaited_batch_over_http(served: tuple[Path, str]) -> None:
    _, url = served
    person = Person(["accept"])
    seen: list[tuple[float, float | None]] = []
    data = {"kind": "records", "records": [{"domain": f"h{i}.example"} for i in range(4)]}
    args = {"workflow-uuid": TOOL_WF, "data": data, "wait-until-finished": True}

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async def scenario() -> None:
        async with Client(url, mode="legacy", elicitation_callback=person, read_timeout_seconds=120) as client:
            call = {"command": "orchestration batch create", "args": args}
            result = await client.call_tool("orchestration", call, progress_callback=on_progress)
            assert not result.is_error, text_of(result)

    anyio.run(scenario)
    assert seen and seen[-1] == (4.0, 4.0)


def test_a_2026_era_client_confirms_a_write_over_http(served: tuple[Path, str]) -> None:
    home, url = served
    person = Person(["accept"])

    async def scenario() -> None:
        async with Client(url, mode="auto", elicitation_callback=person, read_timeout_seconds=120) as client:
            assert client.protocol_version == "2026-07-28"
            write = await client.call_tool("workspace", FOLDER)
            assert not write.is_error, text_of(write)

    anyio.run(scenario)
    assert len(person.asked) == 1
    assert "From MCP" in folder_names(home)
