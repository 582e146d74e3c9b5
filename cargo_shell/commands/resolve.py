"""Words → what to run: a command with its raw arguments, a help text, or a usage error.

The same for every front end and for the Cargo API's commands and cargo-shell's own: the
command line resolves ``argv`` after its leading global options, the shell a typed line
(against the shell's view of the registry, so a command it does not offer is unknown there).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import IO, Any

from cargo_shell.errors import UsageError
from cargo_shell.registry import CommandSpec, Registry

_HELP = ("-h", "--help")


@dataclass
class Invocation:
    """A command to run: ``raw`` are its arguments by flag name (not validated yet), ``options``
    the global options given after its words, ``argv`` those words after the command's."""

    spec: CommandSpec
    raw: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)


@dataclass
class HelpText:
    """Help to show. ``needs`` is set when a group was typed without what follows it: the help then
    goes to stderr with that usage error; otherwise it was asked for (stdout, exit 0)."""

    text: str
    needs: UsageError | None = None


def resolve(registry: Registry, argv: list[str], stdin: IO[str]) -> Invocation | HelpText:
    """Resolve ``argv`` (command words first); raises :class:`UsageError` for an unknown command
    (with "Did you mean ...") or bad arguments."""
    from cargo_shell.commands import help as cli_help
    from cargo_shell.commands.args import parse_command_args

    argv = _with_default_verb(registry, argv)
    spec, used = registry.match(argv)
    if spec is None:
        words = [w for w in argv if not w.startswith("-")]
        prefix = tuple(w for w in argv[:3] if not w.startswith("-"))
        while prefix and not registry.children(prefix):
            prefix = prefix[:-1]
        wants_help = any(a in _HELP for a in argv)
        if prefix and (wants_help or tuple(words) == prefix):
            text = cli_help.group_help(registry, prefix)
            if wants_help:
                return HelpText(text)
            needs = UsageError(
                f"`{' '.join(prefix)}` needs a {cli_help.next_word(registry, prefix)}: "
                f"one of {', '.join(registry.children(prefix))}",
                hint=f"See `cargo-shell {' '.join(prefix)} --help`.",
            )
            return HelpText(text, needs)
        if not words and wants_help:
            return HelpText(cli_help.root_help(registry))
        raise unknown_command(registry, words)
    rest = argv[used:]
    raw, options = parse_command_args(spec, rest, stdin)
    if options.get("help"):
        return HelpText(cli_help.command_help(spec))
    return Invocation(spec, raw, {k: v for k, v in options.items() if v not in (None, False)}, rest)


def _with_default_verb(registry: Registry, argv: list[str]) -> list[str]:
    """``jobs`` and ``jobs --limit 5`` are ``jobs list ...``: a group with a default verb, followed by
    nothing or by options, runs that verb."""
    for n in (2, 1):
        group = registry.groups.get(tuple(argv[:n]))
        if group is None or group.default is None or len(argv) < n:
            continue
        rest = argv[n:]
        if not rest or (rest[0].startswith("-") and rest[0] not in _HELP):
            return [*argv[:n], group.default, *rest]
    return argv


def unknown_command(registry: Registry, words: list[str]) -> UsageError:
    """``storage modle list``: which word is not known, and what it could have been."""
    known: list[str] = []
    depth = 0
    for depth in range(len(words)):
        options = registry.children(tuple(words[:depth]))
        if words[depth] not in options:
            known = options
            break
    bad = words[depth] if words else ""
    close = difflib.get_close_matches(bad, known, n=3)
    typed = " ".join(words[: depth + 1])
    hint = f"Did you mean {', '.join(close)}?" if close else f"Choose one of: {', '.join(known)}"
    return UsageError(f"Unknown command `{typed}`. {hint}", hint="Run `cargo-shell --help` to see every domain.")
