"""Non-interactive use: `cargo-shell -p PROMPT`, `cargo-shell run FILE`, `cargo-shell replay FILE`.

Exit status: 0 when everything ran; 3 when an action needed approval that nobody gave (or was
declined); 1 when an action failed. Without a terminal nothing ever waits for an answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import ApprovalRequired, CargoShellError, Declined, ExitStatus, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from cargo_shell.commands.context import Context
    from cargo_shell.executor import EventSink, Executor
    from cargo_shell.render.job_progress import JobProgress
    from cargo_shell.repl.jsonevents import JsonEvents
    from cargo_shell.repl.transcript import Transcript


def event_printer(console: Console, progress: JobProgress, events: JsonEvents | None = None) -> EventSink:
    """An executor event sink for one-shot use: progress bars/lines, or JSON events."""
    if events is not None:
        return lambda event: events.executor_event(None, event)
    from cargo_shell.render.job_progress import JobEvents

    return JobEvents(console, progress)


def replay_script(
    ctx: Context,
    path: Path,
    *,
    console: Console,
    executor: Executor,
    dry_run: bool = False,
    transcript: Transcript | None = None,
    events: JsonEvents | None = None,
) -> int:
    """Run a saved script through the executor and its policy; no language model.

    UUIDs that earlier lines created (``#> created`` marks) are replaced by the new ones.
    """
    from cargo_shell.commands.resolve import Invocation, resolve
    from cargo_shell.render.plan import plan_panel
    from cargo_shell.render.results import show_result
    from cargo_shell.repl.actions import created_uuid
    from cargo_shell.repl.transcript import read_script
    from cargo_shell.secrets import MASK

    try:
        lines = read_script(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    from rich.markup import escape

    from cargo_shell.value_summary import file_sources, summarise_argv, summarise_line

    mapping: dict[str, str] = {}
    status = ExitStatus.OK
    for step, line in enumerate(lines, 1):
        sources = file_sources(line.argv)
        words = [_beside(word, path.parent) for word in line.argv]
        argv = [_substitute(word, mapping) for word in words]
        if any(MASK in word for word in argv):
            raise UsageError(
                f"{path.name} line {line.number}: a secret in it was masked ({MASK}) when the script was saved, "
                "so it cannot be sent",
                hint="Put the real value in its place in the script, or run that command yourself.",
            )
        known, _used = ctx.registry.match(argv)
        inv = resolve(ctx.registry, argv, ctx.env.stdin) if known is not None and known.http is not None else None
        if not isinstance(inv, Invocation):
            shown = summarise_argv(argv)
            raise UsageError(f"{path.name} line {line.number}: `{shown}` is not a Cargo API command")
        spec, raw = inv.spec, inv.raw
        if dry_run:
            plan = executor.prepare(spec, raw)
            if events is not None:
                events.emit("plan", step=step, **plan.to_json())
            else:
                shown = escape(summarise_line(plan.command_line, sources))
                console.print(f"[bold]{step}.[/bold] {shown}", highlight=False)
                if plan.effect != "read":
                    console.print(plan_panel(plan, sources))
            continue
        if events is None:
            shown = escape(summarise_argv(argv, sources))
            console.print(f"[bold]{step}.[/bold] cargo-shell {shown}", highlight=False)
        try:
            outcome = executor.run(spec, raw, wait=True if spec.job is not None else None)
        except (ApprovalRequired, Declined) as exc:
            _report(console, events, exc, step, spec.name)
            if events is not None:
                events.emit("final", exitStatus=int(ExitStatus.APPROVAL_REQUIRED), commands=len(lines), dryRun=dry_run)
            return int(ExitStatus.APPROVAL_REQUIRED)
        except CargoShellError as exc:
            _report(console, events, exc, step, spec.name)
            return int(exc.exit_status)
        new = created_uuid(outcome)
        if line.created and new:
            mapping[line.created] = new
        if transcript is not None:
            transcript.record(outcome, sources)
        if events is not None:
            events.emit("result", step=step, command=spec.name, data=outcome.data)
        else:
            show_result(console, outcome.data, key=spec.response_key)
        if outcome.job_failed:
            status = ExitStatus.ERROR
    if events is not None:
        events.emit("final", exitStatus=int(status), commands=len(lines), dryRun=dry_run)
    elif dry_run:
        console.print(f"[dim]Dry run: {len(lines)} command(s) planned, none sent.[/dim]")
    return int(status)


def _beside(word: str, folder: Path) -> str:
    """``@name`` where ``name`` is a file beside the script (``/save`` writes long values there): the
    file's text, so a replay reads it wherever it is started from and UUID substitution applies."""
    if not word.startswith("@") or len(word) < 2 or Path(word[1:]).is_absolute():
        return word
    candidate = folder / word[1:]
    if not candidate.is_file():
        return word
    try:
        return candidate.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read {candidate}: {exc.strerror or exc}") from None


def _substitute(word: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        if old in word:
            word = word.replace(old, new)
    return word


def _job_failed(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    for key in ("batch", "run", "message"):
        job = data.get(key)
        if isinstance(job, dict) and job.get("status") == "error":
            return True
    return False


def _report(console: Console, events: JsonEvents | None, exc: CargoShellError, step: int, command: str) -> None:
    """A refused step is a ``decision``; a failed one stops the replay: its ``error`` is the final event."""
    from cargo_shell.render.errors import show_error

    if events is None:
        show_error(console, exc)
    elif isinstance(exc, ApprovalRequired | Declined):
        decision = "approval_required" if isinstance(exc, ApprovalRequired) else "declined"
        events.emit("decision", step=step, command=command, decision=decision, **exc.to_json())
    else:
        events.fail(exc, step=step)


def _console(ctx: Context) -> Console:
    from cargo_shell.render.console import make_console

    return make_console(ctx.env)


def replay_command(ctx: Context, *, file: str, dry_run: bool | None) -> int:
    """`cargo-shell replay FILE [--dry-run]`: the saved commands again, through the executor and its policy."""
    from cargo_shell.render.job_progress import JobProgress

    console = _console(ctx)
    progress = JobProgress(console)
    path = Path(file).expanduser()
    if ctx.globals.get("output") != "json":
        return _replay(ctx, path, bool(dry_run), console, progress, None)
    from cargo_shell.repl.jsonevents import JsonEvents

    events = JsonEvents(ctx)
    return events.run(lambda: _replay(ctx, path, bool(dry_run), console, progress, events))


def _replay(
    ctx: Context, path: Path, dry_run: bool, console: Console, progress: JobProgress, events: JsonEvents | None
) -> int:
    from cargo_shell.commands.confirm import tty_confirmer

    executor = ctx.make_executor(
        confirmer=tty_confirmer(ctx), events=event_printer(console, progress, events), front_end="replay"
    )
    try:
        return replay_script(ctx, path, console=console, executor=executor, dry_run=dry_run, events=events)
    finally:
        progress.stop()
