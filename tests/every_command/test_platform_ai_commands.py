"""The rest of the AI platform: chats after they open, votes, documents, prompts, content libraries,
the context repository, custom integrations and the subscription's settings."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest

from cargo_shell.registry import get_registry
from tests.every_command.world import Cases, World

cases = Cases()


def _chat_with_answer(w: World, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    chat = w.item("ai chat create", {"trigger": {"type": "draft"}, "agent-uuid": w.agent["uuid"], "name": name})
    parts = [{"type": "text", "text": "How many tools are there?"}]
    outcome = w.run("ai message create", {"chat-uuid": chat["uuid"], "parts": parts, "wait-until-finished": True})
    assert outcome.job_status == "success" and outcome.job is not None
    return chat, outcome.job


# -- chats, messages, votes ------------------------------------------------------------------
@cases.add("ai chat get", "ai chat update", "ai chat remove")
def _chat_lifecycle(w: World) -> None:
    chat, reply = _chat_with_answer(w, "Tools?")
    got = w.item("ai chat get", {"chat-uuid": chat["uuid"]})
    assert (got["uuid"], got["name"], got["agentUuid"]) == (chat["uuid"], "Tools?", w.agent["uuid"])
    assert got["lastMessage"]["uuid"] == reply["uuid"] and got["lastMessage"]["status"] == "success"
    assert got["creditsUsedCount"] > 0
    renamed = w.item("ai chat update", {"uuid": chat["uuid"], "name": "How many tools"})
    assert renamed["name"] == "How many tools"
    assert w.item("ai chat get", {"chat-uuid": chat["uuid"]})["name"] == "How many tools"
    w.run("ai chat remove", {"chat-uuid": chat["uuid"]})
    w.gone("ai chat get", {"chat-uuid": chat["uuid"]})
    assert chat["uuid"] not in {c["uuid"] for c in w.items("ai chat list")}


@cases.add("ai message cancel")
def _cancel(w: World) -> None:
    chat = w.item("ai chat create", {"trigger": {"type": "draft"}, "agent-uuid": w.agent["uuid"]})
    parts = [{"type": "text", "text": "Summarise the workspace"}]
    started = w.run("ai message create", {"chat-uuid": chat["uuid"], "parts": parts})
    answer = started.data["assistantMessage"]
    assert answer["status"] == "pending"
    w.run("ai message cancel", {"uuids": [answer["uuid"]]})
    w.settle()  # long past the moment the sandbox agent would have answered
    got = w.item("ai message get", {"message-uuid": answer["uuid"]})
    assert got["status"] == "cancelled" and got["parts"] == [] and got.get("usage") is None
    # the chat is free again: a new message is accepted and answered
    again = w.run("ai message create", {"chat-uuid": chat["uuid"], "parts": parts, "wait-until-finished": True})
    assert again.job_status == "success"
    error = w.fails("ai message cancel", {"uuids": [str(uuid.uuid4())]}, status=404)
    assert error.reason == "messageNotFound"


@cases.add("ai message remove")
def _remove_message(w: World) -> None:
    chat, reply = _chat_with_answer(w, "Remove me")
    user = next(m for m in w.items("ai message list", {"chat-uuid": chat["uuid"]}) if m["type"] == "user")
    refused = w.fails("ai message remove", {"message-uuid": reply["uuid"]}, status=400)
    assert refused.reason == "messageNotUser"
    w.run("ai message remove", {"message-uuid": user["uuid"]})
    w.gone("ai message get", {"message-uuid": user["uuid"]})
    assert [m["uuid"] for m in w.items("ai message list", {"chat-uuid": chat["uuid"]})] == [reply["uuid"]]


@cases.add("ai vote list", "ai vote upsert")
def _votes(w: World) -> None:
    chat, reply = _chat_with_answer(w, "Vote")
    assert w.data("ai vote list", {"chat-uuid": chat["uuid"]})["votes"] == []
    vote = w.item("ai vote upsert", {"chat-uuid": chat["uuid"], "message-uuid": reply["uuid"], "is-upvoted": True})
    assert (vote["messageUuid"], vote["isUpvoted"], vote["userUuid"]) == (reply["uuid"], True, w.admin["uuid"])
    w.item("ai vote upsert", {"chat-uuid": chat["uuid"], "message-uuid": reply["uuid"], "is-upvoted": False})
    (only,) = w.items("ai vote list", {"chat-uuid": chat["uuid"]})
    assert (only["messageUuid"], only["isUpvoted"]) == (reply["uuid"], False)  # changed, not added
    other, _ = _chat_with_answer(w, "Other")
    missing = w.fails("ai vote upsert", {"chat-uuid": other["uuid"], "message-uuid": reply["uuid"], "is-upvoted": True})
    assert missing.status == 404 and missing.reason == "messageNotFound"


# -- agents: deployed release, MCP servers, documents, prompts -------------------------------
@cases.add("ai release get-deployed", "ai mcp-server get")
def _agent_reads(w: World) -> None:
    deployed = w.item("ai release get-deployed", {"agent-uuid": w.agent["uuid"]})
    assert (deployed["agentUuid"], deployed["status"]) == (w.agent["uuid"], "deployed")
    assert deployed["uuid"] == w.agent["deployedRelease"]["uuid"]
    drafter = w._pick("ai agent list", name="Email drafter")
    assert w.fails("ai release get-deployed", {"agent-uuid": drafter["uuid"]}, status=404).reason == "releaseNotFound"
    (server,) = [s for s in w.items("ai mcp-server list") if s["name"] == "CRM lookups"]
    got = w.item("ai mcp-server get", {"mcp-server-uuid": server["uuid"]})
    assert got == server


@cases.add("ai document create", "ai document get", "ai document list", "ai document reset")
def _documents(w: World) -> None:
    doc = str(uuid.uuid4())
    first = w.item("ai document create", {"uuid": doc, "kind": "text", "title": "Brief", "content": "v1"})
    assert (first["uuid"], first["content"], first["kind"]) == (doc, "v1", "text")
    w.item("ai document create", {"uuid": doc, "kind": "text", "title": "Brief", "content": "v2"})
    w.item("ai document create", {"uuid": doc, "kind": "text", "title": "Brief (final)", "content": "v3"})
    latest = w.item("ai document get", {"document-uuid": doc})
    assert (latest["content"], latest["title"]) == ("v3", "Brief (final)")
    versions = w.items("ai document list", {"uuid": doc})
    assert [v["content"] for v in versions] == ["v1", "v2", "v3"]
    assert len({v["createdAt"] for v in versions}) == 3  # one clock tick, still three distinct versions
    kept = w.item("ai document reset", {"uuid": doc, "created-at": versions[1]["createdAt"]})
    assert kept["content"] == "v2"
    assert [v["content"] for v in w.items("ai document list", {"uuid": doc})] == ["v1", "v2"]
    assert w.item("ai document get", {"document-uuid": doc})["content"] == "v2"
    w.gone("ai document get", {"document-uuid": str(uuid.uuid4())})


@cases.add("ai prompt generate-json-schema")
def _json_schema(w: World) -> None:
    example = '{"score": 80, "fit": true, "reasons": [{"text": "uses a CRM", "weight": 0.5}]}'
    schema = w.data("ai prompt generate-json-schema", {"prompt": example})["jsonSchema"]
    assert schema["type"] == "object" and schema["required"] == ["score", "fit", "reasons"]
    assert schema["properties"]["score"] == {"type": "integer"} and schema["properties"]["fit"] == {"type": "boolean"}
    item = schema["properties"]["reasons"]["items"]
    assert item["properties"] == {"text": {"type": "string"}, "weight": {"type": "number"}}
    refused = w.unavailable("ai prompt generate-json-schema", {"prompt": "A score from 0 to 100 and a reason"})
    assert "JSON example" in refused.message


@cases.add("ai prompt evaluate", "ai prompt optimize", "ai suggested-action generate", "ai mcp-client connect")
def _need_a_model_or_outside_server(w: World) -> None:
    empty: dict[str, Any] = {"actions": [], "capabilities": [], "resources": []}
    assert "language model" in w.unavailable("ai prompt evaluate", {"prompt": "Research {{company}}", **empty}).message
    assert "language model" in w.unavailable("ai prompt optimize", {"prompt": "Research the company"}).message
    assert "language model" in w.unavailable("ai suggested-action generate", {"agent-uuid": w.agent["uuid"]}).message
    client = {"kind": "custom", "name": "docs", "url": "https://mcp.example.com/sse", "disabledToolSlugs": []}
    assert "MCP server" in w.unavailable("ai mcp-client connect", {"mcp-client": client}).message
    bad = w.fails("ai mcp-client connect", {"mcp-client": {"kind": "pigeon"}}, status=400)
    assert "kind" in bad.message


# -- content: files and libraries ------------------------------------------------------------
@cases.add("ai file get", "ai file read-bytes")
def _file_bytes(w: World) -> None:
    path = w.box.data_dir.parent / "pricing.md"
    body = ("# Pricing\n" + "Seats are billed monthly. " * 8000).encode()  # several chunks
    path.write_bytes(body)
    (uploaded,) = w.data("ai file upload", {"file-path": str(path)})["files"]
    got = w.item("ai file get", {"file-uuid": uploaded["uuid"]})
    assert (got["name"], got["size"], got["libraryUuid"]) == ("pricing.md", len(body), w.box.workspace_uuid)
    in_uploads = w.items("ai file list", {"library-uuid": w.box.workspace_uuid, "kind": "native"})
    assert uploaded["uuid"] in {f["uuid"] for f in in_uploads}
    assert w.data("ai file list", {"kind": "connector"})["files"] == []  # nothing is synced in the sandbox
    folder = w.folder("file")["uuid"]
    w.item("ai file update", {"uuid": uploaded["uuid"], "folder-uuid": folder})
    assert [f["uuid"] for f in w.items("ai file list", {"folder-uuid": folder})] == [uploaded["uuid"]]
    sink = io.BytesIO()
    outcome = w.run("ai file read-bytes", {"file-uuid": uploaded["uuid"]}, download_to=sink)
    assert sink.getvalue() == body and outcome.data == {"downloadedFiles": 1, "bytes": len(body)}
    preview = w.run("ai file read-bytes", {"file-uuid": uploaded["uuid"]}).data  # no sink: the agent's view
    assert preview["bytes"] == len(body) and preview["truncated"] and preview["text"].startswith("# Pricing")
    assert len(preview["text"]) < len(body)
    w.run("ai file remove", {"file-uuid": uploaded["uuid"]})
    w.gone("ai file get", {"file-uuid": uploaded["uuid"]})


@cases.add("ai library list", "ai library get", "ai library create", "ai library update", "ai library remove")
def _libraries(w: World) -> None:
    hubspot = w._pick("connection connector list", integrationSlug="hubspot")
    (native,) = w.items("ai library list", {"kind": "native"})
    assert (native["uuid"], native["kind"]) == (w.box.workspace_uuid, "native")
    args = {"name": "CRM notes", "connector-uuid": hubspot["uuid"], "extractor-slug": "companies", "config": {}}
    library = w.item("ai library create", args)
    assert (library["kind"], library["connectorUuid"]) == ("connector", hubspot["uuid"])
    assert "lastSyncedAt" not in library  # null (never synced), dropped by the client like every null
    listed = w.items("ai library list", {"connector-uuid": hubspot["uuid"]})
    assert [item["uuid"] for item in listed] == [library["uuid"]]
    assert w.item("ai library get", {"library-uuid": library["uuid"]})["name"] == "CRM notes"
    folder = w.folder("file")["uuid"]
    updated = w.item("ai library update", {"uuid": library["uuid"], "name": "CRM docs", "folder-uuid": folder})
    assert (updated["name"], updated["folderUuid"], updated["config"]) == ("CRM docs", folder, {})
    slack = w.slack["uuid"]
    refused = w.fails("ai library create", {**args, "connector-uuid": slack}, status=400)
    assert refused.reason == "integrationNotCompatible"
    assert w.fails("ai library remove", {"library-uuid": native["uuid"]}, status=400).reason == "libraryIsNative"
    w.run("ai library remove", {"library-uuid": library["uuid"]})
    w.gone("ai library get", {"library-uuid": library["uuid"]})


# -- the context repository ------------------------------------------------------------------
@cases.add("context repository get", "context graph get", "context runtime browse")
def _context_reads(w: World) -> None:
    repo = w.item("context repository get")
    assert repo["workspaceUuid"] == w.box.workspace_uuid and repo["source"] == {"kind": "managed",
                                                                                 "defaultBranch": "main"}  # fmt: skip
    graph = w.item("context graph get")
    assert {n["id"] for n in graph["nodes"]} >= {"README.md", "icp.md", "playbooks/outbound.md"}
    titles = {n["id"]: n["title"] for n in graph["nodes"]}
    assert titles["icp.md"] == "Ideal customer profile"
    edges = {(e["source"], e["target"], e["origin"]) for e in graph["edges"]}
    assert ("README.md", "icp.md", "wikilink") in edges and ("README.md", "playbooks/outbound.md", "mdlink") in edges
    assert ("icp.md", "personas/revops-leader.md", "frontmatter") in edges
    assert [(b["source"], b["target"]) for b in graph["broken"]] == [("playbooks/outbound.md", "pricing.md")]
    root = w.data("context runtime browse")
    assert {(e["name"], e["kind"]) for e in root["entries"]} >= {("README.md", "file"), ("playbooks", "folder")}
    tree = w.data("context runtime browse", {"depth": -1})["entries"]
    assert {"personas/revops-leader.md", "personas"} <= {e["path"] for e in tree}
    assert w.fails("context runtime browse", {"path": "nowhere"}, status=404).reason == "pathNotFound"


@cases.add("context runtime write", "context runtime read", "context runtime edit", "context runtime read-bytes")
def _context_files(w: World) -> None:
    text = "# Pricing\n\nStarter: 99 USD\nGrowth: 499 USD\n"
    written = w.item("context runtime write", {"path": "pricing.md", "content": text, "commit-message": "Prices"})
    assert written["message"] == "Prices" and len(written["sha"]) == 40
    part = w.data("context runtime read", {"path": "pricing.md", "start-line": 3, "end-line": 4})
    assert (part["content"], part["startLine"], part["endLine"], part["totalLines"]) == (
        "Starter: 99 USD\nGrowth: 499 USD\n", 3, 4, 4)  # fmt: skip
    edited = w.item("context runtime edit", {"path": "pricing.md", "old-string": ": 99 USD", "new-string": ": 89 USD"})
    assert edited["sha"] != written["sha"]
    twice = w.fails("context runtime edit", {"path": "pricing.md", "old-string": "USD", "new-string": "EUR"})
    assert twice.reason == "stringNotUnique"
    w.item(
        "context runtime edit", {"path": "pricing.md", "old-string": "USD", "new-string": "EUR", "replace-all": True}
    )
    sink = io.BytesIO()
    w.run("context runtime read-bytes", {"path": "pricing.md"}, download_to=sink)
    assert sink.getvalue() == b"# Pricing\n\nStarter: 89 EUR\nGrowth: 499 EUR\n"
    assert not w.item("context graph get")["broken"]  # the playbook's link to pricing.md now resolves
    assert w.fails("context runtime write", {"path": "../x.md", "content": ""}, status=403).reason == "deniedPath"
    assert w.fails("context runtime read", {"path": "absent.md"}, status=404).reason == "fileNotFound"


@cases.add("context runtime execute")
def _context_execute(w: World) -> None:
    listed = w.data("context runtime execute", {"command": "ls", "args": ["personas"]})
    assert (listed["exitCode"], listed["stdout"], "commit" in listed) == (0, "revops-leader.md\n", False)
    moved = w.data("context runtime execute", {"command": "mv personas/revops-leader.md personas/revops.md"})
    assert moved["exitCode"] == 0 and moved["commit"]["message"].startswith("Run mv ")
    shown = w.data("context runtime execute", {"command": "cat", "args": ["personas/revops.md"]})
    assert shown["stdout"].startswith("# RevOps leader")
    removed = w.data("context runtime execute", {"command": "rm", "args": ["-r", "personas"]})
    assert removed["exitCode"] == 0 and "commit" in removed
    assert "personas" not in {e["name"] for e in w.data("context runtime browse")["entries"]}
    failed = w.data("context runtime execute", {"command": "rm", "args": ["missing.md"]})
    assert failed["exitCode"] == 1 and "No such file" in failed["stderr"] and "commit" not in failed
    assert "ls, cat, mv, rm" in w.unavailable("context runtime execute", {"command": "python3 build.py"}).message


# -- connection ------------------------------------------------------------------------------
@cases.add(
    "connection custom-integration list",
    "connection custom-integration get",
    "connection custom-integration create",
    "connection custom-integration update",
    "connection custom-integration remove",
)
def _custom_integrations(w: World) -> None:
    created = w.item("connection custom-integration create", {"kind": "external", "base-url": "https://hooks.acme.io"})
    assert (created["kind"], created["baseUrl"]) == ("external", "https://hooks.acme.io")
    got = w.item("connection custom-integration get", {"custom-integration-uuid": created["uuid"]})
    assert got == created
    moved = w.item("connection custom-integration update", {"uuid": created["uuid"], "base-url": "https://v2.acme.io"})
    assert moved["baseUrl"] == "https://v2.acme.io"
    listed = w.items("connection custom-integration list")
    assert [c["baseUrl"] for c in listed] == ["https://hooks.acme-demo.com/cargo", "https://v2.acme.io"]  # seeded, new
    wrong = w.fails("connection custom-integration update", {"uuid": created["uuid"], "worker-uuid": str(uuid.uuid4())})
    assert wrong.reason == "customIntegrationNotWorker"
    missing = w.fails("connection custom-integration create", {"kind": "worker", "worker-uuid": str(uuid.uuid4())})
    assert (missing.status, missing.reason) == (404, "workerNotFound")
    w.run("connection custom-integration remove", {"custom-integration-uuid": created["uuid"]})
    w.gone("connection custom-integration get", {"custom-integration-uuid": created["uuid"]})


@cases.add(
    "connection connector get-language-models",
    "connection connector get-dynamic-schema",
    "connection integration initiate-oauth",
)
def _provider_side(w: World) -> None:
    args = {"name": "OpenAI", "slug": "openai_team", "integration-slug": "openai", "config": {"apiKey": "sk-test"}}
    openai = w.data("connection connector create", args)["connector"]
    models = w.items("connection connector get-language-models", {"connector-uuid": openai["uuid"]})
    assert "gpt-4o-mini" in {m["slug"] for m in models}
    refused = w.fails("connection connector get-language-models", {"connector-uuid": w.slack["uuid"]}, status=400)
    assert refused.reason == "languageModelsNotSupported"
    dynamic = {"connector-uuid": w.slack["uuid"], "slug": "channelFields", "params": {}}
    assert "connected account" in w.unavailable("connection connector get-dynamic-schema", dynamic).message
    assert "OAuth" in w.unavailable("connection integration initiate-oauth", {"slug": "hubspot"}).message


# -- billing ---------------------------------------------------------------------------------
@cases.add("billing subscription update-plan", "billing subscription update-topup")
def _plan_and_topup(w: World) -> None:
    before = w.item("billing subscription get")
    invoices = len(w.data("billing subscription get-invoices")["invoices"])
    up = w.item("billing subscription update-plan", {"credits-count": 20000, "cadence": "monthly"})
    assert up["subscriptionAvailableCreditsCount"] == 20000 and up["fixedPrice"] == 2 * before["fixedPrice"]
    assert up["hasPendingChange"] is False
    (newest, *_) = w.data("billing subscription get-invoices")["invoices"]
    assert len(w.data("billing subscription get-invoices")["invoices"]) == invoices + 1
    assert newest["amount"] == before["fixedPrice"]  # the difference of the two monthly prices, in cents
    down = w.item("billing subscription update-plan", {"credits-count": 5000, "cadence": "monthly"})
    assert down["subscriptionAvailableCreditsCount"] == 20000 and down["hasPendingChange"] is True
    assert (down["futureChange"]["creditsCount"], down["futureChange"]["startAt"]) == (5000, before["resetAt"])
    again = w.fails("billing subscription update-plan", {"credits-count": 8000, "cadence": "monthly"}, status=409)
    assert again.reason == "subscriptionAlreadyInUpdateState"
    topup = w.item("billing subscription update-topup", {"enabled": True, "threshold": 250, "credits-count": 2000})
    assert topup["topup"] == {"creditsCount": 2000, "threshold": 250}
    off = w.data("billing subscription update-topup", {"enabled": False, "threshold": 0, "credits-count": 1})
    assert "topup" not in off["subscription"]  # null, dropped by the client like every null


@cases.add("billing subscription update-credits-overage-behaviors")
def _overage(w: World) -> None:
    allow = [{"unit": "billing.credits", "action": "allow"}]
    name = "billing subscription update-credits-overage-behaviors"
    refused = w.fails(name, {"credits-overage-behaviors": allow}, status=400)
    assert refused.reason == "subscriptionNotEnterprise"  # the sandbox's plan is self-serve
    # an enterprise subscription (as the account team sets one up) takes the setting
    w.box.app.db.execute("UPDATE subscriptions SET data = json_set(data, '$.plan', 'enterprise')")
    w.run(name, {"credits-overage-behaviors": allow})
    assert w.item("billing subscription get")["creditsOverageBehaviors"] == allow
    w.box.app.db.execute("UPDATE subscriptions SET data = json_set(data, '$.plan', 'self-serve')")


@cases.add(
    "billing subscription create-setup-intent",
    "billing subscription create-stripe-credits-checkout-session",
    "billing subscription update-payment-method",
)
def _stripe(w: World) -> None:
    for name, args in (
        ("billing subscription create-setup-intent", {}),
        ("billing subscription create-stripe-credits-checkout-session", {}),
        ("billing subscription update-payment-method", {"payment-method-id": "pm_card_visa"}),
    ):
        assert "Stripe" in w.unavailable(name, args).message


def test_body_downloads_are_registry_data() -> None:
    bodies = sorted(s.name for s in get_registry() if s.download_body)
    assert bodies == ["ai file read-bytes", "context runtime read-bytes"]


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
