"""While the model thinks: a spinner with the time waited, and the shell's toolbar under it.

The prompt (and its bottom toolbar) is gone while a request runs, so the shell draws the
toolbar itself in a transient live area that disappears as soon as anything else is shown:
the answer streaming in, a tool call, a confirmation, a job's progress. On a non-terminal
output nothing is drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live
    from rich.text import Text

    from cargo_shell.render.toolbar import ToolbarState

#: prompt_toolkit style classes of the toolbar → rich styles (the same colours as the prompt's toolbar).
_STYLES = {
    "class:toolbar.label": "#65737e on #1f2430",
    "class:toolbar.value": "bold #e0e0e0 on #1f2430",
    "class:toolbar.busy": "#1f2430 on #ebcb8b",
}


def toolbar_line(state: ToolbarState, width: int) -> Text:
    """The bottom toolbar as one rich line, padded to ``width``."""
    from rich.text import Text

    from cargo_shell.render.toolbar import toolbar_fragments

    line = Text(no_wrap=True, overflow="ellipsis", end="")
    for style, text in toolbar_fragments(state, width):
        classes = style.split()
        line.append(text, style=_STYLES.get(classes[0], "") if classes else "")
        if "class:toolbar.sandbox" in classes:
            line.stylize("#a3be8c on #1f2430", len(line) - len(text), len(line))
    if len(line) < width:
        line.append(" " * (width - len(line)), style="on #1f2430")
    line.truncate(width)
    return line


class WaitingView:
    """The live area's content: re-rendered on every refresh, so the spinner turns and the clock runs."""

    def __init__(self, label: str, state: ToolbarState, clock: Callable[[], float]) -> None:
        from rich.spinner import Spinner

        self.label = label
        self.state = state
        self.clock = clock
        self.started = clock()
        self.spinner = Spinner("dots", style="cyan")

    def text(self) -> str:
        waited = self.clock() - self.started
        return f"{self.label} {waited:.0f}s  (Ctrl-C stops)"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.table import Table

        self.spinner.update(text=self.text())
        row = Table.grid()
        row.add_row(self.spinner)
        yield row
        yield toolbar_line(self.state, options.max_width)


class Waiting:
    """Start and stop the waiting indicator; stopping twice, or when never started, is fine."""

    def __init__(self, console: Console, state: ToolbarState, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.state = state
        self.clock = clock
        self._live: Live | None = None

    @property
    def active(self) -> bool:
        return self._live is not None

    def start(self, label: str = "thinking…") -> None:
        if self._live is not None or not self.console.is_terminal:
            return
        from rich.errors import LiveError
        from rich.live import Live

        live = Live(
            WaitingView(label, self.state, self.clock), console=self.console, refresh_per_second=8, transient=True
        )
        try:
            live.start()
        except LiveError:  # another live display (a job's progress) owns the screen: no spinner then
            return
        self._live = live

    def stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()
