"""Reading the shell's input: the prompt session (history, key bindings, style, toolbar), the
completer built off the start-up path, one-line questions, and work handed over by other threads.

prompt_toolkit runs each prompt's event loop on the shell's thread; that thread alone changes
what the toolbar and completion show. Another thread (the background refresher) posts its
result to the :class:`Inbox`: it runs on the prompt's loop at once while a prompt is open, else
just before the next prompt is drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.render.toolbar import toolbar_fragments
from cargo_shell.repl.completer import OnTabCompleter, ShellCompleter

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from cargo_shell.commands.context import Context
    from cargo_shell.registry import Registry
    from cargo_shell.render.toolbar import ToolbarState
    from cargo_shell.repl.resources import Snapshot

SessionFactory = Callable[..., "PromptSession[str]"]
Work = Callable[[], None]

_STYLE = {
    "bottom-toolbar": "noreverse bg:#1f2430 #c0c5ce",
    "toolbar.label": "bg:#1f2430 #65737e",
    "toolbar.value": "bg:#1f2430 #e0e0e0 bold",
    "toolbar.sandbox": "#a3be8c",
    "toolbar.busy": "bg:#ebcb8b #1f2430",
    "prompt": "#88c0d0 bold",
}


class Inbox:
    """Work posted from any thread, run on the shell's thread (see the module's docstring)."""

    def __init__(self, after: Work = lambda: None) -> None:
        self._lock = threading.Lock()
        self._pending: list[Work] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Runs after a batch of posted work (the shell's thread): redraw.
        self.after = after

    def post(self, work: Work) -> None:
        with self._lock:
            self._pending.append(work)
            loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the next prompt runs it
                loop.call_soon_threadsafe(self.run_pending)

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        """A prompt's loop is running on the shell's thread: posted work goes to it from now on."""
        with self._lock:
            self._loop = loop
        self.run_pending()

    def close(self) -> None:
        with self._lock:
            self._loop = None

    def run_pending(self) -> None:
        """On the shell's thread only."""
        with self._lock:
            work, self._pending = self._pending, []
        for item in work:
            item()
        if work:
            self.after()


class ShellPrompt:
    """The prompt and its completer. ``on_draw`` runs on the prompt's loop each time a prompt starts;
    ``before_ask`` before a question takes the screen (the waiting spinner stops)."""

    def __init__(
        self,
        ctx: Context,
        *,
        registry: Callable[[], Registry],
        state: Callable[[], ToolbarState],
        slash: Callable[[], dict[str, str]],
        input: Input | None = None,
        output: Output | None = None,
        session_factory: SessionFactory | None = None,
        interactive: bool,
        line_mode: bool,
        on_draw: Work = lambda: None,
        before_ask: Work = lambda: None,
    ) -> None:
        self.ctx = ctx
        self._registry = registry
        self._state = state
        self._slash = slash
        self._input = input
        self._output = output
        self._factory = session_factory
        self.interactive = interactive
        self.line_mode = line_mode
        self._on_draw = on_draw
        self._before_ask = before_ask
        self.inbox = Inbox(after=self.invalidate)
        self.snapshot: Snapshot | None = None
        self._completer: ShellCompleter | None = None
        self._completer_lock = threading.Lock()  # built by a background thread or the Tab key
        self._session: PromptSession[str] | None = None

    # -- completion --------------------------------------------------------------------------
    @property
    def completer(self) -> ShellCompleter:
        """Built from the registry on first use; the prompt gets it from a background thread."""
        with self._completer_lock:
            if self._completer is None:
                self._completer = ShellCompleter(self._registry(), self._slash(), self.snapshot)
            return self._completer

    def use_snapshot(self, snapshot: Snapshot) -> None:
        """New resource names for completion (the shell's thread: completers are swapped, not changed)."""
        with self._completer_lock:
            self.snapshot = snapshot
            self._completer = ShellCompleter(self._registry(), self._slash(), snapshot)

    def _load_completion(self) -> None:
        """Background thread: read the registry and build the completer, then redraw."""
        try:
            self.completer  # noqa: B018  (builds it)
        except Exception:  # completion is a convenience: the shell goes on without it
            return
        self.inbox.post(lambda: None)  # the redraw happens on the shell's thread

    def invalidate(self) -> None:
        if self._session is not None:
            app = self._session.app
            if app.is_running:
                app.invalidate()

    # -- the session ---------------------------------------------------------------------------
    def _make_session(self, **kwargs: Any) -> PromptSession[str]:
        if self._factory is not None:
            return self._factory(**kwargs)
        from prompt_toolkit import PromptSession

        return PromptSession(input=self._input, output=self._output, **kwargs)

    def session(self) -> PromptSession[str]:
        if self._session is None:
            from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
            from prompt_toolkit.completion import DynamicCompleter
            from prompt_toolkit.history import ThreadedHistory
            from prompt_toolkit.styles import Style

            from cargo_shell.private_files import private_file
            from cargo_shell.repl.history import MaskedFileHistory
            from cargo_shell.repl.keys import shell_bindings

            on_tab = OnTabCompleter(lambda: self.completer)
            history_file = private_file(self.ctx.env.paths.history_file)
            self._session = self._make_session(
                history=ThreadedHistory(MaskedFileHistory(str(history_file))),
                auto_suggest=AutoSuggestFromHistory(),
                completer=DynamicCompleter(lambda: self._completer or on_tab),
                complete_while_typing=True,
                bottom_toolbar=lambda: toolbar_fragments(self._state(), self._columns()),
                key_bindings=shell_bindings(),
                multiline=True,
                style=Style.from_dict(_STYLE),
                prompt_continuation="… ",
                enable_history_search=False,
            )
        return self._session

    def _columns(self) -> int | None:
        """The terminal's width, for the toolbar (None when unknown)."""
        try:
            return self.session().app.output.get_size().columns
        except Exception:
            return None

    def read(self) -> str:
        """The next line typed (EOFError at the end of the input)."""
        self.inbox.run_pending()
        if self.line_mode:
            line = self.ctx.env.stdin.readline()
            if not line:
                raise EOFError
            return line.rstrip("\n")
        try:
            return self.session().prompt([("class:prompt", "cargo› ")], pre_run=self._after_draw)
        finally:
            self.inbox.close()
            self.inbox.run_pending()

    def _after_draw(self) -> None:
        """Runs as each prompt starts: hand-overs go to this loop; load completion (once the keys typed
        early are handled; Tab builds it at once if pressed sooner); then the shell's own hook."""
        loop = asyncio.get_running_loop()
        self.inbox.open(loop)
        if self._completer is None:
            thread = threading.Thread(target=self._load_completion, name="cargo-shell-completion", daemon=True)
            loop.call_later(0.1, thread.start)
        self._on_draw()

    def ask(self, question: str, *, is_password: bool = False, default: str = "") -> str:
        """A one-line answer from the person at the keyboard (confirmations, edits, onboarding)."""
        if not self.interactive or self.line_mode:
            raise EOFError
        self._before_ask()
        return self._make_session().prompt(question, is_password=is_password, default=default)
