"""The OpenAI adapter: the only module that imports ``openai``.

It speaks Chat Completions, so it works with any compatible server (OpenAI, Azure OpenAI's
v1 endpoint, Ollama, vLLM, LM Studio, OpenRouter). ``openai`` is imported on first use, not at
start-up (it costs ~0.5 s). The installed SDK generation (3.x) sends requests through
``httpx2``; we never hand it an HTTP client of our own, so the adapter works the same on the
1.x line (``httpx``).

Time is bounded three ways, each a setting: the connect timeout, the read timeout (the longest
silence between bytes), and the turn's budget the agent passes as ``timeout`` (no call runs
past it, retries included). Retries are ours, not the SDK's, so they respect that budget:
connection errors, 408, 409, 429 and 5xx are retried with backoff, or after as long as the
server's ``Retry-After`` asks when that fits the budget; a read timeout is not (a stalled server
stays stalled; the user hears about it at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cargo_shell.agent.limits import TURN_TIMEOUT, Setting, read_number
from cargo_shell.agent.model import Message, ModelError, ModelItem, TextDelta, ToolCall, ToolSchema, Usage
from cargo_shell.errors import ConfigError
from cargo_shell.secrets import mask_text, remember

CONNECT_TIMEOUT = Setting("CARGO_SHELL_LLM_CONNECT_TIMEOUT", "llm_connect_timeout")
READ_TIMEOUT = Setting("CARGO_SHELL_LLM_READ_TIMEOUT", "llm_read_timeout")
RETRIES = Setting("CARGO_SHELL_LLM_RETRIES", "llm_retries")
_RETRY_STATUSES = frozenset({408, 409, 429})
#: A server asking for a longer wait than this is not waited for (the error is reported instead).
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class ModelSettings:
    model: str
    api_key: str | None
    base_url: str | None
    stream: bool = True
    max_retries: int = 2
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0


def model_settings(
    environ: Mapping[str, str], settings: Mapping[str, Any] | None = None, *, default_model: str
) -> ModelSettings:
    """Environment first (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``CARGO_SHELL_MODEL``,
    ``CARGO_SHELL_LLM_*``), then the profile's settings (``model``, ``openai_base_url``,
    ``llm_*``), then defaults (the model's comes from the provider table, ``commands/providers.py``)."""
    prof = settings or {}
    model = environ.get("CARGO_SHELL_MODEL") or prof.get("model") or default_model
    base_url = environ.get("OPENAI_BASE_URL") or prof.get("openai_base_url") or None
    api_key = environ.get("OPENAI_API_KEY") or None
    stream = str(prof.get("model_stream", "true")).lower() not in ("false", "0", "no")
    defaults = ModelSettings("", None, None)
    return ModelSettings(
        str(model),
        api_key,
        str(base_url) if base_url else None,
        stream=stream,
        max_retries=int(read_number(RETRIES, environ, prof, defaults.max_retries, whole=True, zero_ok=True)),
        connect_timeout_s=read_number(CONNECT_TIMEOUT, environ, prof, defaults.connect_timeout_s, whole=False),
        read_timeout_s=read_number(READ_TIMEOUT, environ, prof, defaults.read_timeout_s, whole=False),
    )


class OpenAIChatModel:
    def __init__(
        self,
        settings: ModelSettings,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._client = client
        self.clock = clock
        self.sleep = sleep
        remember(settings.api_key)  # masked by value in everything that leaves the process

    @property
    def name(self) -> str:
        return self.settings.model

    @property
    def known_secrets(self) -> tuple[str, ...]:
        return (self.settings.api_key,) if self.settings.api_key else ()

    @property
    def where(self) -> str:
        return self.settings.base_url or "the OpenAI API"

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
            self._client = openai.OpenAI(api_key=key, base_url=self.settings.base_url, max_retries=0)
        return self._client

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSchema], *, timeout: float | None = None
    ) -> Iterator[ModelItem]:
        import openai

        request: dict[str, Any] = {"model": self.settings.model, "messages": list(messages)}
        if tools:
            request["tools"] = list(tools)
            request["parallel_tool_calls"] = True
        deadline = None if timeout is None else self.clock() + timeout
        attempt = 0
        while True:
            started = False  # once items reached the caller, a failure cannot be retried
            try:
                parts = self._streamed(request, deadline) if self.settings.stream else self._whole(request, deadline)
                for item in parts:
                    started = True
                    yield item
                return
            except openai.APITimeoutError as exc:
                raise ModelError(self._timeout_message(deadline, connecting=_connecting(exc))) from None
            except openai.APIStatusError as exc:
                status = exc.status_code
                asked = _retry_after(getattr(exc.response, "headers", None))
                if (
                    not started
                    and (status in _RETRY_STATUSES or status >= 500)
                    and self._pause(attempt, deadline, at_least=asked)
                ):
                    attempt += 1
                    continue
                raise ModelError(
                    f"The language model at {self.where} answered HTTP {status}: {_short(exc.message)}"
                ) from None
            except openai.APIConnectionError as exc:
                if not started and self._pause(attempt, deadline):
                    attempt += 1
                    continue
                raise ModelError(f"Cannot reach the language model at {self.where}: {_short(str(exc))}") from None
            except openai.OpenAIError as exc:
                raise ModelError(f"Language model error: {_short(str(exc))}") from None

    # -- internals -------------------------------------------------------------------------------

    def _timeouts(self, deadline: float | None) -> Any:
        """Per-request timeouts: the configured ones, cut to what is left of the turn."""
        import openai

        read, connect = self.settings.read_timeout_s, self.settings.connect_timeout_s
        if deadline is not None:
            left = max(deadline - self.clock(), 0.01)
            read, connect = min(read, left), min(connect, left)
        return openai.Timeout(read, connect=connect)

    def _pause(self, attempt: int, deadline: float | None, *, at_least: float | None = None) -> bool:
        """Wait before retry ``attempt + 1`` (at least what the server's Retry-After asked); False
        when no retry is left (count or time)."""
        if attempt >= self.settings.max_retries:
            return False
        delay = min(0.5 * 2**attempt, 8.0) if at_least is None else at_least
        if delay > MAX_RETRY_AFTER_S:
            return False
        if deadline is not None and self.clock() + delay >= deadline:
            return False
        self.sleep(delay)
        return True

    def _timeout_message(self, deadline: float | None, *, connecting: bool) -> str:
        left = None if deadline is None else deadline - self.clock()
        read = self.settings.read_timeout_s
        if left is not None and left <= 0.05:
            return (
                f"The language model at {self.where} did not finish within the time left for this request. "
                f"Allow longer with {TURN_TIMEOUT.describe()}, or check the server."
            )
        if connecting:
            return (
                f"Could not connect to the language model at {self.where} within "
                f"{self.settings.connect_timeout_s:g} s. Check the address and that the server is up, or allow "
                f"longer with {CONNECT_TIMEOUT.describe()}."
            )
        return (
            f"The language model at {self.where} did not answer within {read:g} s. Check that the server is up; "
            f"if it is only slow, allow longer with {READ_TIMEOUT.describe()}."
        )

    def _past(self, deadline: float | None) -> bool:
        return deadline is not None and self.clock() >= deadline

    def _whole(self, request: dict[str, Any], deadline: float | None) -> Iterator[ModelItem]:
        response = self.client().chat.completions.create(**request, timeout=self._timeouts(deadline))
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

    def _streamed(self, request: dict[str, Any], deadline: float | None) -> Iterator[ModelItem]:
        request = {**request, "stream": True, "stream_options": {"include_usage": True}}
        parts: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        chunks = self.client().chat.completions.create(**request, timeout=self._timeouts(deadline))
        try:
            for chunk in chunks:
                if self._past(deadline):  # a server that trickles forever still ends at the turn's budget
                    raise ModelError(
                        f"The language model at {self.where} was still answering when the time for this request "
                        f"ran out. Allow longer with {TURN_TIMEOUT.describe()}."
                    )
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
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()
        for index in sorted(parts):
            slot = parts[index]
            yield ToolCall(slot["id"] or f"call_{index}", slot["name"], slot["arguments"])
        if usage is not None:
            yield usage


def _connecting(exc: BaseException) -> bool:
    """Whether a timeout happened while connecting (the HTTP library's ConnectTimeout underneath)."""
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ == "ConnectTimeout"


def _retry_after(headers: Any) -> float | None:
    """Seconds a 429/503 asks to wait (``retry-after-ms`` or ``retry-after`` in seconds), if given."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        try:
            value = float(raw) * scale if raw is not None else None
        except ValueError:
            value = None  # an HTTP date or junk: fall back to our own backoff
        if value is not None and value >= 0:
            return value
    return None


def _short(text: str, limit: int = 300) -> str:
    text = mask_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
