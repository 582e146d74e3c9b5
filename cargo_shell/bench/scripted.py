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
from collections.abc import Iterator, Sequence
from typing import Any

from cargo_shell.agent.model import Message, ModelError, ModelItem, TextDelta, ToolCall, ToolSchema
from cargo_shell.bench.refs import RefError, render, scope_resolver


class ScriptError(ModelError):
    """The script cannot go on: no step left, or a reference to a result that is not there."""


class ScriptedModel:
    def __init__(self, steps: Sequence[dict[str, Any]], *, name: str = "scripted") -> None:
        self._steps = list(steps)
        self._name = name
        self._calls = 0
        #: tool call id → the step's name for its result
        self._names: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def leftover(self) -> int:
        return len(self._steps)

    def stream(self, messages: Sequence[Message], tools: Sequence[ToolSchema]) -> Iterator[ModelItem]:
        self._calls += 1
        if not self._steps:
            raise ScriptError(f"the {self._name} script has no step left for model call #{self._calls}")
        step = self._steps.pop(0)
        resolve = scope_resolver(self._results(messages))
        try:
            if "say" in step:
                text = render(step["say"], resolve)
                yield TextDelta(text if isinstance(text, str) else json.dumps(text))
                return
            items = [self._call(call, resolve, i) for i, call in enumerate(step.get("calls", [step]))]
        except RefError as exc:
            raise ScriptError(f"{self._name} step {self._calls}: {exc}") from None
        yield from items

    def _call(self, call: dict[str, Any], resolve: Any, index: int) -> ToolCall:
        from cargo_shell.registry import get_registry

        command = str(call["command"])
        tool = str(call.get("tool") or get_registry().get(command).skill)
        payload: dict[str, Any] = {"command": command}
        if "args" in call:
            payload["args"] = render(call["args"], resolve)
        call_id = f"call_{self._name}_{self._calls}_{index}"
        self._names[call_id] = str(call.get("id") or call_id)
        return ToolCall(call_id, tool, json.dumps(payload, ensure_ascii=False))

    def _results(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The named results of this script's earlier calls, from the tool messages."""
        out: dict[str, Any] = {}
        for message in messages:
            if message.get("role") != "tool":
                continue
            name = self._names.get(str(message.get("tool_call_id")))
            if name is None:
                continue
            try:
                payload = json.loads(str(message.get("content")))
            except ValueError:
                payload = {"text": message.get("content")}
            ok = isinstance(payload, dict) and payload.get("status") == "ok" and "result" in payload
            out[name] = payload["result"] if ok else payload
        return out
