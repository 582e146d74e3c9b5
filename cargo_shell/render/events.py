"""Agent events on screen: streamed Markdown replies, each tool call as it happens, results.

One method per kind of event. Executor progress (job bars, notices) is drawn by the front end's
executor sink, so ``ExecutorEvent`` is ignored here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.agent import events as ev

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from cargo_shell.agent.events import AgentEvent
    from cargo_shell.render.waiting import Waiting

_STATUS_MARK = {
    "ok": ("✓", "green"),
    "help": ("?", "dim"),
    "invalid": ("✗", "yellow"),
    "declined": ("–", "yellow"),
    "denied": ("✗", "red"),
    "api_error": ("✗", "red"),
    "job_failed": ("✗", "red"),
    "not_run": ("–", "yellow"),
}


def secret_notice(event: ev.SecretRevealed) -> str:
    """The one-time display of secrets the API returned to an action the assistant ran."""
    lines = [f"{event.command} returned a secret. It is shown here once and nowhere else:"]
    lines += [f"  {path}: {value}" for path, value in event.secrets]
    lines.append(
        "Copy it now: the assistant, the transcript, the saved conversation and the audit log only have it masked."
    )
    return "\n".join(lines)


def result_summary(data: Any, command: str | None) -> str:
    """A few words about a tool result: '2 models', 'batch 1a2b3c4d success', 'done'."""
    from cargo_shell.render.tables import find_rows

    if isinstance(data, dict):
        if isinstance(data.get("stages"), list) and "totalRecords" in data:  # a staged rollout, as a whole
            sent = sum(1 for s in data["stages"] if isinstance(s, dict) and s.get("sent") is True)
            text = (
                f"rollout {data.get('status')}: {sent}/{len(data['stages'])} stages, "
                f"{data.get('sentRecords')}/{data['totalRecords']} records sent"
            )
            text += f", {data.get('failedRuns') or 0} of {data.get('runs') or 0} runs failed"
            return text + (f", {data['credits']:g} credits" if isinstance(data.get("credits"), int | float) else "")
        for key in ("batch", "run", "message"):
            job = data.get(key)
            if isinstance(job, dict) and "status" in job:
                extra = ""
                if job.get("runsCount") is not None:
                    extra = f", {job.get('executedRunsCount', 0)}/{job['runsCount']} runs"
                    if job.get("failedRunsCount"):
                        extra += f", {job['failedRunsCount']} failed"
                return f"{key} {str(job.get('uuid', ''))[:8]} {job['status']}{extra}"
        if isinstance(data.get("message"), str) and len(data) <= 3:
            return str(data["message"])[:120]
    rows = find_rows(data)
    if rows is not None:
        noun = (command or "").split()[-2] if command and len(command.split()) >= 2 else "item"
        return f"{len(rows)} {noun}{'s' if len(rows) != 1 and not noun.endswith('s') else ''}"
    return "done"


class EventRenderer:
    """Turns the agent's events into terminal output (or plain lines when not a terminal)."""

    def __init__(self, console: Console, *, waiting: Waiting | None = None) -> None:
        self.console = console
        #: The spinner shown while the model thinks: stopped before anything is shown, restarted
        #: after a tool result (the model is called again with it).
        self.waiting = waiting
        self._text = ""
        self._live: Live | None = None
        self._plain_open = False

    def __call__(self, event: AgentEvent) -> None:
        match event:
            case ev.TextDelta():
                self._stop_waiting()
                self.text_delta(event)
            case ev.ToolCallPlanned():
                self._stop_waiting()
                self.tool_call_planned(event)
            case ev.ConfirmationAsked():
                self._stop_waiting()
                self.flush()
            case ev.SecretRevealed():
                self._stop_waiting()
                self.secret_revealed(event)
            case ev.ToolResult():
                self._stop_waiting()
                self.tool_result(event)
                if self.waiting is not None:
                    self.waiting.start()  # the model is called again with the result
            case ev.Final():
                self._stop_waiting()
                self.final(event)
            case _:  # executor progress is drawn by the front end's executor sink; usage is for /cost
                pass

    def _stop_waiting(self) -> None:
        if self.waiting is not None:
            self.waiting.stop()

    # -- streaming text ----------------------------------------------------------------------
    def text_delta(self, event: ev.TextDelta) -> None:
        self._text += event.text
        if not self.console.is_terminal:
            self.console.file.write(event.text)
            self.console.file.flush()
            self._plain_open = True
            return
        from rich.live import Live
        from rich.markdown import Markdown

        if self._live is None:
            self._live = Live(console=self.console, refresh_per_second=10, vertical_overflow="visible")
            self._live.start()
        self._live.update(Markdown(self._text))

    def flush(self) -> None:
        """End the current streamed paragraph."""
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._plain_open:
            self.console.file.write("\n")
            self._plain_open = False
        self._text = ""

    # -- tool calls ----------------------------------------------------------------------------
    def tool_call_planned(self, event: ev.ToolCallPlanned) -> None:
        self.flush()
        style = {"read": "cyan", "write": "yellow", "destructive": "red", "cost": "magenta"}.get(event.effect, "")
        from rich.markup import escape

        from cargo_shell.value_summary import summarise_line

        args = event.command_line.removeprefix("cargo-shell ").removeprefix(event.command).strip()
        args = summarise_line(args, limit=160)
        self.console.print(
            f"[{style}]⚙[/{style}] [bold]{event.command}[/bold] [dim]{escape(args)}[/dim]", highlight=False
        )

    def secret_revealed(self, event: ev.SecretRevealed) -> None:
        from rich.panel import Panel
        from rich.text import Text

        self.flush()
        title = "shown once — copy it now"
        self.console.print(Panel(Text(secret_notice(event)), title=title, title_align="left", border_style="yellow"))

    def tool_result(self, event: ev.ToolResult) -> None:
        self.flush()
        mark, style = _STATUS_MARK.get(event.status, ("•", ""))
        if event.status in ("ok", "job_failed"):
            text = result_summary(event.data, event.command)
        elif event.status == "help":
            text = f"read the guide of {event.skill}"
        elif isinstance(event.data, dict):
            text = str(event.data.get("message") or event.data.get("errorMessage") or event.status)
        else:
            text = event.status
        label = event.command or event.skill
        from rich.markup import escape

        self.console.print(f"  [{style}]{mark}[/{style}] {escape(str(label))}: {escape(text)}", highlight=False)
        hint = event.data.get("hint") if event.status == "denied" and isinstance(event.data, dict) else None
        if hint:
            self.console.print(f"    [dim]{escape(str(hint))}[/dim]", highlight=False)

    def final(self, event: ev.Final) -> None:
        self.flush()
        if event.reason not in ("answer",):
            self.console.print(f"[yellow]{event.text}[/yellow]" if event.reason != "interrupted" else "")
