"""The conversational shell: read a line, route it, show what happened, repeat.

:class:`Repl` holds the session's parts: the prompt (``prompt.py``: reading, key bindings,
completion), the router (``dispatch.py``: slash / direct command / conversation), the confirmer
(``confirm.py``) and the executor event sink (``events.py``); everything drawn comes from
``cargo_shell.render``. It takes prompt_toolkit ``input``/``output`` (or a ``session_factory``) so
tests drive it with a pipe; nothing is monkeypatched. Without a terminal on stdin it reads plain
lines and never asks for approval (actions that need it are refused, like the one-shot CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import ExitStatus
from cargo_shell.render.toolbar import ToolbarState
from cargo_shell.repl.prompt import SessionFactory, ShellPrompt

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output
    from rich.console import Console

    from cargo_shell.agent.conversation import Conversation
    from cargo_shell.agent.events import AgentEvent
    from cargo_shell.commands.context import Context
    from cargo_shell.executor import Executor
    from cargo_shell.executor import events as ev
    from cargo_shell.registry import Registry
    from cargo_shell.render.job_progress import JobProgress
    from cargo_shell.render.waiting import Waiting
    from cargo_shell.repl.completer import ShellCompleter
    from cargo_shell.repl.confirm import ShellConfirmer
    from cargo_shell.repl.dispatch import Router
    from cargo_shell.repl.events import ShellEvents
    from cargo_shell.repl.resources import Refresher, Snapshot
    from cargo_shell.repl.transcript import ConversationStore, Transcript

__all__ = ["Repl", "SessionFactory"]


class Repl:
    """The shell. Until the first prompt accepts keys, only prompt_toolkit is imported: rich (the
    console), the conversation, the registry (completion) and the executor load on first use or in
    the background once the prompt is drawn."""

    def __init__(
        self,
        ctx: Context,
        *,
        input: Input | None = None,
        output: Output | None = None,
        session_factory: SessionFactory | None = None,
        console: Console | None = None,
        model: Any = None,
        transcript: Transcript | None = None,
        conversation: Conversation | None = None,
        refresh: bool = True,
        interactive: bool | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self._console = console
        piped = input is not None or session_factory is not None
        self._painted_here = not piped  # the early prompt is this process's terminal
        self._conversation = conversation
        self._transcript = transcript
        self._store: ConversationStore | None = None
        resolved = ctx.resolved()
        #: What the toolbar shows; changed on the shell's thread only (other threads post to the prompt's inbox).
        self.state = ToolbarState(profile=resolved.profile, target=resolved.target)
        #: The model given to this shell (tests, the benchmark); None: the configured one.
        self.fixed_model = model
        if model is not None:
            self.state.model = str(getattr(model, "name", "custom"))
        else:
            from cargo_shell.commands.providers import current_model_name

            self.state.model = current_model_name(ctx)
        #: The model chosen with ``/model NAME`` for this session (None: the configured one).
        self.model_override: str | None = None
        self.prompt = ShellPrompt(
            ctx,
            registry=lambda: self.registry,
            state=lambda: self.state,
            slash=_slash_summaries,
            input=input,
            output=output,
            session_factory=session_factory,
            interactive=interactive if interactive is not None else (piped or ctx.env.interactive),
            line_mode=not piped and not ctx.env.interactive,
            on_draw=self._after_draw,
            before_ask=self.stop_waiting,
        )
        self._confirmer: ShellConfirmer | None = None
        self._router: Router | None = None
        self._events: ShellEvents | None = None
        ctx.use_front_end("repl", confirmer=lambda: self.confirmer, events=self.on_event, sleep=sleep)
        #: Sees every executor and agent event after it is shown (tests).
        self.event_hook: Callable[[ev.Event | AgentEvent], None] | None = None
        self._progress: JobProgress | None = None
        self._waiting: Waiting | None = None
        self._refreshed = False
        self.refresher: Refresher | None = None
        if refresh:
            from cargo_shell.repl.resources import Refresher

            # the snapshot is made on the refresher's thread and used on this one
            self.refresher = Refresher(
                ctx, lambda snapshot: self.prompt.inbox.post(lambda: self.use_snapshot(snapshot))
            )

    # -- parts made on first use (start-up stays fast) ---------------------------------------
    @property
    def registry(self) -> Registry:
        """The commands the shell offers (``sandbox serve`` and ``onboard`` are for the command line)."""
        return self.ctx.registry.view("shell")

    @property
    def console(self) -> Console:
        if self._console is None:
            from cargo_shell.render.console import make_console

            self._console = make_console(self.ctx.env)
        return self._console

    @property
    def progress(self) -> JobProgress:
        if self._progress is None:
            from cargo_shell.render.job_progress import JobProgress

            self._progress = JobProgress(self.console)
        return self._progress

    @property
    def waiting(self) -> Waiting:
        """The spinner and toolbar shown while the model thinks."""
        if self._waiting is None:
            from cargo_shell.render.waiting import Waiting

            self._waiting = Waiting(self.console, self.state)
        return self._waiting

    @property
    def conversation(self) -> Conversation:
        if self._conversation is None:
            from cargo_shell.agent.conversation import Conversation

            self._conversation = Conversation()
        return self._conversation

    @conversation.setter
    def conversation(self, value: Conversation) -> None:
        self._conversation = value

    @property
    def transcript(self) -> Transcript:
        if self._transcript is None:
            from cargo_shell.repl.transcript import Transcript

            self._transcript = Transcript(conversation_id=self.conversation.id)
        return self._transcript

    @transcript.setter
    def transcript(self, value: Transcript) -> None:
        self._transcript = value

    @property
    def store(self) -> ConversationStore:
        if self._store is None:
            from cargo_shell.repl.transcript import ConversationStore

            self._store = ConversationStore(self.ctx.env.paths.conversations_dir)
        return self._store

    @property
    def confirmer(self) -> ShellConfirmer:
        if self._confirmer is None:
            from cargo_shell.repl.confirm import ShellConfirmer

            self._confirmer = ShellConfirmer(self)
        return self._confirmer

    @property
    def router(self) -> Router:
        if self._router is None:
            from cargo_shell.repl.dispatch import Router

            self._router = Router(self)
        return self._router

    @property
    def completer(self) -> ShellCompleter:
        return self.prompt.completer

    @property
    def snapshot(self) -> Snapshot | None:
        return self.prompt.snapshot

    def session(self) -> PromptSession[str]:
        return self.prompt.session()

    def executor(self) -> Executor:
        """The session context's executor, with this shell's confirmer and event sink."""
        return self.ctx.executor()

    # -- the screen ---------------------------------------------------------------------------
    def on_event(self, event: ev.Event) -> None:
        """The executor's event sink (typed dispatch in :class:`ShellEvents`)."""
        if self._events is None:
            from cargo_shell.repl.events import ShellEvents

            self._events = ShellEvents(self)
        self._events(event)

    def stop_waiting(self) -> None:
        if self._waiting is not None:
            self._waiting.stop()

    def quiet(self) -> None:
        """Clear the live parts (job bars, the spinner) before a question or the next prompt."""
        if self._progress is not None:
            self._progress.stop()
        self.stop_waiting()

    def banner(self) -> None:
        from cargo_shell.render.banner import banner

        self.console.print(banner(self.state, has_model=self.brain_available()))

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> int:
        from cargo_shell.repl import early

        if early.painted() and self._painted_here:
            early.hand_over()
        else:
            self.banner()
        try:
            while True:
                try:
                    text = self.prompt.read()
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                if not self.handle(text):
                    break
        finally:
            self.save_conversation()
        return int(ExitStatus.OK)

    def handle(self, text: str) -> bool:
        """Route one line; False when the shell is to end (/exit)."""
        return self.router.handle(text)

    def brain_available(self) -> bool:
        from cargo_shell.commands.providers import model_configured

        return self.fixed_model is not None or model_configured(self.ctx)

    # -- state ------------------------------------------------------------------------------
    def _after_draw(self) -> None:
        """As the first prompt starts: the background refresh, a little later (keys typed early come first)."""
        if self.refresher is not None and not self._refreshed:
            import asyncio

            self._refreshed = True
            asyncio.get_running_loop().call_later(0.3, self.refresher.refresh)

    def refresh_soon(self) -> None:
        """Refresh completion data in the background, once the prompt has been drawn at least once."""
        if self.refresher is not None and self._refreshed:
            self.refresher.refresh()

    def _snapshot_made(self, snapshot: Snapshot) -> None:
        """On the refresher's thread: hand the snapshot over to the shell's thread."""
        self.prompt.inbox.post(lambda: self.use_snapshot(snapshot))

    def use_snapshot(self, snapshot: Snapshot) -> None:
        """A refresher's snapshot, on the shell's thread: completion, credits and workspace."""
        self.prompt.use_snapshot(snapshot)
        self.state.credits, self.state.extra_credits = snapshot.credits, snapshot.extra_credits
        self.state.workspace = snapshot.workspace_name or self.state.workspace

    def reset_target(self) -> None:
        """After a profile or login change: reconnect on next use."""
        self.ctx.close()
        resolved = self.ctx.resolved()
        self.state.profile, self.state.target, self.state.workspace = resolved.profile, resolved.target, None
        self.refresh_soon()

    def count_jobs(self) -> None:
        """Running jobs for the toolbar: unfinished ones, refreshed from the API (bounded) once the executor exists."""
        try:
            from cargo_shell.executor import JobStore

            store = JobStore(self.ctx.env.paths.jobs_db)
            if self.ctx.executor_made and store.list(limit=1, active_only=True):
                self.ctx.executor().refresh_jobs(every_s=15.0)
            self.state.running_jobs = len(store.list(active_only=True))
        except Exception:
            pass

    def save_conversation(self) -> None:
        try:
            self.store.save(self.conversation, self.transcript)
        except OSError as exc:
            self.console.print(f"[dim]Could not save the conversation: {exc}[/dim]")


def _slash_summaries() -> dict[str, str]:
    from cargo_shell.repl.slash import summaries

    return summaries()
