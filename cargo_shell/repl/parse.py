"""Classify one line of shell input: a slash command, a direct command, or natural language."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cargo_shell.registry import Registry

Kind = Literal["empty", "slash", "direct", "natural"]


@dataclass
class ParsedInput:
    kind: Kind
    text: str
    argv: list[str] = field(default_factory=list)
    error: str | None = None
    #: The line with its command words corrected, when they are a command with a typo in them.
    suggestion: str | None = None

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
    """A command's words (or a group's), alone or followed by flags, a next word, or the arguments
    of a command that takes positional ones: "storage model list", "jobs --limit 5", "log".
    "storage is nearly full, why?" and "log in to my workspace" are questions."""
    first = words[0]
    if first not in registry.children(()):
        return False
    if len(words) == 1 or words[1].startswith("-"):
        return True
    command = registry.get_or_none(first)
    return words[1] in registry.children((first,)) or (command is not None and bool(command.positionals))


def _close(typed: str, word: str) -> bool:
    """A typo of ``word``: two letters swapped, or most letters in order (difflib ratio ≥ 0.75)."""
    if typed == word or len(word) < 3:
        return False
    import difflib

    swapped = len(typed) == len(word) and [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
    if swapped and len(swapped) == 2 and swapped[1] == swapped[0] + 1 and typed[swapped[0]] == word[swapped[1]]:
        return True
    return difflib.SequenceMatcher(None, typed, word).ratio() >= 0.75


def _command_paths(registry: Registry) -> list[tuple[str, ...]]:
    """Every command and command group (``storage``, ``storage model``, ``storage model list``)."""
    paths = {s.words[:n] for s in registry for n in range(1, len(s.words) + 1)}
    return sorted(paths, key=lambda p: (-len(p), p))


def near_command(words: list[str], registry: Registry) -> list[str] | None:
    """The command words meant, when the first words are a command with typos in them.

    Each word must be the command's word or a typo of it, at least one a typo. A group
    (``storage modle``) or a one-word command (``whoamii``) counts only when nothing but flags
    follows, so a question that starts like a command still goes to the model.
    """
    for path in _command_paths(registry):
        n = len(path)
        typed = words[:n]
        if len(typed) < n or typed == list(path):
            continue
        if not all(a == b or _close(a, b) for a, b in zip(typed, path, strict=True)):
            continue
        is_command = " ".join(path) in registry
        rest = words[n:]
        if (is_command and n > 1) or not rest or rest[0].startswith("-"):
            return [*path, *rest]
    return None


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
        typo = registry.match(words)[0] is None
        meant = near_command(words, registry) if typo and not error else None
        return ParsedInput("direct", stripped, words, error, suggestion=shlex.join(meant) if meant else None)
    meant = near_command(words, registry) if words and not error else None
    if meant is not None:
        return ParsedInput("direct", stripped, words, error, suggestion=shlex.join(meant))
    return ParsedInput("natural", stripped)
