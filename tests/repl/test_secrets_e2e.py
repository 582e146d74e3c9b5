"""A canary secret in every position, through `cargo-shell run` (the `-p` machinery, two prompts)
with the real OpenAI adapter against a local stub server, the real loop, executor and sandbox:
none reaches the model, a file under CARGO_SHELL_HOME, stdout or stderr — except a token the
assistant created, shown once on stderr."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from cargo_shell import cli
from cargo_shell.secrets import KNOWN, MASK
from tests.repl.conftest import FakeClock, World, make_world
from tests.repl.stub_llm import Reply, StubLLM, tool, tool_payloads

SCORE_LEAD = "b4e52f36-6f15-4876-acf4-74eefa4418f8"
#: Shapeless canaries: only masking by value or by key name can catch them.
CARGO_TOKEN = "canary-cargo-token-Q7w3Zp"
LLM_KEY = "canary-llm-key-R4t8Mv"
CONNECTOR_KEY = "canary-connector-key-H2j6Ln"
NODE = {
    "X-Api-Key": "canary-xapikey-1a2b3c",
    "client_secret": "canary-client-3c4d5e",
    "access_token": "canary-access-5e6f7g",
    "botToken": "canary-bot-7g8h9i",
    "api_token": "canary-apitoken-9i0j1k",
}
#: Pasted into the prompt: found by their shapes.
PASTED = {
    "openai": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
    "github": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "aws-id": "AKIAIOSFODNN7EXAMPLE",
    "aws-secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
CANARIES = [CARGO_TOKEN, LLM_KEY, CONNECTOR_KEY, *NODE.values(), *PASTED.values()]
PROMPT = (
    f"Look at the draft of {SCORE_LEAD}, make me a read-only token named ci and connect HubSpot. "
    f"My keys: {PASTED['openai']} {PASTED['github']} {PASTED['jwt']} aws_access_key_id={PASTED['aws-id']} "
    f"aws_secret_access_key={PASTED['aws-secret']}; cargo {CARGO_TOKEN}, openai {LLM_KEY}"
)
#: A shapeless value can only be masked once it is known: the bot token, learned from the draft.
FOLLOW_UP = f"Is the bot token {NODE['botToken']} the one in that draft?"


def _world(tmp_path: Path, seeded: Path, stub: StubLLM) -> World:
    data_dir = tmp_path / "sandbox-e2e"
    shutil.copytree(seeded, data_dir)
    llm = {"OPENAI_BASE_URL": stub.base_url, "OPENAI_API_KEY": LLM_KEY, "CARGO_SHELL_MODEL": "gpt-4o-mini"}
    return make_world(data_dir, FakeClock(), llm, token=CARGO_TOKEN)


def _set_node_secrets(world: World) -> None:
    """The user's own command, in an earlier process: node configs holding secrets."""
    executor = world.ctx.executor()
    nodes = executor.read("orchestration draft-release get", {"workflow-uuid": SCORE_LEAD})["release"]["nodes"]
    nodes[1]["config"]["headers"] = {"X-Api-Key": NODE["X-Api-Key"]}
    nodes[1]["config"].update({k: v for k, v in NODE.items() if k != "X-Api-Key"})
    spec = executor.registry.get("orchestration draft-release update")
    executor.policy.assume_yes = True
    executor.run(spec, {"workflow-uuid": SCORE_LEAD, "nodes": nodes})
    world.ctx.close()
    KNOWN.clear()  # what that process knew dies with it


def _files_under(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()}


