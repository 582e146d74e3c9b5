"""The conversational shell: read a line, route it, show what happened, repeat.

``Repl`` takes prompt_toolkit ``input``/``output`` (or a ``session_factory``) so tests drive it
with a pipe; nothing is monkeypatched. Without a terminal on stdin it reads plain lines and
never asks for approval (actions that need it are refused, like the one-shot CLI).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError, Declined, ExitStatus, Interrupted, UsageError
from cargo_shell.render.toolbar import ToolbarState, toolbar_fragments
from cargo_shell.repl.completer import OnTabCompleter, ShellCompleter
from cargo_shell.repl.parse import ParsedInput, parse_line

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output
    from rich.console import Console

    from cargo_shell.agent.conversation import Conversation
    from cargo_shell.commands.context import Context
    from cargo_shell.executor import Approval, Executor, InterruptChoice, Plan
    from cargo_shell.registry import Registry
    from cargo_shell.render.job_progress import JobProgress
    from cargo_shell.render.waiting import Waiting
    from cargo_shell.repl.resources import Snapshot
    from cargo_shell.repl.transcript import ConversationStore, Transcript

SessionFactory = Callable[..., "PromptSession[str]"]


class ExitShell(Exception):
    pass


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
        self._input = input
        self._output = output
        self._factory = session_factory
        piped = input is not None or session_factory is not None
        self.interactive = interactive if interactive is not None else (piped or ctx.env.interactive)
        self.line_mode = not piped and not ctx.env.interactive
        self._conversation = conversation
        self._transcript = transcript
        self._store: ConversationStore | None = None
        self.snapshot: Snapshot | None = None
        self._completer: ShellCompleter | None = None
        self._completer_lock = threading.Lock()  # built by a background thread, the Tab key or a refresh
        resolved = ctx.resolved()
        self.state = ToolbarState(profile=resolved.profile, target=resolved.target)
        if model is not None:
            self.state.model = str(getattr(model, "name", "custom"))
        else:
            from cargo_shell.commands.providers import current_model_name

            self.state.model = current_model_name(ctx)
        self._model = model
        #: The model chosen with ``/model NAME`` for this session (None: the configured one).
        self.model_override: str | None = None
        ctx.use_front_end("repl", confirmer=lambda: self, events=self.on_event, sleep=sleep)
        self.event_hook: Callable[[Any], None] | None = None
        self._progress: JobProgress | None = None
        self._waiting: Waiting | None = None
        #: Flags of the direct command being run whose values came from @files (for summaries).
        self.sources: dict[str, str] = {}
        self.typed: str | None = None  # ... and its words as typed
        self._brain: Any = None
        self._session: PromptSession[str] | None = None
        self._default_text = ""
        self._refreshed = False
        self.refresher = None
        if refresh:
            from cargo_shell.repl.resources import Refresher

            self.refresher = Refresher(ctx, self._swap_snapshot)

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

    @console.setter
    def console(self, value: Console) -> None:
        self._console = value

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
    def completer(self) -> ShellCompleter:
        """Built from the registry on first use; the prompt gets it from a background thread."""
        with self._completer_lock:
            if self._completer is None:
                from cargo_shell.repl.slash import SLASH_HELP

                self._completer = ShellCompleter(self.registry, SLASH_HELP, self.snapshot)
            return self._completer

    @completer.setter
    def completer(self, value: ShellCompleter) -> None:
        self._completer = value

    def _load_completion(self) -> None:
        """Background thread: read the registry and build the completer, then redraw."""
        try:
            self.completer  # noqa: B018  (builds it)
        except Exception:  # completion is a convenience: the shell goes on without it
            return
        self._invalidate()

    def _invalidate(self) -> None:
        if self._session is not None:
            app = self._session.app
            if app.is_running:
                app.invalidate()

    # -- prompt plumbing ------------------------------------------------------------------
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

            from cargo_shell.repl.history import MaskedFileHistory
            from cargo_shell.repl.keys import shell_bindings

            on_tab = OnTabCompleter(lambda: self.completer)
            from cargo_shell.private_files import private_file

            history_file = private_file(self.ctx.env.paths.history_file)
            style = Style.from_dict(
                {
                    "bottom-toolbar": "noreverse bg:#1f2430 #c0c5ce",
                    "toolbar.label": "bg:#1f2430 #65737e",
                    "toolbar.value": "bg:#1f2430 #e0e0e0 bold",
                    "toolbar.sandbox": "#a3be8c",
                    "toolbar.busy": "bg:#ebcb8b #1f2430",
                    "prompt": "#88c0d0 bold",
                }
            )
            self._session = self._make_session(
                history=ThreadedHistory(MaskedFileHistory(str(history_file))),
                auto_suggest=AutoSuggestFromHistory(),
                completer=DynamicCompleter(lambda: self._completer or on_tab),
                complete_while_typing=True,
                bottom_toolbar=lambda: toolbar_fragments(self.state, self._columns()),
                key_bindings=shell_bindings(),
                multiline=True,
                style=style,
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
        if self.line_mode:
            line = self.ctx.env.stdin.readline()
            if not line:
                raise EOFError
            return line.rstrip("\n")
        default, self._default_text = self._default_text, ""
        return self.session().prompt([("class:prompt", "cargo› ")], default=default, pre_run=self._after_draw)

    def refresh_soon(self) -> None:
        """Refresh completion data in the background, once the prompt has been drawn at least once."""
        if self.refresher is not None and self._refreshed:
            self.refresher.refresh()

    def _after_draw(self) -> None:
        """Runs as each prompt starts: load completion (once the keys typed early are handled; Tab
        builds it at once if pressed sooner), then start the background refresh (not before)."""
        import asyncio

        if self._completer is None:
            thread = threading.Thread(target=self._load_completion, name="cargo-shell-completion", daemon=True)
            asyncio.get_running_loop().call_later(0.1, thread.start)
        if self.refresher is not None and not self._refreshed:
            self._refreshed = True
            asyncio.get_running_loop().call_later(0.3, self.refresher.refresh)

    def ask(self, question: str, *, is_password: bool = False) -> str:
        """A one-line answer from the person at the keyboard (confirmations, onboarding)."""
        if not self.interactive or self.line_mode:
            raise EOFError
        if self._waiting is not None:
            self._waiting.stop()
        return self._make_session().prompt(question, is_password=is_password)

    # -- the executor and its confirmer ----------------------------------------------------------
    def executor(self) -> Executor:
        """The session context's executor, with this shell as its confirmer and event sink."""
        return self.ctx.executor()

    def reset_target(self) -> None:
        """After a profile or login change: reconnect on next use."""
        self.ctx.close()
        resolved = self.ctx.resolved()
        self.state.profile, self.state.target, self.state.workspace = resolved.profile, resolved.target, None
        self.refresh_soon()

    def confirm(self, plan: Plan) -> Approval:
        from cargo_shell.executor import Approval
        from cargo_shell.render.plan import PROMPT, parse_answer, plan_panel

        self.progress.stop()
        if self._waiting is not None:
            self._waiting.stop()
        self.console.print(plan_panel(plan, self.sources))
        while True:
            try:
                answer = parse_answer(self.ask(PROMPT))
            except (EOFError, KeyboardInterrupt):
                answer = "no"
            if answer == "edit":
                edited = self._edit(plan)
                if edited is None:
                    continue
                return Approval("edit", edited_args=edited)
            if answer is not None:
                break
            self.console.print("Please answer y, n, a or e.")
        self.console.print(f"[dim]→ {answer}[/dim]")
        return Approval(answer)  # type: ignore[arg-type]

    def _edit(self, plan: Plan) -> dict[str, Any] | None:
        """Edit the command line in place; the executor re-plans and asks again."""
        from cargo_shell.commands.resolve import Invocation, resolve
        from cargo_shell.repl.parse import split_words

        # a value read from an @file is edited as the @file reference, not as its whole JSON
        default = self.typed if self.sources and self.typed else plan.command_line.removeprefix("cargo-shell ")
        text = self._make_session().prompt("edit› ", default=default)
        words, error = split_words(text)
        spec, _used = self.registry.match(words)
        if error or spec is None or spec.name != plan.spec.name:
            self.console.print(
                f"[yellow]Keep the command words `{plan.spec.name}`; only the arguments can change.[/yellow]"
            )
            return None
        try:
            edited = resolve(self.registry, words, self.ctx.env.stdin)
        except CargoShellError as exc:
            from cargo_shell.render.errors import show_error

            show_error(self.console, exc)
            return None
        return edited.raw if isinstance(edited, Invocation) else None

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice:
        self.progress.stop()
        try:
            answer = self.ask(f"Stop waiting for {kind} {job_id}: [c]ancel it / [d]etach (keeps running) / [w]ait? ")
        except (EOFError, KeyboardInterrupt):
            answer = "d"
        word = answer.strip().lower()
        if word in ("c", "cancel"):
            return "cancel"
        if word in ("w", "wait"):
            return "continue"
        return "detach"

    def on_event(self, event: Any) -> None:
        from cargo_shell.render.job_progress import describe

        if self._waiting is not None:
            self._waiting.stop()  # the job's progress or the notice takes the screen
        name = type(event).__name__
        if name == "JobProgress":
            self.progress.update(
                event.kind,
                event.job_id,
                event.status,
                done=event.done,
                failed=event.failed,
                total=event.total,
            )
            self.state.running_jobs = max(self.state.running_jobs, 1)
        elif name == "JobFinished":
            self.progress.update(
                event.kind,
                event.job_id,
                event.status,
                done=event.done,
                failed=event.failed,
                total=event.total,
                finished=True,
            )
            self.state.running_jobs = max(self.state.running_jobs - 1, 0)
        elif name == "JobStarted":
            self.state.running_jobs += 1
            self.progress.started(event.kind, event.job_id, event.total)
        else:
            text = describe(event)
            if text:
                self.progress.stop()
                self.console.print(text, style="dim", highlight=False, markup=False)
        if self.event_hook is not None:
            self.event_hook(event)

    # -- the loop -------------------------------------------------------------------------
    def banner(self) -> None:
        from cargo_shell.render.banner import banner

        self.console.print(banner(self.state, has_model=self.brain_available()))

    def run(self) -> int:
        from cargo_shell.repl import early

        if early.painted() and self._input is None and self._factory is None:
            early.hand_over()
        else:
            self.banner()
        try:
            while True:
                try:
                    text = self.read()
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                try:
                    self.handle(text)
                except ExitShell:
                    break
        finally:
            self.save_conversation()
        return int(ExitStatus.OK)

    def handle(self, text: str) -> None:
        parsed = parse_line(text, self.registry)
        if parsed.kind == "empty":
            return
        self.transcript.inputs.append(parsed.text)
        try:
            if parsed.error:
                raise CargoShellError(parsed.error, hint="Close the quote, or end the line with \\ to continue it.")
            if parsed.suggestion is not None:
                raise UsageError(
                    f"`{parsed.text}` is not a command. Did you mean `{parsed.suggestion}`?",
                    hint="Nothing was sent. Retype it, or ask in plain words.",
                )
            if parsed.kind == "slash":
                from cargo_shell.repl.slash import run_slash

                run_slash(self, parsed)
            elif parsed.kind == "direct":
                self.run_direct(parsed)
            else:
                self.run_natural(parsed.text)
        except ExitShell:
            raise
        except KeyboardInterrupt:
            self.console.print("[yellow]Cancelled.[/yellow]")
        except Declined as exc:
            self.console.print(exc.message, style="yellow", markup=False)
        except Interrupted as exc:
            self.console.print(exc.message, style="yellow", markup=False)
        except Exception as exc:
            from cargo_shell.render.errors import show_error

            show_error(self.console, exc)
        finally:
            if self._progress is not None:
                self._progress.stop()
            if self._waiting is not None:
                self._waiting.stop()
            self._count_jobs()

    def _count_jobs(self) -> None:
        """Running jobs for the toolbar: unfinished ones, refreshed from the API (bounded) once the executor exists."""
        try:
            from cargo_shell.executor import JobStore

            store = JobStore(self.ctx.env.paths.jobs_db)
            if self.ctx.executor_made and store.list(limit=1, active_only=True):
                self.ctx.executor().refresh_jobs(every_s=15.0)
            self.state.running_jobs = len(store.list(active_only=True))
        except Exception:
            pass

    # -- direct commands ----------------------------------------------------------------------
    def run_direct(self, parsed: ParsedInput) -> None:
        from cargo_shell.repl.direct import run_direct

        run_direct(self, parsed.argv)
        self.refresh_soon()

    # -- natural language -----------------------------------------------------------------------
    def brain_available(self) -> bool:
        from cargo_shell.commands.providers import model_configured

        return self._model is not None or model_configured(self.ctx)

    def run_natural(self, text: str) -> None:
        from cargo_shell.repl.brain import Brain
        from cargo_shell.repl.llm import explain_no_model

        if not self.brain_available():
            explain_no_model(self.console)
            return
        if self._brain is None:
            self._brain = Brain(self, self._model)
        self._brain.turn(text)
        self.refresh_soon()

    # -- state ------------------------------------------------------------------------------
    def _swap_snapshot(self, snapshot: Snapshot) -> None:
        slash = self.completer.slash
        with self._completer_lock:
            self.snapshot = snapshot
            self._completer = ShellCompleter(self.registry, slash, snapshot)
        self.state.credits, self.state.extra_credits = snapshot.credits, snapshot.extra_credits
        self.state.workspace = snapshot.workspace_name or self.state.workspace
        self._invalidate()

    def save_conversation(self) -> None:
        try:
            self.store.save(self.conversation, self.transcript)
        except OSError as exc:
            self.console.print(f"[dim]Could not save the conversation: {exc}[/dim]")
