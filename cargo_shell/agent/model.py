"""The model seam: a small chat protocol of our own, so nothing else depends on a vendor SDK.

Messages are plain JSON-able dicts in the Chat Completions shape (``role``, ``content``,
``tool_calls``, ``tool_call_id``), which is what every OpenAI-compatible server speaks and what a
saved conversation stores. A model turns messages + tool schemas into a stream of
:class:`TextDelta`, :class:`ToolCall` and :class:`Usage` items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cargo_shell.errors import CargoShellError

Message = dict[str, Any]
ToolSchema = dict[str, Any]


class ModelError(CargoShellError):
    """The language model could not be reached or refused the request (after any retries)."""


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCall:
    """One function call requested by the model; ``arguments`` is the raw JSON text it sent."""

    id: str
    name: str
    arguments: str

    def to_message_part(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


ModelItem = TextDelta | ToolCall | Usage


@runtime_checkable
class ChatModel(Protocol):
    """Anything that can answer a chat: the OpenAI adapter, the scripted test model, ..."""

    @property
    def name(self) -> str: ...

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSchema], *, timeout: float | None = None
    ) -> Iterator[ModelItem]:
        """Yield text deltas as they arrive, then the complete tool calls, then usage if known.

        ``timeout``: the seconds left for this call in the turn's budget; an adapter that waits on
        a network gives up (``ModelError``) rather than exceed it."""
        ...


@dataclass
class ModelReply:
    """A whole reply gathered from a stream (what the loop keeps)."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None

    def to_message(self) -> Message:
        message: Message = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [c.to_message_part() for c in self.tool_calls]
        return message


def parse_arguments(call: ToolCall) -> dict[str, Any]:
    """Decode a call's JSON arguments; raises ValueError with a message the model can act on."""
    text = call.arguments.strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the arguments of {call.name} are not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(value, dict):
        raise ValueError(f"the arguments of {call.name} must be a JSON object")
    return value
