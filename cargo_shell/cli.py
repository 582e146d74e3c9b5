"""The command line: argv → resolve → execute → render → exit status.

Exceptions become exit statuses here and only here. Imports stay light until the words are
known: a bare interactive `cargo-shell` paints its prompt first (:func:`main`), then opens the
shell, whose prompt must accept keys quickly; argument parsing, the registry and help load
when a command needs them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context
    from cargo_shell.commands.resolve import Invocation
    from cargo_shell.environment import Environment


def main(argv: list[str] | None = None, env: Environment | None = None, *, transport: Any = None) -> int:
    """The process's entry point (``argv`` None: this process's own arguments). ``transport`` is an
    httpx transport in front of a cloud target (tests)."""
    if argv is None:
        from cargo_shell.repl.early import _config_says_onboarded, paint_prompt_early

        # before the imports below: a bare `cargo-shell` shows its prompt now; when a hidden prompt
        # is coming instead (login without --token, onboarding), the terminal stops echoing now
        if not paint_prompt_early(sys.argv):
            from cargo_shell.terminal_echo import hold_for_argv

            hold_for_argv(sys.argv, _config_says_onboarded)
    from cargo_shell.commands.context import Context
    from cargo_shell.environment import Environment
    from cargo_shell.errors import CargoShellError, ExitStatus
    from cargo_shell.render.output import write_error

    env = env or Environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx = Context(env, transport=transport)
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


def use_command_line(ctx: Context) -> None:
    """The command line's hooks: a y/n/e/a question when stdin is a terminal, progress on stderr."""
    from cargo_shell.commands.confirm import stdin_confirmer
    from cargo_shell.render.progress import CliEvents

    ctx.use_front_end(
        "cli", confirmer=lambda: stdin_confirmer(ctx), events=CliEvents(ctx.env.stderr, no_color=ctx.env.no_color)
    )


def dispatch(ctx: Context, argv: list[str]) -> int:
    from cargo_shell.commands.options import split_leading

    opts, rest = split_leading(argv)
    ctx.apply_globals(opts)
    use_command_line(ctx)
    if opts.get("version"):
        from cargo_shell import __version__

        ctx.env.stdout.write(f"cargo-shell {__version__}\n")
        return 0
    if "prompt" in opts:
        from cargo_shell.repl.oneshot import prompt_command

        with _as_interrupt():
            return prompt_command(ctx, rest)
    if not rest:
        if opts.get("help"):
            from cargo_shell.commands.help import root_help

            ctx.env.stdout.write(root_help(ctx.registry.view("cli")))
            return 0
        from cargo_shell.shell_entry import open_shell

        return open_shell(ctx, [])
    from cargo_shell.commands.resolve import HelpText, resolve

    resolved = resolve(ctx.registry.view("cli"), rest, ctx.env.stdin)
    if isinstance(resolved, HelpText):
        if resolved.needs is not None:
            ctx.env.stderr.write(resolved.text)
            raise resolved.needs
        ctx.env.stdout.write(resolved.text)
        return 0
    ctx.apply_globals(resolved.options)
    if resolved.spec.output == "stream" and not resolved.spec.follows_jobs:
        return run(ctx, resolved)  # a program of its own (a server, onboarding): its signals are its own
    with _as_interrupt():  # SIGTERM/SIGHUP like Ctrl-C: a stopped process still reports the job it leaves
        return run(ctx, resolved)


def run(ctx: Context, inv: Invocation) -> int:
    """Execute and render: the result's data on stdout (JSON, or a table with ``--output table``)."""
    import contextlib

    from cargo_shell.commands.execute import execute
    from cargo_shell.render.output import write_result

    output_file = str(inv.options.get("output_file") or "-")
    if inv.spec.download:
        to_file = output_file != "-"
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(open(output_file, "wb")) if to_file else ctx.env.binary_stdout()
            result = execute(ctx, inv, download_to=sink)
        if to_file:
            write_result(ctx.env, {**result.data, "path": output_file})
        return result.status
    result = execute(ctx, inv)
    if result.text is not None:
        ctx.env.stdout.write(result.text)
    elif not result.streamed:
        write_result(ctx.env, result.data, output=ctx.output_format(), key=result.key)
    return result.status


def _as_interrupt() -> Any:
    from cargo_shell.signals import termination_as_interrupt

    return termination_as_interrupt()


def internal_error(ctx: Context, exc: Exception) -> dict[str, Any]:
    """The crash log's error body for this invocation (``--debug`` prints the traceback instead)."""
    from cargo_shell.crash_log import internal_error as crash_body

    return crash_body(ctx.env, exc, debug=ctx.debug)


def _interrupted(env: Environment, exc: KeyboardInterrupt) -> int:
    """Ctrl-C (130), SIGTERM/SIGHUP (128 + N), or either after a job was accepted (5, naming the job)."""
    from cargo_shell.errors import interrupt_report
    from cargo_shell.render.output import write_error

    body, status = interrupt_report(exc)
    write_error(env, body)
    if body.get("hint"):
        env.warn(f"hint: {body['hint']}")
    return status
