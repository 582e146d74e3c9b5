"""The OpenAI adapter: the only module that imports ``openai``.

It speaks Chat Completions, so it works with any compatible server (OpenAI, Azure OpenAI's
v1 endpoint, Ollama, vLLM, LM Studio, OpenRouter). The SDK's own retries cover the LLM calls.
``openai`` is imported on first use, not at start-up (it costs ~0.5 s). The installed SDK
generation (3.x) sends requests through ``httpx2``; we never hand it an HTTP client of our own,
so the adapter works the same on the 1.x line (``httpx``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cargo_shell.agent.model import Message, ModelError, ModelItem, TextDelta, ToolCall, ToolSchema, Usage
from cargo_shell.errors import ConfigError

DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class ModelSettings:
    model: str
    api_key: str | None
    base_url: str | None
    stream: bool = True
    max_retries: int = 2
    timeout_s: float = 120.0


def model_settings(environ: Mapping[str, str], settings: Mapping[str, Any] | None = None) -> ModelSettings:
    """Environment first (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``CARGO_SHELL_MODEL``), then the
    profile's settings (``model``, ``openai_base_url``), then defaults."""
    prof = settings or {}
    model = environ.get("CARGO_SHELL_MODEL") or prof.get("model") or DEFAULT_MODEL
    base_url = environ.get("OPENAI_BASE_URL") or prof.get("openai_base_url") or None
    api_key = environ.get("OPENAI_API_KEY") or None
    stream = str(prof.get("model_stream", "true")).lower() not in ("false", "0", "no")
    return ModelSettings(str(model), api_key, str(base_url) if base_url else None, stream=stream)


class OpenAIChatModel:
    def __init__(self, settings: ModelSettings, *, client: Any = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def name(self) -> str:
        return self.settings.model

    @property
    def known_secrets(self) -> tuple[str, ...]:
        return (self.settings.api_key,) if self.settings.api_key else ()

    def client(self) -> Any:
        if self._client is None:
            import openai

            key = self.settings.api_key
            if key is None:
                if self.settings.base_url is None:
                    raise ConfigError(
                        "No language model is configured",
                        hint="Set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server).",
                    )
                key = "not-needed"  # local servers (Ollama, vLLM, LM Studio) accept any key
            self._client = openai.OpenAI(
                api_key=key,
                base_url=self.settings.base_url,
                max_retries=self.settings.max_retries,
                timeout=self.settings.timeout_s,
            )
        return self._client

    def stream(self, messages: Sequence[Message], tools: Sequence[ToolSchema]) -> Iterator[ModelItem]:
        import openai

        request: dict[str, Any] = {"model": self.settings.model, "messages": list(messages)}
        if tools:
            request["tools"] = list(tools)
            request["parallel_tool_calls"] = True
        try:
            if self.settings.stream:
                yield from self._streamed(request)
            else:
                yield from self._whole(request)
        except openai.APIStatusError as exc:
            raise ModelError(f"The language model answered HTTP {exc.status_code}: {_short(exc.message)}") from None
        except openai.APIConnectionError as exc:
            where = self.settings.base_url or "the OpenAI API"
            raise ModelError(f"Cannot reach the language model at {where}: {_short(str(exc))}") from None
        except openai.OpenAIError as exc:
            raise ModelError(f"Language model error: {_short(str(exc))}") from None

    def _whole(self, request: dict[str, Any]) -> Iterator[ModelItem]:
        response = self.client().chat.completions.create(**request)
        if response.choices:
            message = response.choices[0].message
            if message.content:
                yield TextDelta(message.content)
            for call in message.tool_calls or ():
                function = getattr(call, "function", None)
                if function is not None:
                    yield ToolCall(call.id, function.name, function.arguments or "")
        if response.usage is not None:
            yield Usage(response.usage.prompt_tokens, response.usage.completion_tokens)

    def _streamed(self, request: dict[str, Any]) -> Iterator[ModelItem]:
        request = {**request, "stream": True, "stream_options": {"include_usage": True}}
        parts: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        for chunk in self.client().chat.completions.create(**request):
            if chunk.usage is not None:
                usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices or ():
                delta = choice.delta
                if delta.content:
                    yield TextDelta(delta.content)
                for piece in delta.tool_calls or ():
                    slot = parts.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
                    if piece.id:
                        slot["id"] = piece.id
                    if piece.function is not None:
                        slot["name"] += piece.function.name or ""
                        slot["arguments"] += piece.function.arguments or ""
        for index in sorted(parts):
            slot = parts[index]
            yield ToolCall(slot["id"] or f"call_{index}", slot["name"], slot["arguments"])
        if usage is not None:
            yield usage


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
