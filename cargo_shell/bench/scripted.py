"""A scripted model for oracle and decoy runs: plays a task's tool-call sequence as a ``ChatModel``.

Each step is one model reply: ``{"say": "..."}`` (a final answer), one call
``{"id": "seg", "command": "segmentation segment list", "args": {...}}`` or several in parallel
``{"calls": [...]}``. The tool is the command's skill unless the step names one. Arguments and
text may use ``${id.path}`` to take values from the results of earlier calls, exactly as the
model saw them (masked, possibly trimmed): a ``result`` of an ``ok`` call is looked into directly,
so ``${seg.segments[name=Hot leads].modelUuid}`` reads ``result.segments``. Nothing else is
visible to a script: it can only do what a model could.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from cargo_shell.agent.model import Message, ModelError, ModelItem, TextDelta, ToolCall, ToolSchema
from cargo_shell.bench.refs import RefError, render, scope_resolver


class ScriptError(ModelError):
    """The script cannot go on: no step left, or a reference to a result that is not there."""


_ID = re.compile(r"^call_s(\d+)c(\d+)$")


class ScriptedModel:
    """Plays ``steps``, one per model call.

    The step to play is read from the conversation itself (one assistant message per earlier
    call) and call ids encode their step (``call_s3c0``), so the model keeps no state between
    calls: the same script can answer a conversation from anywhere, e.g. behind an HTTP stub.
    """

    def __init__(self, steps: Sequence[dict[str, Any]], *, name: str = "scripted") -> None:
        self._steps = list(steps)
        self._name = name
        self._played = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def leftover(self) -> int:
        """Steps this model was never asked for."""
        return max(0, len(self._steps) - self._played)

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSchema], *, timeout: float | None = None
    ) -> Iterator[ModelItem]:
        items = self.reply(messages)
        self._played = sum(1 for m in messages if m.get("role") == "assistant") + 1
        yield from items

    def reply(self, messages: Sequence[Message]) -> list[ModelItem]:
        """The items of the step that comes after ``messages``."""
        index = sum(1 for m in messages if m.get("role") == "assistant")
        if index >= len(self._steps):
            raise ScriptError(f"the {self._name} script has no step left for model call #{index + 1}")
        step = self._steps[index]
        resolve = scope_resolver(self._results(messages))
        try:
            if "say" in step:
                text = render(step["say"], resolve)
                return [TextDelta(text if isinstance(text, str) else json.dumps(text))]
            return [self._call(call, resolve, index, j) for j, call in enumerate(step.get("calls", [step]))]
        except RefError as exc:
            raise ScriptError(f"{self._name} step {index + 1}: {exc}") from None

    def _call(self, call: dict[str, Any], resolve: Any, index: int, j: int) -> ToolCall:
        from cargo_shell.registry import get_registry

        command = str(call["command"])
        tool = str(call.get("tool") or get_registry().get(command).skill)
        payload: dict[str, Any] = {"command": command}
        if "args" in call:
            payload["args"] = render(call["args"], resolve)
        return ToolCall(f"call_s{index}c{j}", tool, json.dumps(payload, ensure_ascii=False))

    def _name_of(self, call_id: str) -> str | None:
        found = _ID.match(call_id)
        if found is None:
            return None
        index, j = int(found.group(1)), int(found.group(2))
        if index >= len(self._steps):
            return None
        calls = self._steps[index].get("calls", [self._steps[index]])
        return str(calls[j].get("id") or call_id) if j < len(calls) else None

    def _results(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The named results of this script's earlier calls, from the tool messages."""
        out: dict[str, Any] = {}
        for message in messages:
            if message.get("role") != "tool":
                continue
            name = self._name_of(str(message.get("tool_call_id")))
            if name is None:
                continue
            try:
                payload = json.loads(str(message.get("content")))
            except ValueError:
                payload = {"text": message.get("content")}
            ok = isinstance(payload, dict) and payload.get("status") == "ok" and "result" in payload
            out[name] = payload["result"] if ok else payload
        return out
