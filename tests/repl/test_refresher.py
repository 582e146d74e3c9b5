"""The shell's background refresher: reads through an executor of the session context, and hands
its snapshot to the shell's thread."""

from __future__ import annotations

import io
import threading

from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from cargo_shell.executor.policy import PolicyStore
from cargo_shell.render.toolbar import ToolbarState
from cargo_shell.repl.app import Repl
from cargo_shell.repl.resources import Refresher, Snapshot
from tests.repl.conftest import World


def test_the_refresher_obeys_deny_rules_and_writes_no_audit_line(world: World) -> None:
    PolicyStore(world.ctx.env.paths.config_dir).add("deny", command="billing *")
    got: list[Snapshot] = []
    refresher = Refresher(world.ctx, got.append)
    refresher.refresh()
    refresher.join(120)
    [snapshot] = got
    assert {r.name for r in snapshot.resources["model"]} == {"Companies", "Contacts"}
    assert snapshot.credits is None  # `billing subscription get` is denied to it like to anyone
    assert not world.ctx.env.paths.audit_log.exists()


def test_snapshots_reach_the_toolbar_on_the_shell_thread_while_commands_and_refreshes_overlap(world: World) -> None:
    """The refresher hands its snapshot over; only the shell's own thread changes the toolbar."""
    writers: set[str] = set()
    applied = threading.Event()

    class Watched(ToolbarState):
        def __setattr__(self, name: str, value: object) -> None:
            writers.add(threading.current_thread().name)
            super().__setattr__(name, value)
            if name == "workspace" and value is not None:
                applied.set()

    made: list[Repl] = []
    ready = threading.Event()

    def shell(pipe: PipeInput) -> None:
        console = Console(file=io.StringIO(), width=140, force_terminal=False, no_color=True)
        repl = Repl(world.ctx, input=pipe, output=DummyOutput(), console=console, sleep=world.clock.sleep)
        repl.state = Watched(**vars(repl.state))
        made.append(repl)
        ready.set()
        repl.run()

    with create_pipe_input() as pipe:
        thread = threading.Thread(target=shell, args=(pipe,), name="the-shell")
        thread.start()
        try:
            assert ready.wait(120)
            for _round in range(4):
                assert applied.wait(120), "no snapshot reached the toolbar"
                applied.clear()
                assert made[0].refresher is not None
                made[0].refresher.refresh()  # overlaps the one the command starts
                pipe.send_text("whoami\r")
            assert applied.wait(120)
        finally:
            pipe.send_text("\x04")
            thread.join(120)
            if made and made[0].refresher is not None:
                made[0].refresher.join(120)  # its reads end before the sandbox closes
    assert not thread.is_alive()
    assert writers == {"the-shell"}
    state = made[0].state
    assert state.workspace and state.credits is not None
