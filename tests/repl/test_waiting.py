"""The waiting indicator, rendered to a string: spinner, time waited, the toolbar under it."""

from __future__ import annotations

import io

from rich.console import Console

from cargo_shell.render.toolbar import ToolbarState
from cargo_shell.render.waiting import Waiting, WaitingView
from tests.support import FakeClock


def test_the_view_shows_the_time_waited_and_the_toolbar() -> None:
    clock = FakeClock()
    state = ToolbarState(profile="prod", target="cloud", model="gpt-4o", credits=9016.0, busy="thinking…")
    view = WaitingView("thinking…", state, clock)
    clock.advance(7.4)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(view)
    first, toolbar = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert first.endswith("thinking… 7s  (Ctrl-C stops)")
    assert "profile prod" in toolbar and "model gpt-4o" in toolbar and "credits 9,016 left" in toolbar
    assert len(toolbar) == 100


def test_nothing_is_drawn_when_the_output_is_not_a_terminal() -> None:
    out = io.StringIO()
    waiting = Waiting(Console(file=out, force_terminal=False), ToolbarState())
    waiting.start()
    assert not waiting.active
    waiting.stop()
    assert out.getvalue() == ""


def test_the_toolbar_keeps_what_matters_at_80_columns() -> None:
    from cargo_shell.render.toolbar import toolbar_text

    state = ToolbarState(
        profile="prod", workspace="Acme Demo", target="cloud", model="gpt-4o-mini", credits=9016.0, extra_credits=500
    )
    wide = toolbar_text(state, 120)
    assert wide.startswith("profile prod  workspace Acme Demo") and "credits 9,016 left +500 extra" in wide
    narrow = toolbar_text(state, 80)
    assert len(narrow) <= 80
    assert narrow == "prod · cloud · gpt-4o-mini · no jobs · 9,016 credits left (+500 extra)"
