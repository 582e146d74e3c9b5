"""The command registry: every Cargo command as data, loaded once from ``commands/*.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargo_shell.registry.spec import ArgSpec, CommandSpec, GroupSpec
from cargo_shell.registry.spec_load import group_from_dict, spec_from_dict

if TYPE_CHECKING:
    from cargo_shell.registry.jobs import JobKind
    from cargo_shell.registry.resources import ResourceKind

__all__ = ["DATA_DIR", "ArgSpec", "CommandSpec", "GroupSpec", "Registry", "get_registry"]

#: Where the registry's data lives (shipped inside the package; read as plain files, which spares
#: every command line the import of ``importlib.resources``).
DATA_DIR = Path(__file__).parent

#: The seven skills the LLM sees as tools; the catalogue's ``skill`` field decides membership.
SKILLS = ("orchestration", "storage", "connection", "ai", "analytics", "billing", "workspace")


class Registry:
    """Every command (the Cargo API's and cargo-shell's own) and the groups that have a summary or a
    default verb. ``view(front_end)`` is the part a front end offers."""

    def __init__(self, specs: list[CommandSpec], groups: list[GroupSpec] | None = None) -> None:
        self._by_name = {s.name: s for s in specs}
        if len(self._by_name) != len(specs):
            raise ValueError("duplicate command names in the registry")
        self.groups = {g.words: g for g in groups or ()}
        for group in self.groups.values():
            if group.default is not None and " ".join((*group.words, group.default)) not in self._by_name:
                raise ValueError(f"group {' '.join(group.words)!r}: default verb {group.default!r} is no command")
        self._views: dict[str, Registry] = {}

    def view(self, front_end: str) -> Registry:
        """The commands offered in ``front_end`` (``cli`` or ``shell``)."""
        if front_end not in self._views:
            offered = [s for s in self if front_end in s.offered_in]
            self._views[front_end] = Registry(offered, [g for g in self.groups.values() if _has(offered, g)])
        return self._views[front_end]

    @property
    def api(self) -> list[CommandSpec]:
        """The commands sent to the Cargo API."""
        return [s for s in self if s.http is not None]

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> CommandSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown command {name!r}") from None

    def get_or_none(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name)

    def match(self, words: list[str]) -> tuple[CommandSpec | None, int]:
        """Longest command whose words prefix ``words``; returns (spec, words consumed)."""
        for n in (3, 2, 1):
            spec = self._by_name.get(" ".join(words[:n]))
            if spec is not None and len(words) >= n:
                return spec, n
        return None, 0

    def children(self, prefix: tuple[str, ...]) -> list[str]:
        """Next command words after ``prefix`` (for help and completion)."""
        out: dict[str, None] = {}
        for s in self:
            if s.words[: len(prefix)] == prefix and len(s.words) > len(prefix):
                out[s.words[len(prefix)]] = None
        return sorted(out)

    def by_skill(self, skill: str) -> list[CommandSpec]:
        return [s for s in self if s.skill == skill]

    @cached_property
    def kinds(self) -> dict[str, ResourceKind]:
        """Resource kinds (``resources.json``): what UUID arguments name and which commands list them."""
        from cargo_shell.registry.resources import kinds_from_dict

        text = (DATA_DIR / "resources.json").read_text(encoding="utf-8")
        return kinds_from_dict(json.loads(text))

    @cached_property
    def job_kinds(self) -> dict[str, JobKind]:
        """Job kinds (``jobs.json``): how the work a command starts is polled, listed and cancelled."""
        from cargo_shell.registry.jobs import kinds_from_dict

        text = (DATA_DIR / "jobs.json").read_text(encoding="utf-8")
        return kinds_from_dict(json.loads(text))

    def job_kind(self, name: str) -> JobKind:
        try:
            return self.job_kinds[name]
        except KeyError:
            raise KeyError(f"unknown job kind {name!r}") from None


@cache
def get_registry() -> Registry:
    entries: list[dict[str, Any]] = []
    groups: list[GroupSpec] = []
    folder = DATA_DIR / "commands"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            entries += data["commands"]
            groups += [group_from_dict(raw) for raw in data.get("groups", ())]
    by_name = {raw["command"]: raw for raw in entries}
    for raw in entries:  # "args_like": the same arguments as another command, written once
        if "args_like" in raw:
            raw["args"] = by_name[raw.pop("args_like")]["args"]
    return Registry([spec_from_dict(raw) for raw in entries], groups)


def _has(specs: list[CommandSpec], group: GroupSpec) -> bool:
    return any(s.words[: len(group.words)] == group.words for s in specs)
