"""A local OpenAI-compatible chat server with scripted replies (http.server on 127.0.0.1, a thread).

Each POST /v1/chat/completions takes the next scripted step: a :class:`Reply`, or a function
of the request's messages returning one (so a step can use a UUID from an earlier tool
result). Streams Server-Sent Events when the request asks for ``stream``. A :class:`Stall`
step holds the request unanswered until the test releases it (events, no sleeps); a
:class:`Failure` step answers an HTTP error.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (tool name, arguments)
    usage: tuple[int, int] = (120, 25)
    ids: list[str] | None = None  # the calls' ids (default: unique across the server)


@dataclass
class Failure:
    """The server refuses this request with an OpenAI-style error body."""

    status: int = 400
    message: str = "the model is overloaded"
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"retry-after": "1"} with a 429


@dataclass
class Stall:
    """Accept the request, then say nothing until ``release`` is set (or 30 s, a safety net)."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


Step = Reply | Failure | Stall | Callable[[list[dict[str, Any]]], Reply | Failure]


def tool(name: str, command: str, args: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"command": command}
    if args is not None:
        payload["args"] = args
    return (name, payload)


def tool_payloads(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON payloads of the tool messages after the last assistant message."""
    out: list[dict[str, Any]] = []
    for message in reversed(messages):
        if message.get("role") == "tool":
            try:
                out.append(json.loads(message["content"]))
            except ValueError:
                out.append({"text": message["content"]})
        elif message.get("role") == "assistant":
            break
    return list(reversed(out))


class StubLLM:
    """``steps`` answer the requests in order; with ``responder``, every request that finds no step
    left is answered by it (for servers that answer many conversations at once)."""

    def __init__(self, steps: Sequence[Step], *, responder: Step | None = None) -> None:
        self.steps = list(steps)
        self.stalls = [step for step in self.steps if isinstance(step, Stall)]
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._calls = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                try:
                    reply = stub.next_reply(body)
                except Exception as exc:  # a failing scripted step must fail fast, not hang the client
                    stub.errors.append(repr(exc))
                    self._json(400, {"error": {"message": f"scripted step failed: {exc!r}"}})
                    return
                if reply is None:
                    self._json(500, {"error": {"message": "the stub has no scripted reply left"}})
                    return
                if isinstance(reply, Stall):
                    reply.arrived.set()
                    reply.release.wait(30)
                    return  # the client gave up long ago; close without an answer
                if isinstance(reply, Failure):
                    error = {"error": {"message": reply.message, "type": "invalid_request_error"}}
                    self._json(reply.status, error, reply.headers)
                    return
                if body.get("stream"):
                    self._sse(body, reply)
                else:
                    self._json(200, _completion(body, reply))

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(body, reply):
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def leftover(self) -> int:
        return len(self.steps)

    def next_reply(self, body: dict[str, Any]) -> Reply | Failure | Stall | None:
        with self._lock:
            self.requests.append(body)
            if not self.steps and self.responder is None:
                return None
            step = self.steps.pop(0) if self.steps else self.responder
            self._calls += 1
        assert step is not None
        return step(body.get("messages", [])) if callable(step) else step

    def release_all(self) -> None:
        for step in self.stalls:
            step.release.set()

    def __enter__(self) -> StubLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_all()
        self.server.shutdown()
        self.server.server_close()


_call_ids = itertools.count(1)


def _tool_parts(reply: Reply) -> list[dict[str, Any]]:
    """Call ids are unique across the whole server, as real ones are."""
    if not hasattr(reply, "_parts"):
        ids = reply.ids or [f"call_{next(_call_ids)}" for _ in reply.tool_calls]
        reply._parts = [  # type: ignore[attr-defined]
            {
                "id": call_id,
                "type": "function",
                "function": {"name": n, "arguments": json.dumps(a)},
            }
            for call_id, (n, a) in zip(ids, reply.tool_calls, strict=True)
        ]
    return reply._parts  # type: ignore[attr-defined,no-any-return]


def _usage(reply: Reply) -> dict[str, int]:
    p, c = reply.usage
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = _tool_parts(reply)
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "stub"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": _usage(reply),
    }


def _chunks(body: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    words = reply.text.split(" ")
    for i, word in enumerate(words):
        if word or i:
            yield chunk({"content": (" " if i else "") + word})
    for i, part in enumerate(_tool_parts(reply)):
        yield chunk({"tool_calls": [{"index": i, **part}]})
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    yield {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body.get("model", "stub"),
        "choices": [],
        "usage": _usage(reply),
    }
