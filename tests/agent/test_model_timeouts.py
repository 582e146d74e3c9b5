"""The OpenAI adapter's time bounds against a local stub server that stalls (synchronised on
events, small configured timeouts): read timeout, the turn's budget, bounded retries."""

from __future__ import annotations

import pytest

from cargo_shell.agent.model import ModelError, TextDelta
from cargo_shell.agent.openai_model import ModelSettings, OpenAIChatModel, model_settings
from cargo_shell.errors import ConfigError
from tests.repl.stub_llm import Failure, Reply, Stall, StubLLM
from tests.support import FakeClock

MESSAGES = [{"role": "user", "content": "hi"}]


def _model(url: str, **settings: object) -> OpenAIChatModel:
    # generous unless a test is about timing out: a busy machine may answer slowly
    options: dict = {"max_retries": 2, "read_timeout_s": 30.0, "connect_timeout_s": 30.0, **settings}
    return OpenAIChatModel(ModelSettings("stub-model", "k", url, **options), sleep=lambda _s: None)  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", [True, False])
def test_a_stalled_server_fails_fast_naming_the_endpoint_and_the_setting(stream: bool) -> None:
    stall = Stall()
    with StubLLM([stall]) as stub:
        model = _model(stub.base_url, stream=stream, read_timeout_s=0.3)
        with pytest.raises(ModelError) as failure:
            list(model.stream(MESSAGES, []))
        assert stall.arrived.is_set()  # the request was there; the server said nothing
        assert not stall.release.is_set()  # we gave up before the server was let go
    message = failure.value.message
    assert stub.base_url in message and "0.3 s" in message and "CARGO_SHELL_LLM_READ_TIMEOUT" in message
    assert len(stub.requests) == 1  # a stalled server is not asked again


def test_the_turns_budget_cuts_a_server_that_trickles() -> None:
    clock = FakeClock()

    def tick() -> float:
        clock.advance(1.0)  # each look at the clock costs a second of a slow stream
        return clock()

    with StubLLM([Reply(" ".join(f"w{i}" for i in range(40)))]) as stub:
        model = OpenAIChatModel(ModelSettings("m", "k", stub.base_url, max_retries=0), clock=tick)
        got: list[str] = []
        with pytest.raises(ModelError, match="CARGO_SHELL_LLM_TURN_TIMEOUT"):
            for item in model.stream(MESSAGES, [], timeout=6.0):
                if isinstance(item, TextDelta):
                    got.append(item.text)
    assert 0 < len(got) < 10  # some text came, then the budget ran out


def test_server_errors_are_retried_within_the_count() -> None:
    with StubLLM([Failure(503), Failure(502), Reply("ready")]) as stub:
        text = "".join(i.text for i in _model(stub.base_url).stream(MESSAGES, []) if isinstance(i, TextDelta))
    assert text == "ready" and len(stub.requests) == 3
    with StubLLM([Failure(500), Failure(500)]) as stub, pytest.raises(ModelError, match="HTTP 500"):
        list(_model(stub.base_url, max_retries=1).stream(MESSAGES, []))
    with StubLLM([Failure(400, "bad request")]) as stub, pytest.raises(ModelError, match="HTTP 400"):
        list(_model(stub.base_url).stream(MESSAGES, []))
    assert len(stub.requests) == 1  # a client error is not retried


def test_timeouts_and_retries_are_settings() -> None:
    env = {"CARGO_SHELL_LLM_READ_TIMEOUT": "2.5", "CARGO_SHELL_LLM_RETRIES": "0"}
    settings = model_settings(env, {"llm_connect_timeout": 3}, default_model="m")
    assert (settings.read_timeout_s, settings.connect_timeout_s, settings.max_retries) == (2.5, 3.0, 0)
    with pytest.raises(ConfigError, match=r"CARGO_SHELL_LLM_READ_TIMEOUT.*seconds"):
        model_settings({"CARGO_SHELL_LLM_READ_TIMEOUT": "soon"}, default_model="m")


def test_a_server_that_never_accepts_fails_naming_the_connect_setting() -> None:
    """A listening socket whose accept queue is full: the kernel drops further SYNs (Linux)."""
    import contextlib
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        model = _model(f"http://127.0.0.1:{port}/v1", connect_timeout_s=0.5, max_retries=0)
        with pytest.raises(ModelError, match="CARGO_SHELL_LLM_CONNECT_TIMEOUT") as failure:
            list(model.stream(MESSAGES, []))
        assert "Could not connect" in failure.value.message and "0.5 s" in failure.value.message
    finally:
        for sock in (*fillers, server):
            sock.close()


@pytest.mark.parametrize(
    ("headers", "waited"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "1500"}, 1.5), ({}, 0.5), ({"retry-after": "soon"}, 0.5)],
)
def test_a_rate_limited_request_waits_as_long_as_the_server_asks(headers: dict[str, str], waited: float) -> None:
    slept: list[float] = []
    with StubLLM([Failure(429, "Rate limit reached", headers=headers), Reply("ready")]) as stub:
        model = OpenAIChatModel(ModelSettings("m", "k", stub.base_url, max_retries=2), sleep=slept.append)
        text = "".join(i.text for i in model.stream(MESSAGES, []) if isinstance(i, TextDelta))
    assert text == "ready" and len(stub.requests) == 2
    assert slept == [waited]


def test_a_retry_after_beyond_the_turns_budget_is_not_waited_for() -> None:
    slept: list[float] = []
    with StubLLM([Failure(429, "Rate limit reached", headers={"retry-after": "600"})]) as stub:
        model = OpenAIChatModel(ModelSettings("m", "k", stub.base_url, max_retries=3), sleep=slept.append)
        with pytest.raises(ModelError, match="HTTP 429"):
            list(model.stream(MESSAGES, [], timeout=30.0))
    assert slept == [] and len(stub.requests) == 1
