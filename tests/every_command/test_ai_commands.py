"""AI commands: agents, releases, chats and messages, templates, files, MCP servers, memories."""

from __future__ import annotations

from typing import Any

import pytest

from tests.every_command.world import Cases, World

cases = Cases()
EMPTY_LISTS: dict[str, list[Any]] = {
    "actions": [],
    "mcp-clients": [],
    "resources": [],
    "capabilities": [],
    "suggested-actions": [],
}


def new_agent(w: World, name: str) -> dict[str, Any]:
    args = {"name": name, "icon-color": "green", "icon-face": "🎯", "description": "Scores inbound leads"}
    return w.item("ai agent create", args)


# -- agents and releases ---------------------------------------------------------------------
@cases.add("ai agent list", "ai agent get")
def _agents(w: World) -> None:
    assert {a["name"] for a in w.items("ai agent list")} >= {"Lead researcher", "Email drafter"}
    got = w.item("ai agent get", {"agent-uuid": w.agent["uuid"]})
    assert (got["uuid"], got["name"]) == (w.agent["uuid"], "Lead researcher") and got["deployedRelease"]


@cases.add("ai agent create", "ai agent update", "ai agent remove")
def _agent_lifecycle(w: World) -> None:
    agent = new_agent(w, "Scorer")
    assert agent["name"] == "Scorer" and agent["icon"] == {"color": "green", "face": "🎯"}
    updated = w.item("ai agent update", {"uuid": agent["uuid"], "name": "Lead scorer"})
    assert updated["name"] == "Lead scorer" and updated["icon"]["face"] == "🎯"
    w.run("ai agent remove", {"agent-uuid": agent["uuid"]})
    w.gone("ai agent get", {"agent-uuid": agent["uuid"]})


@cases.add("ai release list", "ai release get", "ai release get-draft")
def _releases(w: World) -> None:
    (deployed,) = w.items("ai release list", {"agent-uuid": w.agent["uuid"], "statuses": ["deployed"]})
    got = w.item("ai release get", {"release-uuid": deployed["uuid"]})
    assert (got["uuid"], got["agentUuid"], got["status"]) == (deployed["uuid"], w.agent["uuid"], "deployed")
    draft = w.item("ai release get-draft", {"agent-uuid": w.agent["uuid"]})
    assert draft["status"] == "draft" and draft["agentUuid"] == w.agent["uuid"]


@cases.add("ai release update-draft", "ai release deploy-draft")
def _release_lifecycle(w: World) -> None:
    agent = new_agent(w, "Classifier")["uuid"]
    draft = w.item("ai release update-draft", {"agent-uuid": agent, "system-prompt": "Classify.", "temperature": 0.1})
    assert (draft["status"], draft["systemPrompt"], draft["temperature"]) == ("draft", "Classify.", 0.1)
    args = {"agent-uuid": agent, "integration-slug": "openai", "language-model-slug": "gpt-4o", **EMPTY_LISTS}
    released = w.item("ai release deploy-draft", args)
    assert (released["status"], released["version"], released["systemPrompt"]) == ("deployed", "1.0.0", "Classify.")
    assert w.item("ai agent get", {"agent-uuid": agent})["deployedRelease"]["uuid"] == released["uuid"]


@cases.add("ai template list", "ai template get")
def _templates(w: World) -> None:
    agents = w.items("ai template list", {"kinds": ["agent"]})
    assert {t["kind"] for t in agents} == {"agent"}
    assert w.item("ai template get", {"slug": "email-drafter"})["temperature"] == 0.8


# -- chats and messages ----------------------------------------------------------------------
@cases.add("ai chat create", "ai chat list", "ai message create", "ai message get", "ai message list")
def _chat(w: World) -> None:
    chat = w.item("ai chat create", {"trigger": {"type": "draft"}, "agent-uuid": w.agent["uuid"], "name": "Models?"})
    assert chat["agentUuid"] == w.agent["uuid"] and chat["name"] == "Models?"
    assert chat["uuid"] in {c["uuid"] for c in w.items("ai chat list", {"agent-uuid": w.agent["uuid"]})}
    parts = [{"type": "text", "text": "How many models are there?"}]
    outcome = w.run("ai message create", {"chat-uuid": chat["uuid"], "parts": parts, "wait-until-finished": True})
    assert outcome.job_status == "success" and outcome.job is not None
    reply = w.item("ai message get", {"message-uuid": outcome.job["uuid"]})
    models = w.items("storage model list")
    assert reply["status"] == "success" and f"{len(models)} models" in reply["parts"][0]["text"]
    messages = w.items("ai message list", {"chat-uuid": chat["uuid"]})
    assert {m["uuid"] for m in messages} >= {reply["uuid"]} and len(messages) == 2


# -- content ---------------------------------------------------------------------------------
@cases.add("ai file list", "ai file upload", "ai file update", "ai file remove")
def _files(w: World) -> None:
    path = w.box.data_dir.parent / "notes.txt"
    path.write_text("hello sandbox")
    (uploaded,) = w.data("ai file upload", {"file-path": str(path)})["files"]
    assert (uploaded["name"], uploaded["size"]) == ("notes.txt", 13)
    renamed = w.item("ai file update", {"uuid": uploaded["uuid"], "name": "renamed.txt"})
    assert renamed["name"] == "renamed.txt"
    assert "renamed.txt" in {f["name"] for f in w.items("ai file list")}
    w.run("ai file remove", {"file-uuid": uploaded["uuid"]})
    assert uploaded["uuid"] not in {f["uuid"] for f in w.items("ai file list")}


@cases.add("ai mcp-server list", "ai mcp-server create", "ai mcp-server update", "ai mcp-server remove")
def _mcp_servers(w: World) -> None:
    (lookups,) = [s for s in w.items("ai mcp-server list") if s["name"] == "CRM lookups"]
    assert [(r["kind"], r["modelUuid"]) for r in lookups["resources"]] == [("model", w.companies["uuid"])]
    created = w.item("ai mcp-server create", {"name": "Tools", "actions": [], "resources": []})
    assert created["name"] == "Tools"
    assert w.item("ai mcp-server update", {"uuid": created["uuid"], "name": "Tools 2"})["name"] == "Tools 2"
    w.run("ai mcp-server remove", {"mcp-server-uuid": created["uuid"]})
    assert created["uuid"] not in {s["uuid"] for s in w.items("ai mcp-server list")}


@cases.add("ai memory list", "ai memory update", "ai memory remove")
def _memories(w: World) -> None:
    scope = {"scope": "agent", "agent-uuid": w.agent["uuid"]}
    memories = w.items("ai memory list", scope)
    assert len(memories) == 2 and {m["agentUuid"] for m in memories} == {w.agent["uuid"]}
    first, second = memories
    w.run("ai memory update", {"mem0-id": first["mem0Id"], **scope, "content": "Sells to CFOs."})
    contents = {m["mem0Id"]: m["content"] for m in w.items("ai memory list", scope)}
    assert contents[first["mem0Id"]] == "Sells to CFOs."
    w.run("ai memory remove", {"mem0-id": second["mem0Id"], **scope})
    assert [m["mem0Id"] for m in w.items("ai memory list", scope)] == [first["mem0Id"]]


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
