"""Direct commands typed in the shell: `storage model list --output table`, `!whoami`, `jobs`."""

from __future__ import annotations

import io
import shlex
from typing import TYPE_CHECKING

from cargo_shell.errors import UsageError

if TYPE_CHECKING:
    from cargo_shell.repl.app import Repl


def _wants_json(argv: list[str]) -> bool:
    return any(
        a == "--output=json" or (a == "--output" and argv[i + 1 : i + 2] == ["json"]) for i, a in enumerate(argv)
    )


def run_local(repl: Repl, argv: list[str]) -> None:
    """cargo-shell's own commands through the CLI's dispatcher; their JSON shown as tables."""
    from cargo_shell import cli
    from cargo_shell.environment import Environment
    from cargo_shell.repl.render.results import show_result

    env = repl.ctx.env
    out = io.StringIO()
    sub = Environment(env.stdin, out, env.stderr, env.environ, stdin_isatty=False, stdout_isatty=False)
    original, repl.ctx.env = repl.ctx.env, sub
    try:
        cli.dispatch(repl.ctx, argv)
    finally:
        repl.ctx.env = original
    text = out.getvalue()
    import json

    try:
        show_result(repl.console, json.loads(text), output="json" if _wants_json(argv) else "table")
    except ValueError:
        repl.console.print(text, end="", markup=False, highlight=False)


def run_direct(repl: Repl, argv: list[str]) -> None:
    from cargo_shell import cli, cli_help
    from cargo_shell.cli_args import parse_command_args
    from cargo_shell.repl.render.results import show_result

    if not argv:
        raise UsageError("Type a command after !, e.g. !storage model list")
    registry = repl.registry
    if argv[0] in cli.LOCAL_COMMANDS and argv[0] not in registry:
        run_local(repl, argv)
        return
    spec, used = registry.match(argv)
    if spec is None:
        words = [w for w in argv if not w.startswith("-")]
        prefix = tuple(words[:2])
        while prefix and not registry.children(prefix):
            prefix = prefix[:-1]
        if prefix and tuple(words) == prefix:
            repl.console.print(cli_help.group_help(registry, prefix), markup=False, highlight=False)
            return
        raise cli._unknown(repl.ctx, words)
    if spec.local is not None:
        run_local(repl, argv)
        return
    raw, opts = parse_command_args(spec, argv[used:], repl.ctx.env.stdin)
    if opts.get("help"):
        repl.console.print(cli_help.command_help(spec), markup=False, highlight=False)
        return
    from cargo_shell.render.summary import file_sources

    executor = repl.executor()
    assume_yes = bool(opts.get("yes")) and not executor.policy.assume_yes
    executor.policy.assume_yes = executor.policy.assume_yes or assume_yes
    repl.sources, repl.typed = file_sources(argv[used:]), shlex.join(argv)
    try:
        outcome = executor.run(spec, raw, wait=True if spec.job is not None else None)
    finally:
        if assume_yes:
            executor.policy.assume_yes = False
        repl.progress.stop()
        sources, repl.sources, repl.typed = repl.sources, {}, None
    repl.transcript.record(outcome, sources)  # its notices were already shown as executor events
    output = opts.get("output") or "table"
    show_result(repl.console, outcome.data, key=spec.response_key, output=output)
