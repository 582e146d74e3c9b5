"""Slash commands: the shell's own controls (/help, /jobs, /save, /cost ...)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cargo_shell.errors import UsageError

if TYPE_CHECKING:
    from cargo_shell.repl.app import Repl
    from cargo_shell.repl.parse import ParsedInput

SLASH_HELP: dict[str, str] = {
    "help": "what you can type here",
    "skills": "the seven skills the assistant can use, and their commands",
    "jobs": "runs and batches started from here (and still running)",
    "history": "what you typed in this session",
    "log": "the audit log of actions (cargo-shell log)",
    "policy": "which actions run without asking",
    "model": "show or set the language model: /model NAME",
    "profile": "show or switch the profile: /profile NAME",
    "login": "log in to Cargo, or go back to the sandbox (guided)",
    "clear": "clear the screen and start a new conversation",
    "save": "save the commands that ran as a replayable script: /save FILE",
    "replay": "run a saved script: /replay FILE [--dry-run]",
    "cost": "tokens used and estimated cost of this conversation",
    "exit": "leave the shell (Ctrl-D works too)",
}

Handler = Callable[["Repl", list[str]], None]


def _help(repl: Repl, args: list[str]) -> None:
    from rich.table import Table

    repl.console.print(
        "Three kinds of input:\n"
        "  • plain words → the assistant plans and runs commands (asks before changing anything)\n"
        "  • a command → runs directly, no model: [bold]storage model list --output table[/bold] "
        "or [bold]!whoami[/bold]\n"
        "  • a slash command → controls the shell:"
    )
    table = Table.grid(padding=(0, 2))
    for name, text in SLASH_HELP.items():
        table.add_row(f"  /{name}", text)
    repl.console.print(table)
    repl.console.print(
        "[dim]Tab completes commands, flags and resource names; ↑ recalls history; end a line with \\ "
        "to continue it; Ctrl-C cancels the current turn.[/dim]"
    )


def _skills(repl: Repl, args: list[str]) -> None:
    from rich.table import Table

    from cargo_shell.registry import SKILLS

    table = Table("skill", "commands", "examples", header_style="bold")
    for skill in SKILLS:
        specs = repl.registry.by_skill(skill)
        table.add_row(skill, str(len(specs)), ", ".join(s.name for s in specs[:3]) + (" …" if len(specs) > 3 else ""))
    repl.console.print(table)


def _jobs(repl: Repl, args: list[str]) -> None:
    """``/jobs ...`` is ``jobs ...``."""
    from cargo_shell.repl.direct import run_direct

    run_direct(repl, ["jobs", *args])


def _history(repl: Repl, args: list[str]) -> None:
    from rich.markup import escape

    from cargo_shell.render.summary import summarise_line

    for number, text in enumerate(repl.transcript.inputs[:-1], 1):
        repl.console.print(f"[dim]{number:>3}[/dim]  {escape(summarise_line(text))}", highlight=False)
    if repl.transcript.commands:
        from cargo_shell.render.summary import summarise_argv

        repl.console.print("[bold]Commands that ran:[/bold]")
        for index, argv in enumerate(repl.transcript.commands):
            line = summarise_argv(argv, repl.transcript.sources.get(index))
            repl.console.print("  cargo-shell " + line, highlight=False, markup=False)


def _log(repl: Repl, args: list[str]) -> None:
    """``/log ...`` is ``log ...``."""
    from cargo_shell.repl.direct import run_direct

    run_direct(repl, ["log", *args])


def _policy(repl: Repl, args: list[str]) -> None:
    repl.console.print(
        "read actions run without asking; write, destructive and cost actions ask first "
        "(y / n / a = always for this command in this session / e = edit)."
    )
    policy = repl.executor().policy
    if policy.session_always:
        repl.console.print("Always approved in this session: " + ", ".join(sorted(policy.session_always)))
    for rule in policy.rules:
        repl.console.print(f"  rule {rule.describe()}", highlight=False)
    if not policy.rules:
        repl.console.print("[dim]No saved rules (`cargo-shell policy allow|deny ...` adds some).[/dim]")


def _model(repl: Repl, args: list[str]) -> None:
    """``/model`` shows the model and its source; ``/model NAME`` sets it for the session (``--save``: profile)."""
    from cargo_shell.commands.providers import model_choice, model_configured, set_model

    names = [a for a in args if not a.startswith("-")]
    unknown = [a for a in args if a.startswith("-") and a != "--save"]
    if unknown or len(names) > 1 or ("--save" in args and not names):
        raise UsageError("/model takes one model name and --save", hint="e.g. /model gpt-4o  or  /model gpt-4o --save")
    ctx = repl.ctx
    if names:
        if repl._model is not None:
            raise UsageError("This shell was started with a fixed model; /model cannot change it.")
        name = names[0]
        if "--save" in args:
            set_model(ctx, name)
            # the environment wins over the profile: keep the choice for this session anyway
            repl.model_override = name if ctx.env.environ.get("CARGO_SHELL_MODEL") else None
        else:
            repl.model_override = name
        repl._brain = None  # the next request builds the agent on the new model, same conversation
    name, source = model_choice(ctx, repl.model_override)
    if repl._model is not None:
        name, source = str(getattr(repl._model, "name", "custom")), "given to this shell"
    configured = repl._model is not None or model_configured(ctx)
    repl.state.model = name if configured else (f"{name} (no API key)" if repl.model_override else None)
    repl.console.print(f"model: {name} ({source})", highlight=False, markup=False)
    if names and "--save" not in args:
        repl.console.print(
            f"To keep it: /model {name} --save (profile {ctx.resolved().profile!r}), "
            f"or export CARGO_SHELL_MODEL={name}",
            style="dim",
            highlight=False,
            markup=False,
        )
    if names and "--save" in args and ctx.env.environ.get("CARGO_SHELL_MODEL"):
        repl.console.print("Saved; CARGO_SHELL_MODEL is set and wins over the profile in new shells.", style="dim")
    if not configured:
        repl.console.print(
            "No language model is configured yet, so plain-words requests cannot be answered: "
            "export OPENAI_API_KEY=... (or OPENAI_BASE_URL for Ollama, vLLM...) or run cargo-shell onboard.",
            style="yellow",
            highlight=False,
            markup=False,
        )


def _profile(repl: Repl, args: list[str]) -> None:
    if args:
        profiles = repl.ctx.store.load()["profiles"]
        if args[0] not in profiles and args[0] != "default":
            raise UsageError(f"No profile named {args[0]!r}", hint=f"Known: {', '.join(sorted(profiles)) or 'none'}")
        repl.ctx.globals["profile"] = args[0]
        repl.reset_target()
    resolved = repl.ctx.resolved()
    repl.console.print(f"profile {resolved.profile}: {resolved.target} ({resolved.base_url})", highlight=False)


def _login(repl: Repl, args: list[str]) -> None:
    from cargo_shell.repl.onboard import Onboarding
    from cargo_shell.terminal_echo import echo_off

    with echo_off():  # the token prompt is hidden; keys typed before it appears must not echo either
        Onboarding(repl.ctx, ask=repl.ask, console=repl.console).choose_target()
    repl.reset_target()


def _clear(repl: Repl, args: list[str]) -> None:
    from cargo_shell.agent.conversation import Conversation
    from cargo_shell.repl.transcript import Transcript

    repl.save_conversation()
    repl.console.clear()
    repl.conversation = Conversation()
    repl.transcript = Transcript(conversation_id=repl.conversation.id)
    repl._brain = None
    repl.console.print("[dim]New conversation.[/dim]")


def _save(repl: Repl, args: list[str]) -> None:
    if not args:
        raise UsageError("/save needs a file name", hint="e.g. /save session.cargo")
    path = Path(args[0]).expanduser()
    count = repl.transcript.save_script(path)
    repl.console.print(f"Saved {count} command(s) to {path}. Replay with: cargo-shell replay {path}")


def _replay(repl: Repl, args: list[str]) -> None:
    from cargo_shell.repl.scripted import replay_script

    paths = [a for a in args if not a.startswith("-")]
    if not paths:
        raise UsageError("/replay needs a file name", hint="e.g. /replay session.cargo --dry-run")
    replay_script(
        repl.ctx,
        Path(paths[0]).expanduser(),
        console=repl.console,
        executor=repl.executor(),
        dry_run="--dry-run" in args,
        transcript=repl.transcript,
    )


def _cost(repl: Repl, args: list[str]) -> None:
    from cargo_shell.repl.llm import usage_report

    repl.console.print(usage_report(repl.conversation), highlight=False)


def _exit(repl: Repl, args: list[str]) -> None:
    from cargo_shell.repl.app import ExitShell

    raise ExitShell


HANDLERS: dict[str, Handler] = {
    "help": _help,
    "skills": _skills,
    "jobs": _jobs,
    "history": _history,
    "log": _log,
    "policy": _policy,
    "model": _model,
    "profile": _profile,
    "login": _login,
    "clear": _clear,
    "save": _save,
    "replay": _replay,
    "cost": _cost,
    "exit": _exit,
    "quit": _exit,
}


def run_slash(repl: Repl, parsed: ParsedInput) -> None:
    name = parsed.command
    handler = HANDLERS.get(name)
    if handler is None:
        import difflib

        close = difflib.get_close_matches(name, list(SLASH_HELP), n=1)
        raise UsageError(f"Unknown command /{name}", hint=f"Did you mean /{close[0]}?" if close else "Type /help.")
    handler(repl, parsed.argv[1:])
