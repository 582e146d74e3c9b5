"""The words after a command → its raw arguments (for validation) and the global options given there.

The same for the Cargo API's commands and cargo-shell's own: the parser is built from the
registry entry. JSON-valued flags accept inline JSON, ``@file.json`` or ``-`` (stdin); list flags
accept ``a,b,c``, a JSON array, or the flag repeated.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, Any, NoReturn

from cargo_shell.commands.options import after_command, take_yes
from cargo_shell.errors import UsageError
from cargo_shell.registry.spec import ArgSpec, CommandSpec
from cargo_shell.validation import MAX_JSON_DEPTH, json_depth_exceeds


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.")


def add_global_options(parser: argparse.ArgumentParser, spec: CommandSpec, skip: set[str]) -> None:
    """The global options accepted after ``spec``'s words (``--yes`` is taken out beforehand)."""
    for opt in after_command(download=spec.download):
        if opt.flag in skip or opt.name == "yes":
            continue
        if opt.value is None:
            parser.add_argument(opt.flag, dest="g_" + opt.key, action="store_true", default=False)
        else:
            parser.add_argument(opt.flag, dest="g_" + opt.key, default=None)


def command_parser(spec: CommandSpec) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"cargo-shell {spec.name}", add_help=False, allow_abbrev=False)
    parser.add_argument("-h", "--help", action="store_true", dest="g_help")
    own: set[str] = set()
    for arg in spec.args:
        if arg.positional:
            # optional for argparse so that --help works and validation names every missing value
            parser.add_argument(arg.attr, metavar=arg.name.upper(), nargs="?")
            continue
        own.update(arg.spellings)
        if arg.type == "bool":
            parser.add_argument(*arg.spellings, dest=arg.attr, nargs="?", const="true", default=None)
        elif arg.type == "list":
            parser.add_argument(*arg.spellings, dest=arg.attr, action="append", default=None)
        else:
            parser.add_argument(*arg.spellings, dest=arg.attr, default=None)
    add_global_options(parser, spec, skip=own)
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
        if not arg.split:
            out.append(v)
        elif stripped.startswith("[") or stripped.startswith("@") or stripped == "-":
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
