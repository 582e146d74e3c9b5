"""The AI domain through the in-process sandbox: agents, releases, chats/messages, content."""

from __future__ import annotations

import httpx

from cargo_shell.sandbox.runtime import Sandbox
from tests.sandbox.conftest import FakeClock
from tests.sandbox.orchestration_helpers import second_workspace_client, set_remaining_credits

ARRAYS = {"actions": [], "mcpClients": [], "resources": [], "capabilities": [], "suggestedActions": []}


def _agent(api: httpx.Client, name: str = "Scorer") -> dict:
    body = {"name": name, "icon": {"color": "green", "face": "🎯"}, "description": "Scores leads"}
    return api.post("/v1/ai/agents", json=body).json()["agent"]


def test_agent_crud_and_release_deploy(api: httpx.Client) -> None:
    agent = _agent(api)
    assert agent["deployedRelease"] is None
    assert api.post("/v1/ai/agents", json={"name": "x", "icon": {"color": "pink", "face": "?"}}).status_code == 400
    renamed = api.put(f"/v1/ai/agents/{agent['uuid']}", json={"name": "Lead scorer"}).json()["agent"]
    assert renamed["name"] == "Lead scorer" and renamed["icon"]["face"] == "🎯"
    draft = api.get("/v1/ai/releases/draft", params={"agentUuid": agent["uuid"]}).json()["release"]
    assert draft["status"] == "draft"
    updated = api.put(
        "/v1/ai/releases/draft/update",
        json={"agentUuid": agent["uuid"], "systemPrompt": "Score the lead.", "temperature": 0.1},
    ).json()["release"]
    assert (updated["uuid"], updated["systemPrompt"], updated["temperature"]) == (draft["uuid"], "Score the lead.", 0.1)
    incomplete = api.post(
        "/v1/ai/releases/draft/deploy",
        json={"agentUuid": agent["uuid"], "integrationSlug": "openai", "languageModelSlug": "gpt-4o"},
    )
    assert incomplete.status_code == 400 and "actions" in incomplete.json()["errorMessage"]
    deploy = {"agentUuid": agent["uuid"], "integrationSlug": "openai", "languageModelSlug": "gpt-4o", **ARRAYS}
    released = api.post("/v1/ai/releases/draft/deploy", json=deploy).json()["release"]
    assert (released["status"], released["version"], released["systemPrompt"]) == (
        "deployed",
        "1.0.0",
        "Score the lead.",
    )
    assert (
        api.post("/v1/ai/releases/draft/deploy", json={**deploy, "version": 2}).json()["reason"]
        == "invalidReleaseVersion"
    )
    second = api.post("/v1/ai/releases/draft/deploy", json={**deploy, "version": "2.0.0"}).json()["release"]
    got = api.get(f"/v1/ai/agents/{agent['uuid']}").json()["agent"]
    assert got["deployedRelease"]["version"] == "2.0.0" and got["deployedRelease"]["uuid"] == second["uuid"]
    statuses = [
        r["status"] for r in api.get("/v1/ai/releases/list", params={"agentUuid": agent["uuid"]}).json()["releases"]
    ]
    assert sorted(statuses) == ["archived", "deployed"]
    assert api.get(f"/v1/ai/releases/{second['uuid']}").json()["release"]["languageModelSlug"] == "gpt-4o"
    assert api.delete(f"/v1/ai/agents/{agent['uuid']}").status_code == 200
    assert api.get(f"/v1/ai/agents/{agent['uuid']}").json()["reason"] == "agentNotFound"


def test_message_lifecycle_and_sandbox_answer(sandbox: Sandbox, api: httpx.Client, fake_clock: FakeClock) -> None:
    agent = api.get("/v1/ai/agents/list").json()["agents"][0]
    chat = api.post("/v1/ai/chats", json={"trigger": {"type": "draft"}, "agentUuid": agent["uuid"], "name": "Q"}).json()
    chat_uuid = chat["chat"]["uuid"]
    sent = api.post(
        "/v1/ai/messages", json={"chatUuid": chat_uuid, "parts": [{"type": "text", "text": "How many models?"}]}
    )
    reply = sent.json()["assistantMessage"]
    assert (sent.json()["userMessage"]["status"], reply["status"]) == ("success", "pending")
    busy = api.post("/v1/ai/messages", json={"chatUuid": chat_uuid, "parts": [{"type": "text", "text": "again"}]})
    assert busy.json()["reason"] == "lastMessageNotFinished"
    fake_clock.advance(0.6)
    assert api.get(f"/v1/ai/messages/{reply['uuid']}").json()["message"]["status"] == "generating"
    fake_clock.advance(2)
    message = api.get(f"/v1/ai/messages/{reply['uuid']}").json()["message"]
    assert message["status"] == "success"
    text = message["parts"][0]["text"]
    models = api.get("/v1/storage/models/list").json()["models"]
    assert "sandbox agent" in text and f"{len(models)} models" in text
    assert message["usage"]["creditsUsedCount"] == 1
    listed = api.get("/v1/ai/messages/list", params={"chatUuid": chat_uuid}).json()["messages"]
    assert [m["type"] for m in listed] == ["user", "assistant"]
    chats = api.get("/v1/ai/chats/list", params={"agentUuid": agent["uuid"]}).json()["chats"]
    assert chats[0]["uuid"] == chat_uuid and chats[0]["creditsUsedCount"] == 1
    assert (
        api.post("/v1/ai/messages", json={"chatUuid": "nope", "parts": [{"type": "text", "text": "x"}]}).json()[
            "reason"
        ]
        == "chatNotFound"
    )
    set_remaining_credits(sandbox, 0)
    broke = api.post("/v1/ai/messages", json={"chatUuid": chat_uuid, "parts": [{"type": "text", "text": "more"}]})
    assert broke.json()["reason"] == "notEnoughCredits"


