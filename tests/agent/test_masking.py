"""Secrets never reach the model's context or a saved conversation (the real loop, executor and sandbox)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cargo_shell.agent import events as ev
from cargo_shell.agent.conversation import Conversation
from cargo_shell.executor import Executor
from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.secrets import MASK, KnownSecrets
from tests.agent.conftest import MakeAgent
from tests.agent.fakes import call, calls, last_result, say

SCORE_LEAD = "b4e52f36-6f15-4876-acf4-74eefa4418f8"
#: One canary per key name the old masker let through; none has a recognisable shape.
NODE_CANARIES = {
    "X-Api-Key": "canary-xapikey-1a2b",
    "client_secret": "canary-client-3c4d",
    "access_token": "canary-access-5e6f",
    "botToken": "canary-bot-7g8h",
    "api_token": "canary-apitoken-9i0j",
}


def test_a_created_api_token_is_masked_for_the_model_and_shown_to_the_person_once(
    make_agent: MakeAgent, sandbox: Sandbox, tmp_path: Path, known_secrets: KnownSecrets
) -> None:
    permissions = [{"effect": "allow", "actions": ["storage:read"], "resources": ["*"]}]

    def answer(msgs: list[Any]) -> list[Any]:
        created = last_result(msgs)["result"]["token"]
        return say(f"Token {created['name']} created; its value is {created['token']}.")

    h = make_agent(
        [
            calls(call("workspace", "workspace token create", {"name": "ci", "permissions": permissions})),
            answer,
            say("Noted."),
        ],
        answers=["yes"],
    )
    assert sandbox.token in known_secrets  # the token in use is masked by value, not only by shape
    final = h.agent.ask(f"Create a read-only token named ci (mine is {sandbox.token})")
    [result] = h.results()
    canary = result.data["token"]["token"]
    assert canary.startswith("cai_") and len(canary) > 20
    [shown] = h.of(ev.SecretRevealed)  # the person sees the one-time value once
    assert shown.secrets == (("token.token", canary),) and shown.command == "workspace token create"
    assert canary not in repr(shown)
    assert final.text == f"Token ci created; its value is {MASK}."
    assert canary in known_secrets  # from then on it is masked by value wherever it appears
    h.agent.ask(f"remember {canary} please")
    for request in h.model.requests:
        text = request.text()
        assert canary not in text and sandbox.token not in text
    assert h.model.requests[2].messages[-1] == {"role": "user", "content": f"remember {MASK} please"}
    saved = h.agent.conversation.save(tmp_path / "conversations").read_text(encoding="utf-8")
    assert canary not in saved and sandbox.token not in saved
    assert all(canary not in repr(e) for e in h.events if not isinstance(e, ev.ToolResult))


def test_node_config_secrets_under_any_key_name_never_reach_the_model(
    make_agent: MakeAgent, executor: Executor, tmp_path: Path
) -> None:
    draft = executor.read("orchestration draft-release get", {"workflow-uuid": SCORE_LEAD})["release"]
    nodes = draft["nodes"]
    config = nodes[1]["config"]
    config["headers"] = {"X-Api-Key": NODE_CANARIES["X-Api-Key"], "Accept": "application/json"}
    config.update({k: v for k, v in NODE_CANARIES.items() if k != "X-Api-Key"})
    executor.run(  # the user's own command (on the CLI it is theirs, printed as typed)
        executor.registry.get("orchestration draft-release update"),
        {"workflow-uuid": SCORE_LEAD, "nodes": nodes},
        confirmer=_Yes(),
    )

    def check(msgs: list[Any]) -> list[Any]:
        seen = last_result(msgs)["result"]["release"]["nodes"][1]["config"]
        assert seen["headers"] == {"X-Api-Key": MASK, "Accept": "application/json"}
        assert all(seen[k] == MASK for k in NODE_CANARIES if k != "X-Api-Key")
        return say("The score node calls an API with a key (masked).")

    h = make_agent(
        [calls(call("orchestration", "orchestration draft-release get", {"workflow-uuid": SCORE_LEAD})), check]
    )
    h.agent.ask(f"What does the draft of {SCORE_LEAD} do? My bot token is {NODE_CANARIES['botToken']}")
    stored = json.dumps(Conversation.load(h.agent.conversation.save(tmp_path / "c")).to_json())
    for value in NODE_CANARIES.values():
        assert all(value not in r.text() for r in h.model.requests), value
        assert value not in stored


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
    [planned] = h.of(ev.ToolCallPlanned)
    assert planned.args["config"] == {"apiKey": MASK}
    assert "hunter2-very-secret" not in planned.command_line
    [asked] = h.of(ev.ConfirmationAsked)
    assert "hunter2-very-secret" not in asked.plan_text and MASK in asked.plan_text


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


class _Yes:
    def confirm(self, plan: Any) -> Any:
        from cargo_shell.executor import Approval

        return Approval("yes")
