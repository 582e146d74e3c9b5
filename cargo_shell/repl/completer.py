"""Completion: slash commands, command words and flags from the registry, resource names/UUIDs."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

if TYPE_CHECKING:
    from cargo_shell.registry import Registry
    from cargo_shell.repl.resources import Snapshot


def _words(text: str) -> tuple[list[str], str]:
    """Complete words before the cursor, and the partial word being typed."""
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.split()
    if text and not text[-1].isspace() and parts:
        return parts[:-1], parts[-1]
    return parts, ""


class OnTabCompleter(Completer):
    """Stands in while the real completer is built in the background: completes only on Tab
    (building it then), so typing never waits for the registry to load."""

    def __init__(self, build: Callable[[], Completer]) -> None:
        self._build = build

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        if complete_event.completion_requested:
            yield from self._build().get_completions(document, complete_event)


class ShellCompleter(Completer):
    """Immutable: the shell builds a new one when the resource snapshot changes."""

    def __init__(self, registry: Registry, slash: dict[str, str], snapshot: Snapshot | None = None) -> None:
        self.registry = registry
        self.slash = slash
        self.snapshot = snapshot
        self.domains = registry.children(())

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if "\n" in text:
            return
        if text.startswith("/"):
            yield from self._slash(text[1:])
            return
        if text.startswith("!"):
            text = text[1:].lstrip()
        done, partial = _words(text)
        if not done:
            for word in self.domains:
                if word.startswith(partial) and partial:
                    yield Completion(word, -len(partial), display_meta=self._meta((word,)))
            return
        if done[0] not in self.domains:
            return  # natural language
        yield from self._command(done, partial)

    def _meta(self, words: tuple[str, ...]) -> str:
        name = " ".join(words)
        if name in self.registry:
            return self.registry.get(name).summary[:60]
        group = self.registry.groups.get(words)
        if group is not None and group.summary:
            return group.summary[:60]
        return ", ".join(self.registry.children(words))[:60]

    def _slash(self, text: str) -> Iterable[Completion]:
        if " " in text:
            return
        for name, help_text in self.slash.items():
            if name.startswith(text):
                yield Completion("/" + name, -len(text) - 1, display_meta=help_text)

    def _plain(self, options: Iterable[str], partial: str) -> Iterable[Completion]:
        for option in options:
            if option.startswith(partial):
                yield Completion(option, -len(partial))

    def _command(self, done: list[str], partial: str) -> Iterable[Completion]:
        words = [w for w in done if not w.startswith("-")]
        spec, used = self.registry.match(words)
        group = self.registry.groups.get(tuple(words))
        if spec is None and group is not None and group.default and (partial.startswith("-") or len(done) > len(words)):
            spec = self.registry.get(" ".join((*words, group.default)))  # `jobs --limit 5` is `jobs list ...`
            words = list(spec.words)
        elif spec is None or used < len(spec.words) or len(words) < len(spec.words):
            prefix = tuple(words[:3])
            for child in self.registry.children(prefix):
                if child.startswith(partial):
                    yield Completion(child, -len(partial), display_meta=self._meta((*prefix, child)))
            return
        from cargo_shell.commands.options import after_command

        own = {a.flag: a for a in spec.options}
        globals_ = {o.flag: o for o in after_command(download=spec.download) if o.flag not in own}
        previous = done[-1] if done else ""
        takes_value = (previous in own and own[previous].type != "bool") or (
            previous in globals_ and globals_[previous].value is not None
        )
        if takes_value and not partial.startswith("-"):
            yield from self._values(spec.words, previous[2:], partial)
            return
        typed = set(done)
        positionals = [a for a in spec.positionals if a.required]
        if positionals and len(words) == len(spec.words) and not partial.startswith("-"):
            yield from self._values(spec.words, positionals[0].name, partial)
        flags = [(a.flag, a.help or a.type) for a in own.values()]
        flags += [(o.flag, o.help) for o in globals_.values()]
        if partial.startswith("-") or (not partial and not positionals) or len(words) > len(spec.words):
            for flag, help_text in flags:
                if flag.startswith(partial) and flag not in typed:
                    yield Completion(flag, -len(partial), display_meta=help_text[:60])

    def _values(self, words: tuple[str, ...], flag: str, partial: str) -> Iterable[Completion]:
        spec = self.registry.get(" ".join(words))
        try:
            arg = spec.arg(flag)
        except KeyError:
            from cargo_shell.commands.options import global_options

            yield from self._plain(next((o.values for o in global_options() if o.name == flag), ()), partial)
            return
        if arg.choices:
            yield from self._plain(arg.choices, partial)
            return
        if self.snapshot is None:
            return
        low = partial.lower()
        for res in self.snapshot.for_arg(arg):
            if res.uuid.startswith(partial) or (low and low in res.name.lower()) or not partial:
                kind = res.kind.replace("_", " ")
                what = kind if res.label == res.kind else f"{res.label.replace('_', ' ')} {kind}"  # "tool workflow"
                yield Completion(res.uuid, -len(partial), display=res.name or res.uuid, display_meta=what)
