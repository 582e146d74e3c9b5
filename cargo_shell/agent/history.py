"""The agent's bookkeeping of its conversation: what the model is sent and what is stored.

Everything stored is masked; every tool call gets an id no other call of the conversation has;
a turn that stops early leaves no call without a result (the history stays valid to resume).
"""

from __future__ import annotations

import json
from typing import Any

from cargo_shell.agent.conversation import Conversation
from cargo_shell.agent.model import Message, ModelReply, ToolCall
from cargo_shell.agent.prompts import system_prompt
from cargo_shell.agent.results import quote_data
from cargo_shell.agent.trimming import fit_context
from cargo_shell.secrets import Masker


class History:
    def __init__(self, conversation: Conversation, masker: Masker) -> None:
        self.conversation = conversation
        self.masker = masker
        self._fresh_ids = 0

    def add_user(self, text: str) -> None:
        self.conversation.add({"role": "user", "content": self.masker.text(text)})

    def add_result(self, call_id: str, content: str) -> None:
        self.conversation.add({"role": "tool", "tool_call_id": call_id, "content": content})

    def for_model(self, context_budget: int) -> list[Message]:
        """The system prompt and the history, fitted to the context budget."""
        # Stored messages are masked when added; masking again here also hides values learned
        # since (a token the API returned after the user had pasted it).
        history = self.masker.data(self.conversation.messages)
        messages = [{"role": "system", "content": system_prompt()}, *history]
        return fit_context(messages, context_budget)

    def add_reply(self, model_name: str, reply: ModelReply) -> None:
        """Store the model's reply (masked, its calls' ids made unique first) and its token usage."""
        reply.tool_calls = self.own_ids(reply.tool_calls)
        self.conversation.record_usage(model_name, reply.usage)
        message = reply.to_message()
        if message["content"]:
            message["content"] = self.masker.text(message["content"])
        for part in message.get("tool_calls", []):
            part["function"]["arguments"] = self._mask_arguments(part["function"]["arguments"])
        self.conversation.add(message)

    def own_ids(self, calls: list[ToolCall]) -> list[ToolCall]:
        """Every call gets an id no other call of the conversation has.

        Models reuse ids across replies and some gateways send empty ones; a call keyed by such
        an id would show, approve or answer another call's command. A missing or taken id is
        replaced (in the history too, so tool results still pair with their calls).
        """
        taken = {
            part.get("id")
            for message in self.conversation.messages
            if message.get("role") == "assistant"
            for part in message.get("tool_calls") or ()
        }
        out: list[ToolCall] = []
        for call in calls:
            if call.id and call.id not in taken:
                fixed = call
            else:
                fixed = ToolCall(self._next_id(taken), call.name, call.arguments)
            taken.add(fixed.id)
            out.append(fixed)
        return out

    def close_pending(self, reason: str) -> None:
        """Give every tool call of the last assistant message a result, so the history stays valid."""
        messages = self.conversation.messages
        last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "assistant"), None)
        if last is None:
            return
        answered = {m.get("tool_call_id") for m in messages[last + 1 :] if m.get("role") == "tool"}
        for part in messages[last].get("tool_calls") or ():
            if part["id"] not in answered:
                self.add_result(part["id"], quote_data({"status": "not_run", "message": reason}))

    def _next_id(self, taken: set[Any]) -> str:
        while True:
            self._fresh_ids += 1
            candidate = f"call_cs{self._fresh_ids}"
            if candidate not in taken:
                return candidate

    def _mask_arguments(self, text: str) -> str:
        try:
            value = json.loads(text)
        except ValueError:
            return self.masker.text(text)
        return json.dumps(self.masker.data(value), ensure_ascii=False)