def test_files_mcp_servers_and_memories(api: httpx.Client) -> None:
    upload = api.post("/v1/content/files/upload", files={"file": ("notes.txt", b"hello sandbox", "text/plain")})
    file = upload.json()["files"][0]
    assert (file["name"], file["size"], file["contentType"]) == ("notes.txt", 13, "text/plain")
    assert (
        api.post("/v1/content/files/upload", data={"x": "1"}, files={"other": ("a", b"a")}).json()["reason"] == "noFile"
    )
    renamed = api.put(f"/v1/content/files/{file['uuid']}", json={"name": "renamed.txt"}).json()["file"]
    assert renamed["name"] == "renamed.txt"
    assert "renamed.txt" in {f["name"] for f in api.get("/v1/content/files/list").json()["files"]}
    assert api.delete(f"/v1/content/files/{file['uuid']}").status_code == 200
    assert api.put(f"/v1/content/files/{file['uuid']}", json={"name": "x"}).json()["reason"] == "fileNotFound"

    assert api.post("/v1/ai/mcpServers", json={"name": "only a name"}).status_code == 400
    server = api.post("/v1/ai/mcpServers", json={"name": "Tools", "actions": [], "resources": []}).json()["mcpServer"]
    assert (
        api.put(f"/v1/ai/mcpServers/{server['uuid']}", json={"name": "Tools 2"}).json()["mcpServer"]["name"]
        == "Tools 2"
    )
    assert api.delete(f"/v1/ai/mcpServers/{server['uuid']}").status_code == 200
    assert api.delete(f"/v1/ai/mcpServers/{server['uuid']}").json()["reason"] == "mcpServerNotFound"

    agent = api.get("/v1/ai/agents/list").json()["agents"][0]
    memories = api.get("/v1/ai/memories/list", params={"scope": "agent", "agentUuid": agent["uuid"]}).json()["memories"]
    assert len(memories) == 2 and all(m["scope"] == "agent" for m in memories)
    assert api.get("/v1/ai/memories/list", params={"scope": "workspace"}).status_code == 400
    mem = memories[0]["mem0Id"]
    wrong_scope = api.put(f"/v1/ai/memories/{mem}", json={"scope": "user", "content": "x"})
    assert wrong_scope.json()["reason"] == "memoryNotFound"
    body = {"scope": "agent", "agentUuid": agent["uuid"], "content": "Sells to CFOs."}
    assert api.put(f"/v1/ai/memories/{mem}", json=body).status_code == 200
    params = {"scope": "agent", "agentUuid": agent["uuid"]}
    assert api.delete(f"/v1/ai/memories/{mem}", params=params).status_code == 200
    assert len(api.get("/v1/ai/memories/list", params=params).json()["memories"]) == 1


def test_templates_and_isolation(sandbox: Sandbox, api: httpx.Client) -> None:
    agents = api.post("/v1/ai/templates/list", json={"kinds": ["agent"]}).json()["templates"]
    assert {"lead-researcher", "company-classifier", "email-drafter"} <= {t["slug"] for t in agents}
    assert api.get("/v1/ai/templates/email-drafter").json()["template"]["temperature"] == 0.8
    assert api.get("/v1/ai/templates/nope").json()["reason"] == "templateNotFound"
    agent = api.get("/v1/ai/agents/list").json()["agents"][0]
    with second_workspace_client(sandbox) as other:
        assert other.get("/v1/ai/agents/list").json() == {"agents": []}
        assert other.get(f"/v1/ai/agents/{agent['uuid']}").status_code == 404
        assert other.get("/v1/content/files/list").json() == {"files": []}
        assert other.get("/v1/ai/chats/list").json() == {"chats": []}