@pytest.mark.parametrize("output", ["json", "text"])
def test_no_canary_leaves_the_process_or_lands_on_disk(
    tmp_path: Path, seeded_sandbox_template: Path, shell_home: Path, output: str
) -> None:
    seen: dict[str, Any] = {}

    def answer(messages: list[dict[str, Any]]) -> Reply:
        draft, token, connector = tool_payloads(messages)
        seen.update(draft=draft, token=token, connector=connector)
        created = token["result"]["token"]["token"]
        return Reply(f"Done. The new token is {created}; HubSpot is connected.")

    def follow_up(messages: list[dict[str, Any]]) -> Reply:
        assert messages[-1] == {"role": "user", "content": f"Is the bot token {MASK} the one in that draft?"}
        return Reply("I cannot see secret values: they are masked.")

    connect = {
        "integration-slug": "hubspot",
        "slug": "hs_canary",
        "name": "HubSpot",
        "config": {"apiKey": CONNECTOR_KEY},
    }
    steps = [
        Reply(
            tool_calls=[
                tool("orchestration", "orchestration draft-release get", {"workflow-uuid": SCORE_LEAD}),
                tool("workspace", "workspace token create", {"name": "ci"}),
                tool("connection", "connection connector create", connect),
            ]
        ),
        answer,
        follow_up,
    ]
    prompts = tmp_path / "prompts.txt"  # outside CARGO_SHELL_HOME: the user's own file
    prompts.write_text(f"{PROMPT}\n{FOLLOW_UP}\n", encoding="utf-8")
    with StubLLM(steps) as stub:
        world = _world(tmp_path, seeded_sandbox_template, stub)
        _set_node_secrets(world)
        argv = ["run", str(prompts), "--yes", *(["--output", "json"] if output == "json" else [])]
        try:
            status = cli.dispatch(world.ctx, argv)
        finally:
            world.ctx.close()
        stored_config = world.box.app.db.scalar("SELECT config FROM connectors WHERE slug = 'hs_canary'")
    stdout, stderr = world.out.getvalue(), world.ctx.env.stderr.getvalue()  # type: ignore[attr-defined]
    assert (status, stub.errors, stub.leftover) == (0, [], 0), stdout + stderr

    # the created token: shown once on stderr with the warning, nowhere else
    [created] = re.findall(r"token\.token: (cai_\S+)", stderr)
    assert "shown here once" in stderr and stderr.count(created) == 1
    # the requests really carried what the model asked for (masking is on the way out, not in)
    assert CONNECTOR_KEY in stored_config

    node_config = seen["draft"]["result"]["release"]["nodes"][1]["config"]
    assert node_config["headers"] == {"X-Api-Key": MASK}
    assert all(node_config[k] == MASK for k in NODE if k != "X-Api-Key")
    assert seen["token"]["result"]["token"]["token"] == MASK

    sent = json.dumps(stub.requests)
    files = _files_under(shell_home)
    assert "state/audit.jsonl" in files and any(name.startswith("state/conversations/") for name in files)
    for canary in [*CANARIES, created]:
        assert canary not in sent, f"{canary} reached the model"
        for name, content in files.items():
            assert canary not in content, f"{canary} landed in {name}"
        assert canary not in stdout, f"{canary} on stdout"
        if canary != created:
            assert canary not in stderr, f"{canary} on stderr"
    if output == "json":
        events = [json.loads(line) for line in stdout.splitlines()]
        assert events[-1]["type"] == "final"
        texts = [e["text"] for e in events if e["type"] == "assistant"]
        assert f"Done. The new token is {MASK}; HubSpot is connected." in "".join(texts)


def test_the_shell_masks_its_history_saved_script_conversation_and_audit(
    run_repl: Any, world: World, tmp_path: Path, shell_home: Path
) -> None:
    from tests.agent.fakes import ScriptedModel, say

    key = "canary-repl-key-Z9x8Wq"
    script = tmp_path / "session.cargo"
    model = ScriptedModel([say("I will not use it: it is masked.")])
    keys = (
        "connection connector create --integration-slug hubspot --slug hs_two --name H2 "
        f'--config \'{{"apiKey": "{key}"}}\'\ry\r'
        f"please keep my key {PASTED['openai']} safe\r"
        f"/save {script}\r"
    )
    driven = run_repl(keys, model=model)
    assert world.box.app.db.scalar("SELECT config FROM connectors WHERE slug = 'hs_two'").count(key) == 1
    saved = script.read_text(encoding="utf-8")
    assert "connection connector create" in saved and f'"apiKey":"{MASK}"' in saved
    assert PASTED["openai"] not in model.requests[0].text()
    files = _files_under(shell_home)
    assert {"state/history", "state/audit.jsonl"} <= set(files)
    for secret in (key, PASTED["openai"]):
        assert secret not in saved
        for name, content in files.items():
            assert secret not in content, f"{secret} landed in {name}"
    assert MASK in files["state/history"]
    assert "connector" in driven.text
