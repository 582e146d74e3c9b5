"""Classify one line of shell input: a slash command, a direct command, or natural language."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cargo_shell.registry import Registry

Kind = Literal["empty", "slash", "direct", "natural"]

#: cargo-shell's own command words that also work inside the shell, with the words that may follow.
LOCAL_WORDS: dict[str, tuple[str, ...]] = {
    "login": (),
    "logout": (),
    "config": ("show",),
    "jobs": ("list", "wait", "cancel"),
    "log": ("--limit", "--effect"),
    "policy": ("list", "allow", "deny", "remove"),
    "sandbox": ("info", "reset"),
}


@dataclass
class ParsedInput:
    kind: Kind
    text: str
    argv: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def command(self) -> str:
        return self.argv[0] if self.argv else ""


def split_words(text: str) -> tuple[list[str], str | None]:
    """Shell-style split; an unbalanced quote is reported rather than raised."""
    try:
        return shlex.split(text), None
    except ValueError as exc:
        return text.split(), f"cannot parse the command line: {exc}"


def _looks_direct(words: list[str], registry: Registry) -> bool:
    first = words[0]
    if first in LOCAL_WORDS:
        return len(words) == 1 or words[1].startswith("-") or words[1] in LOCAL_WORDS[first]
    if first not in registry.children(()):
        return False
    if len(words) == 1 or words[1].startswith("-"):
        return True
    # "storage model list" is a command; "storage is nearly full, why?" is a question.
    return words[1] in registry.children((first,)) or first in registry


def parse_line(text: str, registry: Registry) -> ParsedInput:
    stripped = text.strip()
    if not stripped:
        return ParsedInput("empty", text)
    if stripped.startswith("/"):
        words, error = split_words(stripped[1:])
        return ParsedInput("slash", stripped, words, error)
    if stripped.startswith("!"):
        words, error = split_words(stripped[1:].strip())
        if words and words[0] == "cargo-shell":
            words = words[1:]
        return ParsedInput("direct", stripped, words, error)
    body = stripped[len("cargo-shell ") :] if stripped.startswith("cargo-shell ") else stripped
    words, error = split_words(body)
    if words and _looks_direct(words, registry):
        return ParsedInput("direct", stripped, words, error)
    return ParsedInput("natural", stripped)
