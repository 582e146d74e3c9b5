"""`cargo-shell -p PROMPT` and `cargo-shell run FILE`: prompts without an interactive shell.

Exit status: 0 when every action ran; 3 when one needed approval that was not given; 1 when
an action failed or the assistant gave up. Without a terminal nobody is asked anything: an
action that needs approval is refused (``--yes`` approves, policy rules still apply).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import ApprovalRequired, ConfigError, ExitStatus, UsageError

if TYPE_CHECKING:
    from cargo_shell.agent.events import AgentEvent, SecretRevealed
    from cargo_shell.commands.context import Context
    from cargo_shell.executor import Approval, Plan
    from cargo_shell.repl.jsonevents import JsonEvents

_FAILED = ("api_error", "job_failed")
_NOT_APPROVED = ("declined", "denied")


class _NobodyToAsk:
    """Confirmer when there is no terminal: refuses (the agent reports the decision, with its call)."""

    def __init__(self, session: OneShot) -> None:
        self.session = session

    def confirm(self, plan: Plan) -> Approval:
        self.session.approval_missing = True
        why = f": {plan.approval_note}" if plan.approval_note else ""
        raise ApprovalRequired(
            f"`{plan.command}` is a {plan.effect} action and needs approval; nobody can be asked here{why}",
            plan=plan.to_json(),
            hint=plan.approval_hint or "Re-run with --yes to approve, or run it in the interactive shell.",
        )


class OneShot:
    """Answers prompts in one conversation; with ``events`` (``--output json``) reports as JSON lines."""

    def __init__(self, ctx: Context, *, events: JsonEvents | None, resume: bool = False) -> None:
        from cargo_shell.commands.providers import model_configured
        from cargo_shell.render.console import make_console
        from cargo_shell.render.job_progress import JobProgress

        if not model_configured(ctx):
            raise ConfigError(
                "No language model is configured, so a prompt cannot be answered",
                hint="Set OPENAI_API_KEY (or OPENAI_BASE_URL for Ollama etc.), or run `cargo-shell onboard`; "
                "commands work without one: cargo-shell storage model list",
            )
        self.ctx = ctx
        self.console = make_console(ctx.env)
        self.json = events
        self.progress = JobProgress(self.console)
        self.resume = resume
        self.approval_missing = False
        self.failed = False
        self._text = ""
        self._final: Any = None

    def emit_json(self, event_type: str, **fields: Any) -> None:
        """One event; the assistant's text streamed so far goes out first, as its own event."""
        if self.json is None:
            return
        self._flush_text()
        self.json.emit(event_type, **fields)

    def _flush_text(self) -> None:
        if self.json is not None and self._text:
            text, self._text = self._text, ""
            self.json.emit("assistant", text=text)

    # -- agent events -----------------------------------------------------------------------
    def _on_agent(self, event: AgentEvent) -> None:
        from cargo_shell.agent import events as ev

        if isinstance(event, ev.ToolResult):
            self.failed |= event.status in _FAILED
            self.approval_missing |= event.status in _NOT_APPROVED
        if isinstance(event, ev.Final):
            self._final = event
        if isinstance(event, ev.SecretRevealed):
            self._show_secret(event)
            return
        if self.json is None:
            if not isinstance(event, ev.Final) or event.reason != "answer":
                self.renderer(event)
            else:
                self.renderer.flush()
            return
        match event:
            case ev.TextDelta(text=text):
                self._text += text
            case ev.ToolCallPlanned():
                self.emit_json(
                    "tool_call",
                    callId=event.call_id,
                    skill=event.skill,
                    command=event.command,
                    args=event.args,
                    effect=event.effect,
                    **({"effectReasons": list(event.effect_reasons)} if event.effect_reasons else {}),
                    commandLine=event.command_line,
                )
            case ev.ConfirmationAsked():
                self.emit_json(
                    "plan", callId=event.call_id, command=event.command, effect=event.effect, plan=event.plan_text
                )
            case ev.ConfirmationAnswered():
                self.emit_json("decision", callId=event.call_id, command=event.command, decision=event.decision)
            case ev.ExecutorEvent(call_id=call_id, event=inner):
                self._flush_text()
                self.json.executor_event(call_id, inner)
            case ev.ToolResult():
                self.emit_json(
                    "result", callId=event.call_id, command=event.command, status=event.status, data=event.data
                )
            case _:
                pass

    def _show_secret(self, event: SecretRevealed) -> None:
        """A secret the API returned (a token just created): once, on stderr, never in the events."""
        from cargo_shell.render.events import secret_notice

        self.ctx.env.stderr.write(secret_notice(event) + "\n")
        self.ctx.env.stderr.flush()

    def run(self, prompts: list[str]) -> int:
        from cargo_shell.agent.conversation import Conversation
        from cargo_shell.commands.confirm import tty_confirmer
        from cargo_shell.commands.providers import agent_limits, make_model
        from cargo_shell.executor.events import ignore
        from cargo_shell.render.events import EventRenderer
        from cargo_shell.repl.brain import make_agent
        from cargo_shell.repl.scripted import event_printer
        from cargo_shell.repl.transcript import ConversationStore, Transcript

        store = ConversationStore(self.ctx.env.paths.conversations_dir)
        resumed = store.latest() if self.resume else None
        conversation, transcript = resumed if resumed else (Conversation(), None)
        transcript = transcript or Transcript(conversation_id=conversation.id)
        self.renderer = EventRenderer(self.console)
        executor = self.ctx.make_executor(
            confirmer=None,
            # as JSON, executor events arrive through the agent, tagged with their call
            events=ignore if self.json is not None else event_printer(self.console, self.progress),
            front_end="prompt",
        )
        confirmer = tty_confirmer(self.ctx) or _NobodyToAsk(self)
        agent = make_agent(
            make_model(self.ctx),
            executor,
            confirmer,
            emit=self._on_agent,
            conversation=conversation,
            transcript=lambda: transcript,
            wait_for_jobs=True,
            limits=agent_limits(self.ctx),
        )
        status = ExitStatus.OK
        try:
            for prompt in prompts:
                transcript.inputs.append(prompt)
                answer = agent.ask(prompt)
                if answer.reason != "answer":
                    self.failed = True
                status = self._status()
                if status != ExitStatus.OK:
                    break
        except (Exception, KeyboardInterrupt) as exc:
            if self.json is None:
                raise
            self._flush_text()
            return self.json.fail(exc, conversation=conversation.id, usage=conversation.totals())
        finally:
            self.progress.stop()
            store.save(conversation, transcript)
        final_text = self._final.text if self._final is not None else ""
        self.emit_json(
            "final",
            text=final_text,
            exitStatus=int(status),
            conversation=conversation.id,
            usage=conversation.totals(),
        )
        return int(status)

    def _status(self) -> ExitStatus:
        if self.approval_missing:
            return ExitStatus.APPROVAL_REQUIRED
        if self.failed:
            return ExitStatus.ERROR
        return ExitStatus.OK


