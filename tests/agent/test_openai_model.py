"""The real OpenAI adapter against a local OpenAI-compatible stub server (127.0.0.1, a thread)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cargo_shell.agent.model import ModelError, ModelReply, TextDelta, ToolCall, Usage
from cargo_shell.agent.openai_model import ModelSettings, OpenAIChatModel, model_settings
from cargo_shell.errors import ConfigError


class Stub:
    """Replies queued by the test; every request body and header set is recorded."""

    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []


def _completion(message: dict[str, Any], usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "stub-model",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


def _chunk(delta: dict[str, Any] | None, usage: tuple[int, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "stub-model"}
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": None}]
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    return body


def _stream_of(message: dict[str, Any], usage: tuple[int, int]) -> list[dict[str, Any]]:
    """Split a message into deltas the way real servers do: text in pieces, arguments in pieces."""
    chunks = [_chunk({"role": "assistant", "content": ""})]
    text = message.get("content") or ""
    for i in range(0, len(text), 4):
        chunks.append(_chunk({"content": text[i : i + 4]}))
    for index, tool_call in enumerate(message.get("tool_calls") or []):
        args = tool_call["function"]["arguments"]
        head = {
            "index": index,
            "id": tool_call["id"],
            "type": "function",
            "function": {"name": tool_call["function"]["name"], "arguments": ""},
        }
        chunks.append(_chunk({"tool_calls": [head]}))
        for i in range(0, len(args), 7):
            chunks.append(_chunk({"tool_calls": [{"index": index, "function": {"arguments": args[i : i + 7]}}]}))
    chunks.append(_chunk(None, usage))
    return chunks


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            stub.requests.append(body)
            stub.headers.append({k.lower(): v for k, v in self.headers.items()})
            reply = stub.replies.pop(0)
            if "error" in reply:
                data = json.dumps({"error": {"message": reply["error"], "type": "invalid_request_error"}}).encode()
                self.send_response(reply.get("status", 400))
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if body.get("stream"):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for chunk in _stream_of(reply["message"], reply["usage"]):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True
                return
            data = json.dumps(_completion(reply["message"], reply["usage"])).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join()
    assert not state.replies, "queued replies were never requested"


TOOL_MESSAGE = {
    "content": "Let me check both.",
    "tool_calls": [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "orchestration", "arguments": '{"command": "segmentation segment list"}'},
        },
        {
            "id": "call_b",
            "type": "function",
            "function": {"name": "billing", "arguments": '{"command": "billing subscription get"}'},
        },
    ],
}
TOOLS = [{"type": "function", "function": {"name": "billing", "parameters": {"type": "object", "properties": {}}}}]


def _gather(model: OpenAIChatModel) -> tuple[list[Any], ModelReply]:
    items = list(model.stream([{"role": "user", "content": "hi"}], TOOLS))
    reply = ModelReply()
    for item in items:
        if isinstance(item, TextDelta):
            reply.text += item.text
        elif isinstance(item, ToolCall):
            reply.tool_calls.append(item)
        elif isinstance(item, Usage):
            reply.usage = item
    return items, reply


@pytest.mark.parametrize("stream", [True, False])
def test_parallel_tool_calls_text_and_usage(stub: tuple[Stub, str], stream: bool) -> None:
    state, url = stub
    state.replies.append({"message": TOOL_MESSAGE, "usage": (321, 45)})
    model = OpenAIChatModel(ModelSettings("stub-model", "sk-test-key", url, stream=stream, max_retries=0))
    items, reply = _gather(model)
    assert reply.text == "Let me check both."
    assert reply.tool_calls == [
        ToolCall("call_a", "orchestration", '{"command": "segmentation segment list"}'),
        ToolCall("call_b", "billing", '{"command": "billing subscription get"}'),
    ]
    assert reply.usage == Usage(321, 45)
    if stream:
        assert sum(isinstance(i, TextDelta) for i in items) > 1  # text arrives as it streams
    [request] = state.requests
    assert request["model"] == "stub-model" and request["tools"] == TOOLS and request["parallel_tool_calls"] is True
    assert request.get("stream", False) is stream
    assert state.headers[0]["authorization"] == "Bearer sk-test-key"


def test_http_errors_become_model_errors(stub: tuple[Stub, str]) -> None:
    state, url = stub
    state.replies.append({"error": "model 'nope' not found", "status": 404})
    model = OpenAIChatModel(ModelSettings("nope", "k", url, max_retries=0))
    with pytest.raises(ModelError, match=r"HTTP 404.*not found"):
        _gather(model)


def test_unreachable_server_is_a_model_error() -> None:
    model = OpenAIChatModel(ModelSettings("m", "k", "http://127.0.0.1:9/v1", max_retries=0, connect_timeout_s=2))
    with pytest.raises(ModelError, match="Cannot reach the language model"):
        _gather(model)


def test_settings_come_from_the_environment_then_the_profile() -> None:
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "CARGO_SHELL_MODEL": "llama3.1"}
    assert model_settings(env, {"model": "other"}, default_model="m") == ModelSettings(
        "llama3.1", "k", "http://127.0.0.1:11434/v1"
    )
    from_profile = model_settings(
        {}, {"model": "gpt-4.1", "openai_base_url": "http://h/v1", "model_stream": "false"}, default_model="m"
    )
    assert (from_profile.model, from_profile.base_url, from_profile.stream, from_profile.api_key) == (
        "gpt-4.1",
        "http://h/v1",
        False,
        None,
    )
    with pytest.raises(ConfigError, match="No language model is configured"):
        OpenAIChatModel(model_settings({}, default_model="m")).client()


def test_a_local_server_needs_no_key(stub: tuple[Stub, str]) -> None:
    state, url = stub
    state.replies.append({"message": {"content": "hello"}, "usage": (1, 1)})
    _, reply = _gather(
        OpenAIChatModel(model_settings({"OPENAI_BASE_URL": url, "CARGO_SHELL_MODEL": "local"}, default_model="m"))
    )
    assert reply.text == "hello"


def test_the_agent_loop_runs_on_the_real_adapter(stub: tuple[Stub, str], make_agent: Any) -> None:
    from cargo_shell.agent import events as ev

    state, url = stub
    state.replies.append({"message": TOOL_MESSAGE, "usage": (500, 40)})
    state.replies.append({"message": {"content": "You have 5 segments and a subscription."}, "usage": (900, 12)})
    h = make_agent([])
    h.agent.model = OpenAIChatModel(ModelSettings("stub-model", "k", url, max_retries=0))
    answer = h.agent.ask("segments and plan?")
    assert answer.text == "You have 5 segments and a subscription."
    assert [r.status for r in h.results()] == ["ok", "ok"]
    second = state.requests[1]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool", "tool"]
    assert {m["tool_call_id"] for m in second[3:]} == {"call_a", "call_b"}
    assert h.agent.conversation.totals() == {"calls": 2, "prompt_tokens": 1400, "completion_tokens": 52}
    assert [e.usage for e in h.of(ev.ModelCalled)] == [Usage(500, 40), Usage(900, 12)]


def test_importing_the_agent_does_not_import_openai() -> None:
    code = "import sys, cargo_shell.agent.loop, cargo_shell.agent.openai_model; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
