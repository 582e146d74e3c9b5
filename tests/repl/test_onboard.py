"""Guided onboarding with scripted answers, on the real sandbox and a stub model server."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from rich.console import Console

from cargo_shell.repl.onboard import Onboarding, is_onboarded
from tests.repl.conftest import World
from tests.repl.stub_llm import Reply, StubLLM


def _answers(*values: str) -> tuple[Callable[..., str], list[str]]:
    queue = list(values)
    asked: list[str] = []

    def ask(question: str, **_kw: Any) -> str:
        asked.append(question)
        assert queue, f"unexpected question: {question}"
        return queue.pop(0)

    return ask, asked


def test_sandbox_local_model_and_tour(world: World) -> None:
    screen = io.StringIO()
    with StubLLM([Reply("ready")]) as stub:
        ask, asked = _answers("1", "2", stub.base_url, "llama3.1", "n")
        assert Onboarding(world.ctx, ask=ask, console=Console(file=screen, width=120)).run() == 0
    text = screen.getvalue()
    assert "llama3.1 answered: ready" in text
    assert "Companies" in text  # the tour listed the models
    assert "Approve this action?" in text and "not run" in text
    assert is_onboarded(world.ctx)
    settings = world.ctx.store.profile(world.ctx.store.current_profile())["settings"]
    assert settings == {"model": "llama3.1", "openai_base_url": stub.base_url}
    batches = world.ctx.executor().read("orchestration batch list", {})["batches"]
    assert all(b["data"].get("kind") != "records" or b["runsCount"] != 1 for b in batches)  # tour ran nothing
    assert len(asked) == 5


def test_login_with_a_token_keeps_it_secret(world: World) -> None:
    screen = io.StringIO()
    ask, _ = _answers("2", world.box.token, world.box.base_url, "", "3", "n")
    Onboarding(world.ctx, ask=ask, console=Console(file=screen, width=120)).run()
    text = screen.getvalue()
    assert "Logged in as ada.admin@acme-demo.com" in text
    assert world.box.token not in text
    store = world.ctx.store
    profile = store.profile(store.current_profile())
    assert profile["workspace_uuid"] == world.box.workspace_uuid
    assert store.get_token(store.current_profile()) == world.box.token


def test_unreachable_model_is_reported_and_kept(world: World) -> None:
    screen = io.StringIO()
    ask, _ = _answers("1", "2", "http://127.0.0.1:9/v1", "", "n")
    Onboarding(world.ctx, ask=ask, console=Console(file=screen, width=200)).run()
    assert "The model did not answer" in screen.getvalue()
