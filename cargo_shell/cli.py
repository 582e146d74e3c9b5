"""Process entry point: route argv to a registry command, a local command or the shell.

Exceptions become exit statuses here and only here. Module-level imports stay light: a bare
`cargo-shell` goes straight to the shell, whose prompt must accept keys quickly; argument parsing,
the registry and help load when a command needs them.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cargo_shell.repl.boot  # noqa: F401  (first: a bare interactive `cargo-shell` paints its prompt now)
from cargo_shell.environment import Environment
from cargo_shell.errors import CargoShellError, ExitStatus, UsageError
from cargo_shell.render.output import write_error
from cargo_shell.session import Context


@dataclass(frozen=True)
class LocalCommand:
    """One of cargo-shell's own commands: its handler and what help says about it."""

    target: str  # "module:function" taking (ctx, argv) -> int
    summary: str
    #: What follows the name in help when it is not the verbs of ``completion.LOCAL_TREE``.
    args: str = ""


#: cargo-shell's own commands, by first word (help and completion list them from here).
LOCAL_COMMANDS: dict[str, LocalCommand] = {
    "login": LocalCommand("cargo_shell.local_commands:login", "check an API token with whoami, then store it"),
    "logout": LocalCommand("cargo_shell.local_commands:logout", "forget the stored token of a profile"),
    "config": LocalCommand(
        "cargo_shell.local_commands:config", "show the resolved settings and where each comes from (token masked)"
    ),
    "completion": LocalCommand("cargo_shell.local_commands:completion", "print a shell completion script"),
    "sandbox": LocalCommand("cargo_shell.local_commands:sandbox", "run, inspect or re-seed the local sandbox API"),
    "jobs": LocalCommand(
        "cargo_shell.executor.commands:jobs", "runs and batches started here: list (default), re-attach, cancel"
    ),
    "log": LocalCommand(
        "cargo_shell.executor.commands:log",
        "the audit log of executed actions",
        "[--limit N] [--effect E]",
    ),
    "policy": LocalCommand(
        "cargo_shell.executor.commands:policy", "which actions run without asking: list (default), add, remove rules"
    ),
    "onboard": LocalCommand(
        "cargo_shell.repl.onboard:onboard_command", "guided setup: sandbox or login, language model, a short tour"
    ),
    "run": LocalCommand(
        "cargo_shell.repl.oneshot:run_command", "run prompts from a file, one per line, in one conversation", "FILE"
    ),
    "replay": LocalCommand(
        "cargo_shell.repl.scripted:replay_command",
        "re-run the commands saved with /save (no language model)",
        "FILE [--dry-run]",
    ),
    "mcp": LocalCommand(
        "cargo_shell.mcp.command:mcp_command",
        "the seven skill tools for MCP clients (Claude Code, Cursor, Codex), same confirmations",
        "[--read-only] [--http]",
    ),
}


