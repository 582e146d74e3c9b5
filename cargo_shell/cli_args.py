"""Command-line arguments of one registry command → a raw dict for validation.

JSON-valued flags accept inline JSON, ``@file.json`` or ``-`` (stdin); list flags accept
``a,b,c``, a JSON array, or the flag repeated.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, Any, NoReturn

from cargo_shell.errors import UsageError
from cargo_shell.registry.spec import ArgSpec, CommandSpec
from cargo_shell.validation import MAX_JSON_DEPTH, json_depth_exceeds

GLOBAL_FLAGS: dict[str, str] = {
    "--base-url": "API base URL (env CARGO_API_URL; default https://api.getcargo.io)",
    "--token": "API token (env CARGO_API_TOKEN); prefer `cargo-shell login`",
    "--workspace-uuid": "workspace to act in (env CARGO_WORKSPACE_UUID)",
    "--profile": "named profile from the config file (env CARGO_SHELL_PROFILE)",
    "--output": "json (default) or table (a rich table on a terminal; JSON when piped)",
}
GLOBAL_SWITCHES: dict[str, str] = {
    "--yes": "approve actions that would ask; for the assistant's proposals writes and credit spending only "
    "(--yes=destructive: also what it proposes to delete or cancel)",
    "--debug": "show tracebacks for unexpected errors",
    "--strict": "exit 4 when a batch ends success with failed runs (partial failure)",
}


#: ``--yes`` takes one optional scope: ``--yes=destructive``.
YES_SCOPES = ("destructive",)


def yes_scope(inline: str) -> bool | str:
    """The value of ``--yes`` (``True``) or ``--yes=<scope>`` (the scope); a typo is a usage error."""
    if not inline:
        return True
    if inline in YES_SCOPES:
        return inline
    raise UsageError(
        f"--yes={inline}: unknown scope",
        hint="Use --yes (writes and credit spending the assistant proposes; everything you type) or --yes=destructive.",
    )


def take_yes(argv: list[str]) -> tuple[list[str], bool | str]:
    """Pull ``--yes`` / ``--yes=<scope>`` out of ``argv``: (the other words, False, True or the scope)."""
    rest: list[str] = []
    value: bool | str = False
    for word in argv:
        name, sep, inline = word.partition("=")
        if name == "--yes":
            scope = yes_scope(inline if sep else "")
            value = scope if value in (False, True) else value  # a scope given once stays
        else:
            rest.append(word)
    return rest, value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.")


def add_global_options(parser: argparse.ArgumentParser, skip: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    for flag in GLOBAL_FLAGS:
        if flag not in skip:
            parser.add_argument(flag, dest="g_" + flag[2:].replace("-", "_"), default=None)
    for flag in GLOBAL_SWITCHES:
        parser.add_argument(flag, dest="g_" + flag[2:], action="store_true", default=False)


def command_parser(spec: CommandSpec) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"cargo-shell {spec.name}", add_help=False, allow_abbrev=False)
    parser.add_argument("-h", "--help", action="store_true", dest="g_help")
    own = set()
    for arg in spec.args:
        if arg.positional:
            # optional for argparse so that --help works and validation names every missing value
            parser.add_argument(arg.attr, metavar=arg.name.upper(), nargs="?")
            continue
        own.add(arg.flag)
        if arg.type == "bool":
            parser.add_argument(arg.flag, dest=arg.attr, nargs="?", const="true", default=None)
        elif arg.type == "list":
            parser.add_argument(arg.flag, dest=arg.attr, action="append", default=None)
        else:
            parser.add_argument(arg.flag, dest=arg.attr, default=None)
    if spec.download:
        parser.add_argument("--output-file", dest="g_output_file", default=None)
    add_global_options(parser, skip=own)
    return parser


def read_json_value(flag: str, text: str, stdin: IO[str]) -> Any:
    source = "inline JSON"
    if text == "-":
        text, source = stdin.read(), "stdin"
    elif text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"{flag}: {path} is not UTF-8 text (byte {exc.start}); JSON files must be UTF-8") from None
        source = str(path)
    try:
        value = json.loads(text)
    except RecursionError:
        raise UsageError(f"{flag}: the JSON ({source}) nests more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        snippet = text[max(0, exc.pos - 20) : exc.pos + 20].replace("\n", " ")
        raise UsageError(
            f"{flag}: invalid JSON in {source} at line {exc.lineno} column {exc.colno} "
            f"(character {exc.pos}): {exc.msg}; near: {snippet!r}",
            hint='Quote the JSON for your shell, e.g. --data \'{"kind": "records"}\', or use @file.json.',
        ) from None
    if json_depth_exceeds(value):
        raise UsageError(f"{flag}: the JSON ({source}) nests more than {MAX_JSON_DEPTH} levels deep")
    return value


def _list_value(arg: ArgSpec, values: list[str], stdin: IO[str]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        stripped = v.strip()
        if stripped.startswith("[") or stripped.startswith("@") or stripped == "-":
            parsed = read_json_value(arg.flag, stripped, stdin)
            if not isinstance(parsed, list):
                raise UsageError(f"{arg.flag}: expected a JSON array or comma-separated values")
            out.extend(parsed)
        else:
            out.extend(p.strip() for p in stripped.split(",") if p.strip())
    return out


def _bool_value(arg: ArgSpec, value: str) -> bool:
    low = value.lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    raise UsageError(f"{arg.flag}: expected true or false, got {value!r}")


def raw_params(spec: CommandSpec, ns: argparse.Namespace, stdin: IO[str]) -> dict[str, Any]:
    """Namespace → {flag name: value} with JSON, list and bool flags decoded."""
    raw: dict[str, Any] = {}
    for arg in spec.args:
        value = getattr(ns, arg.attr, None)
        if value is None:
            continue
        if arg.type == "json":
            value = read_json_value(arg.flag, value, stdin)
        elif arg.type == "list":
            value = _list_value(arg, value, stdin)
        elif arg.type == "bool":
            value = _bool_value(arg, value)
        raw[arg.name] = value
    return raw


def parse_command_args(spec: CommandSpec, argv: list[str], stdin: IO[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (raw params, global options) for ``argv`` (the words after the command)."""
    if "-h" in argv or "--help" in argv:
        return {}, {"help": True}
    argv, yes = take_yes(argv)
    ns = command_parser(spec).parse_args(argv)
    globals_ = {k[2:]: v for k, v in vars(ns).items() if k.startswith("g_")}
    globals_["yes"] = yes
    if globals_.get("help"):
        return {}, globals_
    return raw_params(spec, ns, stdin), globals_
