"""Secrets never reach the model's context or a saved conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cargo_shell.agent import events as ev
from cargo_shell.agent.conversation import Conversation
from cargo_shell.agent.masking import MASK, Masker
from cargo_shell.sandbox.runtime import Sandbox
from tests.agent.conftest import MakeAgent
from tests.agent.fakes import call, calls, last_result, say


def test_secret_keys_connector_configs_and_token_shapes_are_masked() -> None:
    masker = Masker(["my-known-secret-value"])
    data = {
        "token": {"uuid": "u1", "name": "ci", "token": "cai_sandbox_AAAAAAAAAAAAAAAAAAAAAAAA"},
        "connector": {
            "uuid": "c1",
            "integrationSlug": "hubspot",
            "config": {"apiKey": "k-123", "region": "eu", "port": 1},
        },
        "auth": {"accessToken": "abc", "clientSecret": "def", "expiresIn": 3600, "refreshToken": None},
        "note": "pasted sk-proj-abcdefghijklmnopqrstuv and my-known-secret-value here",
        "kept": ["plain", 3, True],
    }
    masked = masker.data(data)
    assert masked["token"] == {"uuid": "u1", "name": "ci", "token": MASK}
    assert masked["connector"]["config"] == {"apiKey": MASK, "region": MASK, "port": MASK}
    assert masked["connector"]["integrationSlug"] == "hubspot"
    assert masked["auth"] == {"accessToken": MASK, "clientSecret": MASK, "expiresIn": 3600, "refreshToken": None}
    assert masked["note"] == f"pasted {MASK} and {MASK} here"
    assert masked["kept"] == ["plain", 3, True]
    assert data["token"]["token"].startswith("cai_")  # the original is untouched


def test_a_created_api_token_never_reaches_the_model(make_agent: MakeAgent, sandbox: Sandbox, tmp_path: Path) -> None:
    permissions = [{"effect": "allow", "actions": ["storage:read"], "resources": ["*"]}]

    def answer(msgs: list[Any]) -> list[Any]:
        created = last_result(msgs)["result"]["token"]
        return say(f"Token {created['name']} created; its value is {created['token']}.")

    h = make_agent(
        [calls(call("workspace", "workspace token create", {"name": "ci", "permissions": permissions})), answer],
        answers=["yes"],
    )
    assert h.agent.masker.known == [sandbox.token]  # the token in use is masked by value, not only by shape
    final = h.agent.ask(f"Create a read-only token named ci (mine is {sandbox.token})")
    [result] = h.results()
    canary = result.data["token"]["token"]  # the person sees the real value once
    assert canary.startswith("cai_") and len(canary) > 20
    assert final.text == f"Token ci created; its value is {MASK}."
    for request in h.model.requests:
        text = request.text()
        assert canary not in text
        assert sandbox.token not in text
    saved = h.agent.conversation.save(tmp_path / "conversations")
    stored = saved.read_text(encoding="utf-8")
    assert canary not in stored and sandbox.token not in stored
    assert all(canary not in repr(e) for e in h.events if not isinstance(e, ev.ToolResult))


def test_credentials_in_a_tool_call_are_masked_in_the_history(make_agent: MakeAgent) -> None:
    config = {"apiKey": "hunter2-very-secret"}
    h = make_agent(
        [
            calls(
                call(
                    "connection",
                    "connection connector create",
                    {"integration-slug": "hubspot", "slug": "hs", "name": "HubSpot", "config": config},
                )
            ),
            say("Done."),
        ],
        answers=["no"],
    )
    h.agent.ask("Connect HubSpot")
    assert "hunter2-very-secret" not in h.model.requests[1].text()
    assert "hunter2-very-secret" not in json.dumps(h.agent.conversation.to_json())
    planned = h.of(ev.ToolCallPlanned)[0]
    assert planned.args["config"] == {"apiKey": MASK}


def test_conversation_round_trips(tmp_path: Path) -> None:
    conversation = Conversation()
    conversation.add({"role": "user", "content": "How many   segments?"})
    conversation.add({"role": "assistant", "content": "Five."})
    from cargo_shell.agent.model import Usage

    conversation.record_usage("m", Usage(10, 2), at=1.0)
    conversation.record_usage("m", None)
    path = conversation.save(tmp_path / "c")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = Conversation.load(path)
    assert again == conversation
    assert again.title == "How many segments?"
    assert again.totals() == {"calls": 1, "prompt_tokens": 10, "completion_tokens": 2}