def _split_globals(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Global options given before the command words."""
    if not argv:
        return {}, []
    from cargo_shell.cli_args import GLOBAL_FLAGS, GLOBAL_SWITCHES

    opts: dict[str, Any] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        token = argv[i]
        name, _, inline = token.partition("=")
        if name in GLOBAL_FLAGS:
            if inline:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                raise UsageError(f"{name} needs a value")
            opts[name[2:].replace("-", "_")] = value
        elif name == "--yes":
            from cargo_shell.cli_args import yes_scope

            opts["yes"] = yes_scope(inline)
        elif name in GLOBAL_SWITCHES:
            opts[name[2:]] = True
        elif name in ("-h", "--help"):
            opts["help"] = True
        elif name == "--version":
            opts["version"] = True
        elif name in ("-p", "--prompt"):  # scripted prompt: cargo-shell -p "PROMPT" [--yes] [--output json]
            if not inline and i + 1 >= len(argv):
                raise UsageError(f"{name} needs a prompt", hint='cargo-shell -p "list my models"')
            if not inline:
                i += 1
            opts["prompt"] = inline or argv[i]
        elif name == "--resume":  # continue the last conversation (shell, -p or run)
            opts["resume"] = True
        else:
            break
        i += 1
    return opts, argv[i:]


def _take_output_switches(ctx: Context, argv: list[str]) -> list[str]:
    """Let `--output`, `--yes`, `--strict` and `--debug` follow a local command's own words too."""
    rest: list[str] = []
    i = 0
    while i < len(argv):
        name, _, inline = argv[i].partition("=")
        if name == "--output" and (inline or i + 1 < len(argv)):
            ctx.apply_globals({"output": inline or argv[i + 1]})
            i += 1 if inline else 2
            continue
        if name == "--yes":
            from cargo_shell.cli_args import yes_scope

            ctx.apply_globals({"yes": yes_scope(inline)})
        elif name in ("--strict", "--debug") and not inline:
            ctx.apply_globals({name[2:]: True})
        else:
            rest.append(argv[i])
        i += 1
    return rest


def _load(target: str) -> Callable[[Context, list[str]], int]:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


def _unknown(ctx: Context, words: list[str]) -> UsageError:
    import difflib

    registry = ctx.registry
    known: list[str] = []
    depth = 0
    for depth in range(len(words)):
        options = registry.children(tuple(words[:depth])) + (list(LOCAL_COMMANDS) if depth == 0 else [])
        if words[depth] not in options:
            known = options
            break
    bad = words[depth] if words else ""
    close = difflib.get_close_matches(bad, known, n=3)
    typed = " ".join(words[: depth + 1])
    hint = f"Did you mean {', '.join(close)}?" if close else f"Choose one of: {', '.join(known)}"
    return UsageError(f"Unknown command `{typed}`. {hint}", hint="Run `cargo-shell --help` to see every domain.")


def run_registry_command(ctx: Context, argv: list[str]) -> int:
    from cargo_shell import cli_help
    from cargo_shell.cli_args import parse_command_args

    registry = ctx.registry
    words = [w for w in argv if not w.startswith("-")]
    spec, used = registry.match(argv)
    if spec is None:
        prefix = tuple(w for w in argv[:3] if not w.startswith("-"))
        while prefix and not registry.children(prefix):
            prefix = prefix[:-1]
        wants_help = any(a in ("-h", "--help") for a in argv)
        if prefix and (wants_help or tuple(words) == prefix):
            text = cli_help.group_help(registry, prefix)
            if wants_help:
                ctx.env.stdout.write(text)
                return ExitStatus.OK
            ctx.env.stderr.write(text)
            raise UsageError(
                f"`{' '.join(prefix)}` needs a {'resource' if len(prefix) == 1 else 'verb'}: "
                f"one of {', '.join(registry.children(prefix))}"
            )
        raise _unknown(ctx, words)
    if spec.local is not None:
        return _load(LOCAL_COMMANDS[spec.local].target)(ctx, argv[used:])
    raw, opts = parse_command_args(spec, argv[used:], ctx.env.stdin)
    if opts.get("help"):
        ctx.env.stdout.write(cli_help.command_help(spec))
        return ExitStatus.OK
    ctx.apply_globals(opts)
    return ctx.run_and_print(spec, raw, output_file=opts.get("output_file"))


#: Local commands that can start or follow jobs (with the registry commands and `-p`): SIGTERM and
#: SIGHUP are handled like Ctrl-C there, so a stopped process still reports the job it leaves.
_FOLLOWS_JOBS = frozenset({"jobs", "run", "replay"})


def _as_interrupt() -> contextlib.AbstractContextManager[None]:
    from cargo_shell.signals import termination_as_interrupt

    return termination_as_interrupt()


def dispatch(ctx: Context, argv: list[str]) -> int:
    opts, rest = _split_globals(argv)
    ctx.apply_globals(opts)
    if opts.get("version"):
        from cargo_shell import __version__

        ctx.env.stdout.write(f"cargo-shell {__version__}\n")
        return ExitStatus.OK
    if "prompt" in opts:
        with _as_interrupt():
            return _load("cargo_shell.repl.oneshot:prompt_command")(ctx, rest)
    if not rest:
        if opts.get("help"):
            from cargo_shell import cli_help

            ctx.env.stdout.write(cli_help.root_help(ctx.registry))
            return ExitStatus.OK
        return _load("cargo_shell.shell_entry:open_shell")(ctx, [])
    if rest[0] in LOCAL_COMMANDS and rest[0] not in ctx.registry:
        command = _load(LOCAL_COMMANDS[rest[0]].target)
        args = _take_output_switches(ctx, rest[1:])
        if rest[0] not in _FOLLOWS_JOBS:
            return command(ctx, args)
        with _as_interrupt():
            return command(ctx, args)
    with _as_interrupt():
        return run_registry_command(ctx, rest)


def main(argv: list[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx = Context(env)
    try:
        return int(dispatch(ctx, argv))
    except CargoShellError as exc:
        write_error(env, exc.to_json())
        if exc.hint and env.stderr is not None:
            env.warn(f"hint: {exc.hint}")
        return int(exc.exit_status)
    except KeyboardInterrupt as exc:
        return _interrupted(env, exc)
    except BrokenPipeError:
        return int(ExitStatus.OK)
    except Exception as exc:
        write_error(env, internal_error(ctx, exc))
        return int(ExitStatus.ERROR)
    finally:
        ctx.close()


def internal_error(ctx: Context, exc: Exception) -> dict[str, Any]:
    """Record an unexpected exception (its traceback on stderr with --debug, else in the state
    directory's log) and return the error body to show instead of it."""
    if ctx.debug:
        import traceback

        traceback.print_exc(file=ctx.env.stderr)
    else:
        _log_crash(ctx.env)
    from cargo_shell.secrets import mask_text

    text = mask_text(f"{type(exc).__name__}: {exc}")
    return {"errorMessage": f"Internal error: {text}. Re-run with --debug for details."}


def _interrupted(env: Environment, exc: KeyboardInterrupt) -> int:
    """Ctrl-C (130), SIGTERM/SIGHUP (128 + N), or either after a job was accepted (5, naming the job)."""
    from cargo_shell.errors import interrupt_report

    body, status = interrupt_report(exc)
    write_error(env, body)
    if body.get("hint"):
        env.warn(f"hint: {body['hint']}")
    return status


def _log_crash(env: Environment) -> None:
    """The traceback of an unexpected error, in the state folder, secrets masked."""
    import logging

    from cargo_shell.private_files import private_file
    from cargo_shell.secrets import MaskingFormatter

    try:
        path = private_file(env.paths.state_dir / "cargo-shell.log")
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("cargo_shell.crash")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            logger.error("unexpected error", exc_info=True)
        finally:
            logger.removeHandler(handler)
            handler.close()
    except OSError:
        pass
