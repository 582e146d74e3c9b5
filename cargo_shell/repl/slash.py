"""Slash commands: the shell's own controls (/help, /jobs, /save, /cost ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cargo_shell.errors import UsageError

if TYPE_CHECKING:
    from cargo_shell.repl.app import Repl
    from cargo_shell.repl.parse import ParsedInput

Handler = Callable[["Repl", list[str]], None]


class ExitShell(Exception):
    """Raised by /exit: the shell's loop ends."""


@dataclass(frozen=True)
class SlashCommand:
    name: str
    summary: str
    handler: Handler
    aliases: tuple[str, ...] = ()


#: Every slash command, in the order /help lists them; help, completion and routing read this.
COMMANDS: list[SlashCommand] = []


def slash(name: str, summary: str, *, aliases: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Declare a slash command: its name, the line /help and completion show, its handler."""

    def declare(handler: Handler) -> Handler:
        COMMANDS.append(SlashCommand(name, summary, handler, aliases))
        return handler

    return declare


def summaries() -> dict[str, str]:
    """Name → summary, for /help and completion (aliases are not offered)."""
    return {command.name: command.summary for command in COMMANDS}


def find(name: str) -> SlashCommand | None:
    return next((c for c in COMMANDS if name == c.name or name in c.aliases), None)


@slash("help", "what you can type here")
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
    for name, text in summaries().items():
        table.add_row(f"  /{name}", text)
    repl.console.print(table)
    repl.console.print(
        "[dim]Tab completes commands, flags and resource names; ↑ recalls history; end a line with \\ "
        "to continue it; Ctrl-C cancels the current turn.[/dim]"
    )


@slash("skills", "the seven skills the assistant can use, and their commands")
def _skills(repl: Repl, args: list[str]) -> None:
    from rich.table import Table

    from cargo_shell.registry import SKILLS

    table = Table("skill", "commands", "examples", header_style="bold")
    for skill in SKILLS:
        specs = repl.registry.by_skill(skill)
        table.add_row(skill, str(len(specs)), ", ".join(s.name for s in specs[:3]) + (" …" if len(specs) > 3 else ""))
    repl.console.print(table)


@slash("jobs", "runs and batches started from here (and still running)")
def _jobs(repl: Repl, args: list[str]) -> None:
    """``/jobs ...`` is ``jobs ...``."""
    from cargo_shell.repl.direct import run_direct

    run_direct(repl, ["jobs", *args])


@slash("history", "what you typed in this session")
def _history(repl: Repl, args: list[str]) -> None:
    from rich.markup import escape

    from cargo_shell.value_summary import summarise_line

    for number, text in enumerate(repl.transcript.inputs[:-1], 1):
        repl.console.print(f"[dim]{number:>3}[/dim]  {escape(summarise_line(text))}", highlight=False)
    if repl.transcript.commands:
        from cargo_shell.value_summary import summarise_argv

        repl.console.print("[bold]Commands that ran:[/bold]")
        for index, argv in enumerate(repl.transcript.commands):
            line = summarise_argv(argv, repl.transcript.sources.get(index))
            repl.console.print("  cargo-shell " + line, highlight=False, markup=False)


@slash("log", "the audit log of actions (cargo-shell log)")
def _log(repl: Repl, args: list[str]) -> None:
    """``/log ...`` is ``log ...``."""
    from cargo_shell.repl.direct import run_direct

    run_direct(repl, ["log", *args])


@slash("policy", "which actions run without asking")
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


@slash("model", "show or set the language model: /model NAME")
def _model(repl: Repl, args: list[str]) -> None:
    """``/model`` shows the model and its source; ``/model NAME`` sets it for the session (``--save``: profile)."""
    from cargo_shell.commands.providers import model_choice, model_configured, set_model

    names = [a for a in args if not a.startswith("-")]
    unknown = [a for a in args if a.startswith("-") and a != "--save"]
    if unknown or len(names) > 1 or ("--save" in args and not names):
        raise UsageError("/model takes one model name and --save", hint="e.g. /model gpt-4o  or  /model gpt-4o --save")
    ctx = repl.ctx
    if names:
        if repl.fixed_model is not None:
            raise UsageError("This shell was started with a fixed model; /model cannot change it.")
        name = names[0]
        if "--save" in args:
            set_model(ctx, name)
            # the environment wins over the profile: keep the choice for this session anyway
            repl.model_override = name if ctx.env.environ.get("CARGO_SHELL_MODEL") else None
        else:
            repl.model_override = name
        repl.router.forget_agent()  # the next request builds the agent on the new model, same conversation
    name, source = model_choice(ctx, repl.model_override)
    if repl.fixed_model is not None:
        name, source = str(getattr(repl.fixed_model, "name", "custom")), "given to this shell"
    configured = repl.fixed_model is not None or model_configured(ctx)
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


@slash("profile", "show or switch the profile: /profile NAME")
def _profile(repl: Repl, args: list[str]) -> None:
    if args:
        profiles = repl.ctx.store.load()["profiles"]
        if args[0] not in profiles and args[0] != "default":
            raise UsageError(f"No profile named {args[0]!r}", hint=f"Known: {', '.join(sorted(profiles)) or 'none'}")
        repl.ctx.globals["profile"] = args[0]
        repl.reset_target()
    resolved = repl.ctx.resolved()
    repl.console.print(f"profile {resolved.profile}: {resolved.target} ({resolved.base_url})", highlight=False)


@slash("login", "log in to Cargo, or go back to the sandbox (guided)")
def _login(repl: Repl, args: list[str]) -> None:
    from cargo_shell.repl.onboard import Onboarding
    from cargo_shell.terminal_echo import echo_off

    with echo_off():  # the token prompt is hidden; keys typed before it appears must not echo either
        Onboarding(repl.ctx, ask=repl.prompt.ask, console=repl.console).choose_target()
    repl.reset_target()


@slash("clear", "clear the screen and start a new conversation")
def _clear(repl: Repl, args: list[str]) -> None:
    from cargo_shell.agent.conversation import Conversation
    from cargo_shell.repl.transcript import Transcript

    repl.save_conversation()
    repl.console.clear()
    repl.conversation = Conversation()
    repl.transcript = Transcript(conversation_id=repl.conversation.id)
    repl.router.forget_agent()
    repl.console.print("[dim]New conversation.[/dim]")


@slash("save", "save the commands that ran as a replayable script: /save FILE")
def _save(repl: Repl, args: list[str]) -> None:
    if not args:
        raise UsageError("/save needs a file name", hint="e.g. /save session.cargo")
    path = Path(args[0]).expanduser()
    count = repl.transcript.save_script(path)
    repl.console.print(f"Saved {count} command(s) to {path}. Replay with: cargo-shell replay {path}")


@slash("replay", "run a saved script: /replay FILE [--dry-run]")
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


@slash("cost", "tokens used and estimated cost of this conversation")
def _cost(repl: Repl, args: list[str]) -> None:
    from cargo_shell.repl.llm import usage_report

    repl.console.print(usage_report(repl.conversation), highlight=False)


@slash("exit", "leave the shell (Ctrl-D works too)", aliases=("quit",))
def _exit(repl: Repl, args: list[str]) -> None:
    raise ExitShell


def run_slash(repl: Repl, parsed: ParsedInput) -> None:
    name = parsed.command
    command = find(name)
    if command is None:
        import difflib

        close = difflib.get_close_matches(name, list(summaries()), n=1)
        raise UsageError(f"Unknown command /{name}", hint=f"Did you mean /{close[0]}?" if close else "Type /help.")
    command.handler(repl, parsed.argv[1:])
