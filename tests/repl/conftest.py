"""Fixtures for shell tests: a seeded sandbox on a fake clock behind a real Context, and a
factory for a Repl driven through a prompt_toolkit pipe."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from cargo_shell.commands.context import Context
from cargo_shell.environment import Environment
from cargo_shell.repl.app import Repl
from cargo_shell.sandbox.runtime import Sandbox
from tests.support import FakeClock


@dataclass
class World:
    """A sandbox and a Context talking to it in-process (as a cloud target on a WSGI transport)."""

    box: Sandbox
    ctx: Context
    clock: FakeClock
    out: io.StringIO

    def env_for(self, **extra: str) -> dict[str, str]:
        return dict(self.ctx.env.environ, **extra)


def make_world(
    data_dir: Path, clock: FakeClock, environ: dict[str, str] | None = None, *, token: str | None = None
) -> World:
    """``token``: an admin token of the sandbox to use instead of its stored one."""
    box = Sandbox.open(data_dir, clock=clock, token=token)
    env_vars = {
        "CARGO_API_URL": box.base_url,
        "CARGO_API_TOKEN": box.token,
        "CARGO_WORKSPACE_UUID": box.workspace_uuid,
        **(environ or {}),
    }
    import os

    out = io.StringIO()
    env = Environment(
        stdin=io.StringIO(),
        stdout=out,
        stderr=io.StringIO(),
        environ={**os.environ, **env_vars},
        stdin_isatty=False,
        stdout_isatty=False,
    )
    return World(box, Context(env, transport=httpx.WSGITransport(app=box.app)), clock, out)


@pytest.fixture
def world(tmp_path: Path, seeded_sandbox_template: Path, clock: FakeClock) -> Iterator[World]:
    data_dir = tmp_path / "sandbox"
    shutil.copytree(seeded_sandbox_template, data_dir)
    w = make_world(data_dir, clock)
    yield w
    w.ctx.close()
    w.box.close()


@dataclass
class Driven:
    repl: Repl
    screen: io.StringIO
    status: int

    @property
    def text(self) -> str:
        return self.screen.getvalue()


RunRepl = Callable[..., Driven]


@pytest.fixture
def run_repl(world: World) -> RunRepl:
    """Type ``keys`` into a fresh Repl (Enter is \\r) and run it until the input ends (Ctrl-D)."""

    def run(keys: str, *, model: Any = None, sleep: Callable[[float], None] | None = None) -> Driven:
        screen = io.StringIO()
        console = Console(file=screen, width=140, force_terminal=False, no_color=True)
        pipe: PipeInput
        with create_pipe_input() as pipe:
            pipe.send_text(keys + "\x04")
            repl = Repl(
                world.ctx,
                input=pipe,
                output=DummyOutput(),
                console=console,
                model=model,
                refresh=False,
                sleep=sleep or world.clock.sleep,
            )
            status = repl.run()
        return Driven(repl, screen, status)

    return run