def answer_prompts(ctx: Context, prompts: list[str], *, json_output: bool, resume: bool) -> int:
    """Run the prompts; as JSON, whatever stops the run (even before it starts) is its ``error`` event."""
    if not json_output:
        return OneShot(ctx, events=None, resume=resume).run(prompts)
    from cargo_shell.repl.jsonevents import JsonEvents

    events = JsonEvents(ctx)
    return events.run(lambda: OneShot(ctx, events=events, resume=resume).run(prompts))


def prompt_command(ctx: Context, argv: list[str]) -> int:
    """`cargo-shell -p PROMPT [--yes] [--output json] [--resume]` (the prompt is in ctx.globals)."""
    if argv:
        raise UsageError(
            f"Unexpected arguments after -p PROMPT: {' '.join(argv)}",
            hint='Quote the whole prompt: cargo-shell -p "list my models"',
        )
    prompt = str(ctx.globals.get("prompt") or "").strip()
    if not prompt:
        raise UsageError("-p needs a prompt", hint='cargo-shell -p "list my models"')
    json_output = ctx.globals.get("output") == "json"
    return answer_prompts(ctx, [prompt], json_output=json_output, resume=bool(ctx.globals.get("resume")))


def run_command(ctx: Context, *, file: str, resume: bool | None) -> int:
    """`cargo-shell run FILE`: each non-empty, non-# line is a prompt, all in one conversation."""
    try:
        text = Path(file).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read {file}: {exc.strerror or exc}") from None
    prompts = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    json_output = ctx.globals.get("output") == "json"
    return answer_prompts(ctx, prompts, json_output=json_output, resume=bool(resume or ctx.globals.get("resume")))
