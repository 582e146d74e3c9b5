"""The seven skill tools: generated schemas (snapshot), decoding of calls, help, budget."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cargo_shell.agent.model import ToolCall
from cargo_shell.agent.prompts import system_prompt
from cargo_shell.agent.tools import HelpReply, InvalidCall, PreparedCall, Toolbox, build_tool_schemas
from cargo_shell.registry import SKILLS, get_registry

SNAPSHOT = Path(__file__).with_name("tool_schemas.json")
UPDATE_ENV = "CARGO_SHELL_UPDATE_SNAPSHOTS"
SEGMENT = "05d7d99a-733e-40d2-a4aa-5165711f7dc5"


def _call(tool: str, payload: object) -> ToolCall:
    return ToolCall("c1", tool, payload if isinstance(payload, str) else json.dumps(payload))


@pytest.fixture(scope="module")
def toolbox() -> Toolbox:
    return Toolbox()


def test_schemas_match_snapshot() -> None:
    """Regenerate with CARGO_SHELL_UPDATE_SNAPSHOTS=1 after changing the registry or a skill description."""
    current = json.dumps(build_tool_schemas(), indent=1, ensure_ascii=False) + "\n"
    if os.environ.get(UPDATE_ENV) == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.exists(), f"no snapshot yet: run with {UPDATE_ENV}=1"
    assert current == SNAPSHOT.read_text(encoding="utf-8")


def _split_top(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[(" and 1) or (char in "])" and -1) or 0
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    return [*parts, text[start:]]


def _commands_in_index(description: str) -> set[str]:
    """Read the command names back out of a tool's index: ``domain [resource: verb(args) [w], verb; ...]``."""
    index = description.split("\nCommands: ", 1)[1].removesuffix(".")
    names: set[str] = set()
    for part in _split_top(index, "; "):
        domain, _, body = part.partition(" [")
        if not body:
            names.add(domain)
            continue
        for entry in _split_top(body.removesuffix("]"), "; "):
            resource, _, verbs = entry.rpartition(": ")
            for verb in _split_top(verbs, ", "):
                word = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", verb).strip()
                names.add(" ".join([domain, *resource.split(), word]))
    return names


def test_one_tool_per_skill_covering_every_api_command() -> None:
    schemas = build_tool_schemas()
    assert [s["function"]["name"] for s in schemas] == list(SKILLS)
    for schema in schemas:
        skill = schema["function"]["name"]
        wanted = {s.name for s in get_registry().by_skill(skill) if s.http is not None}
        assert _commands_in_index(schema["function"]["description"]) == wanted, skill
    assert all(s["function"]["parameters"]["required"] == ["command"] for s in schemas)


def test_prompt_and_schemas_fit_the_character_budget() -> None:
    """A tokenizer-free guard of the 4,000-token budget; benchmarks/bench_tokens.py counts the real o200k
    tokens (3,930 for 15,280 characters with all 306 operations: 3.9 characters a token). 15,600
    characters is the budget at that ratio, so growth past it fails here before it reaches a model."""
    size = len(system_prompt()) + len(json.dumps(build_tool_schemas()))
    assert size <= 15_600, size


def test_decodes_a_valid_call(toolbox: Toolbox) -> None:
    decoded = toolbox.decode(
        _call("orchestration", {"command": "segmentation segment get", "args": {"segment-uuid": SEGMENT}})
    )
    assert isinstance(decoded, PreparedCall)
    assert decoded.spec.name == "segmentation segment get"
    assert decoded.params.model_dump()["segment_uuid"] == SEGMENT


def test_accepts_a_command_without_its_domain_and_json_sent_as_text(toolbox: Toolbox) -> None:
    decoded = toolbox.decode(
        _call(
            "orchestration",
            {
                "command": "segment fetch",
                "args": {"model-uuid": SEGMENT, "filter": '{"conjonction":"and","groups":[]}'},
            },
        )
    )
    assert isinstance(decoded, PreparedCall)
    assert decoded.args["filter"] == {"conjonction": "and", "groups": []}


@pytest.mark.parametrize(
    ("tool", "payload", "fragment"),
    [
        ("storage", {"command": "storage column list"}, "--model-uuid is required"),
        ("storage", {"command": "storage model get", "args": {"model-uuid": "nope"}}, "expected a UUID"),
        ("storage", {"command": "storage model list", "args": {"colour": "red"}}, "is not an argument"),
        ("storage", {"command": "segmentation segment list"}, "belongs to the orchestration tool"),
        ("storage", {"command": "storage modle list"}, "Did you mean: storage model list"),
        ("workspace", {"command": "login", "args": {"token": "x"}}, "local cargo-shell command"),
        ("payments", {"command": "x"}, "no tool named 'payments'"),
        ("storage", "{not json", "not valid JSON"),
        ("storage", {"command": "storage model list", "args": ["x"]}, "`args` must be an object"),
    ],
)
def test_problems_come_back_as_messages_the_model_can_act_on(
    toolbox: Toolbox, tool: str, payload: object, fragment: str
) -> None:
    decoded = toolbox.decode(_call(tool, payload))
    assert isinstance(decoded, InvalidCall)
    assert fragment in decoded.message


def test_validation_message_points_to_help(toolbox: Toolbox) -> None:
    decoded = toolbox.decode(_call("storage", {"command": "storage column list"}))
    assert isinstance(decoded, InvalidCall)
    assert '"help": true' in decoded.message


def test_help_without_a_command_returns_the_skill_guide(toolbox: Toolbox) -> None:
    decoded = toolbox.decode(_call("storage", {"command": "help"}))
    assert isinstance(decoded, HelpReply)
    assert decoded.content == toolbox.skills["storage"].body
    assert "storage model list" in decoded.content


def test_help_on_a_command_returns_its_full_arguments(toolbox: Toolbox) -> None:
    for payload in (
        {"command": "orchestration batch create", "help": True},
        {"command": "help", "args": {"command": "orchestration batch create"}},
    ):
        decoded = toolbox.decode(_call("orchestration", payload))
        assert isinstance(decoded, HelpReply)
        info = json.loads(decoded.content)
        assert info["effect"] == "cost"
        assert info["args"]["data"]["required"] is True
        assert "wait-until-finished" in info["args"]
        assert "batch_data_kinds" in info["details"]
        assert "notEnoughCredits" in info["error_reasons"]
        assert "background_job" in info
