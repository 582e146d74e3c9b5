"""cargo-shell's global options, declared once in ``registry/options.json``.

The table feeds the argument parser (before the command words and, for the options marked
``after``, after them too), the help and both completions. An option that takes a value names
it (``value``: the word help shows); the others are switches (``--yes`` also takes a scope:
``--yes=destructive``). A command's own argument of the same name wins over a global option.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cargo_shell.constants import DEFAULT_BASE_URL
from cargo_shell.errors import UsageError


@dataclass(frozen=True)
class GlobalOption:
    name: str
    help: str
    #: The word help shows for the value; None for a switch.
    value: str | None = None
    short: str | None = None
    #: Also accepted after the command words.
    after: bool = False
    #: Values offered by completion.
    values: tuple[str, ...] = ()
    #: For ``--yes``: the scopes ``--yes=<scope>`` takes.
    scopes: tuple[str, ...] = ()
    #: Only for commands of this kind (``download``).
    only: str | None = None
    #: Given alone, it still opens the shell (the early prompt is painted for it).
    bare_shell: bool = False
    #: A whole command line using it, shown when its value is missing.
    example: str | None = None

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def key(self) -> str:
        """The key of its value in the context's globals (``base_url``)."""
        return self.name.replace("-", "_")

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.flag, self.short) if self.short else (self.flag,)


@cache
def global_options() -> tuple[GlobalOption, ...]:
    text = (resources.files("cargo_shell.registry") / "options.json").read_text(encoding="utf-8")
    out = []
    for raw in json.loads(text)["options"]:
        out.append(
            GlobalOption(
                name=raw["name"],
                help=raw["help"].format(default_base_url=DEFAULT_BASE_URL),
                value=raw.get("value"),
                short=raw.get("short"),
                after=bool(raw.get("after", False)),
                values=tuple(raw.get("values", ())),
                scopes=tuple(raw.get("scopes", ())),
                only=raw.get("only"),
                bare_shell=bool(raw.get("bare_shell", False)),
                example=raw.get("example"),
            )
        )
    return tuple(out)


def option(name: str) -> GlobalOption:
    return next(o for o in global_options() if o.name == name)


def _by_spelling() -> dict[str, GlobalOption]:
    return {spelling: o for o in global_options() for spelling in o.spellings}


def after_command(*, download: bool) -> list[GlobalOption]:
    """The global options a command accepts after its words."""
    return [o for o in global_options() if o.after and o.name != "help" and (o.only is None or download)]


def yes_scope(inline: str, *, given: bool = True) -> bool | str:
    """The value of ``--yes`` (``True``) or ``--yes=<scope>`` (the scope); a typo is a usage error."""
    if not given or not inline:
        return True
    if inline in option("yes").scopes:
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
            scope = yes_scope(inline, given=bool(sep))
            value = scope if value in (False, True) else value  # a scope given once stays
        else:
            rest.append(word)
    return rest, value


def split_leading(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The global options given before the command words, and the words from the first other one on."""
    known = _by_spelling()
    opts: dict[str, Any] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name, sep, inline = argv[i].partition("=")
        opt = known.get(name)
        if opt is None or opt.only is not None:
            break
        if opt.name == "yes":
            opts["yes"] = yes_scope(inline, given=bool(sep))
        elif opt.value is None:
            opts[opt.key] = True
        elif sep and inline:
            opts[opt.key] = inline
        elif i + 1 < len(argv):
            i += 1
            opts[opt.key] = argv[i]
        else:
            example = f" e.g. {opt.example}" if opt.example else ""
            raise UsageError(f"{name} needs a value", hint=f"Give {opt.value} after {name}.{example}")
        i += 1
    return opts, argv[i:]
