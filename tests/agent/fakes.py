"""Test doubles for the agent: a scripted chat model and a scripted person answering confirmations.

``ScriptedModel`` plays a list of steps, one per model call, and records every request it gets.
A step is a list of model items, or a function of the messages so far returning one (so a
step can use a uuid from an earlier tool result). A call with no step left fails the test, and
so do steps left over at the end (``assert_done``, called by the fixtures).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cargo_shell.agent.model import Message, ModelItem, TextDelta, ToolCall, ToolSchema, Usage
from cargo_shell.executor import Approval
from cargo_shell.executor.plan import Plan

StepItems = list[ModelItem]
Step = StepItems | Callable[[list[Message]], StepItems]


def say(text: str, *, usage: tuple[int, int] = (100, 20)) -> StepItems:
    """A final answer, streamed in two pieces."""
    half = len(text) // 2
    return [TextDelta(text[:half]), TextDelta(text[half:]), Usage(*usage)]


_ids = iter(range(1, 1_000_000))


def call(tool: str, command: str, args: dict[str, Any] | None = None, *, help: bool = False) -> ToolCall:
    payload: dict[str, Any] = {"command": command}
    if args is not None:
        payload["args"] = args
    if help:
        payload["help"] = True
    return ToolCall(f"call_{next(_ids)}", tool, json.dumps(payload))


def calls(*items: ToolCall, usage: tuple[int, int] = (150, 30)) -> StepItems:
    return [*items, Usage(*usage)]


def tool_results(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The JSON payloads of the tool messages after the last assistant message."""
    out: list[dict[str, Any]] = []
    for message in reversed(messages):
        if message["role"] == "tool":
            text = message["content"]
            try:
                out.append(json.loads(text))
            except ValueError:
                out.append({"text": text})
        elif message["role"] == "assistant":
            break
    return list(reversed(out))


def last_result(messages: Sequence[Message]) -> dict[str, Any]:
    return tool_results(messages)[-1]


@dataclass
class Request:
    messages: list[Message]
    tools: list[ToolSchema]
    timeout: float | None = None

    def text(self) -> str:
        return json.dumps({"messages": self.messages, "tools": self.tools}, ensure_ascii=False)


class ScriptedModel:
    def __init__(self, steps: Sequence[Step], name: str = "scripted-model") -> None:
        self._steps = list(steps)
        self._name = name
        self.requests: list[Request] = []

    @property
    def name(self) -> str:
        return self._name

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSchema], *, timeout: float | None = None
    ) -> Iterator[ModelItem]:
        snapshot = copy.deepcopy(list(messages))
        self.requests.append(Request(snapshot, copy.deepcopy(list(tools)), timeout))
        if not self._steps:
            raise AssertionError(f"unexpected model call #{len(self.requests)}; last message: {snapshot[-1]}")
        step = self._steps.pop(0)
        items = step(snapshot) if callable(step) else step
        yield from items

    @property
    def leftover(self) -> int:
        return len(self._steps)

    def assert_done(self) -> None:
        assert not self._steps, f"{len(self._steps)} scripted model step(s) were never used"


@dataclass
class ScriptedPerson:
    """Answers confirmations from a list (``"yes"``, ``"no"``, ``"always"`` or an edit dict)."""

    answers: list[str | dict[str, Any]] = field(default_factory=list)
    asked: list[Plan] = field(default_factory=list)

    def confirm(self, plan: Plan) -> Approval:
        self.asked.append(plan)
        if not self.answers:
            raise AssertionError(f"unexpected confirmation for {plan.command}")
        answer = self.answers.pop(0)
        if isinstance(answer, dict):
            return Approval("edit", edited_args=answer)
        return Approval(answer)  # type: ignore[arg-type]

    def assert_done(self) -> None:
        assert not self.answers, f"{len(self.answers)} scripted answer(s) were never used"
