"""Cheap workspace lookups for plans and guards: names for UUIDs, plays vs tools, models, DDL.

Each list is fetched at most once per executor (per session in the REPL) through the
executor's read path, and a failed lookup never blocks an action: the plan then shows the
bare UUID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError
from cargo_shell.registry.resources import KindList, Resource, resources_in

if TYPE_CHECKING:
    from cargo_shell.registry import Registry

ReadFn = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class WrongKind:
    """A UUID given for one kind that is known as something else (a tool's uuid as a workflow uuid)."""

    expected: str
    uuid: str
    found: Resource
    #: The field of the found object that holds the expected kind's UUID, and its value, when it has one.
    field: str | None = None
    value: str | None = None

    def describe(self, flag: str) -> str:
        name = f" ({self.found.name!r})" if self.found.name else ""
        text = f"{flag} {self.uuid} is a {self.found.label} uuid{name}, not a {self.expected.replace('_', ' ')} uuid"
        return f"{text}; its {self.field} is {self.value}" if self.value else text


class Lookups:
    def __init__(self, read: ReadFn, registry: Registry | None = None) -> None:
        self._read = read
        self._registry = registry
        self._cache: dict[tuple[str, str], Any] = {}
        #: Number of API reads made (benchmarks and tests look at it).
        self.reads = 0

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from cargo_shell.registry import get_registry

            self._registry = get_registry()
        return self._registry

    def fetch(self, command: str, args: dict[str, Any] | None = None) -> Any:
        key = (command, repr(sorted((args or {}).items())))
        if key not in self._cache:
            try:
                self.reads += 1
                self._cache[key] = self._read(command, args or {})
            except CargoShellError:
                self._cache[key] = None
        return self._cache[key]

    def read_fresh(self, command: str, args: dict[str, Any]) -> Any:
        """An uncached read (counted in ``reads``); errors are raised, not swallowed."""
        self.reads += 1
        return self._read(command, args)

    def listed(self, command: str) -> list[Any]:
        """The objects a list command returns (under its response key); [] when the read failed."""
        data = self.fetch(command)
        key = self.registry.get(command).response_key
        items = data.get(key) if isinstance(data, dict) and key else None
        return items if isinstance(items, list) else []

    def resources(self, kind: str) -> list[Resource]:
        """Every listed resource of ``kind`` (empty for kinds listed only under a parent)."""
        known = self.registry.kinds.get(kind)
        if known is None:
            return []
        out: list[Resource] = []
        for source in known.lists:
            out += resources_in(known, source, self.listed(source.command))
        return out

    def find(self, kind: str, uuid: str) -> Resource | None:
        for res in self.resources(kind):
            if res.uuid == uuid:
                return res
        return None

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [dict(r.item) for r in self.resources(kind)]

    def by_uuid(self, kind: str, uuid: str) -> dict[str, Any] | None:
        found = self.find(kind, uuid)
        return dict(found.item) if found else None

    def name(self, kind: str, uuid: str) -> str | None:
        found = self.find(kind, uuid)
        return found.name or None if found else None

    def workflow(self, workflow_uuid: str) -> tuple[str | None, str | None]:
        """("play" | "tool" | None, name) for a workflow UUID."""
        found = self.find("workflow", workflow_uuid)
        return (found.label, found.name or None) if found else (None, None)

    def wrong_kind(self, kind: str, uuid: str, field: str | None = None) -> WrongKind | None:
        """When ``uuid`` is not a known ``kind`` but is the uuid of another listed object, say what it is.

        Only positive evidence counts: a UUID found nowhere (a new object, a later page) is left
        to the API. ``field`` is the API field the UUID was given for (``workflowUuid``): when the
        object found carries that field, its value is the UUID that was meant.
        """
        known = self.registry.kinds.get(kind)
        if known is None or not known.lists or self.find(kind, uuid):
            return None
        for other in self.registry.kinds.values():
            for source in other.lists:
                for item in self.listed(source.command):
                    if isinstance(item, dict) and item.get("uuid") == uuid:
                        return _wrong_kind(kind, uuid, other.name, source, item, field)
        return None

    def table_names(self) -> dict[str, str]:
        """SQL table name ``datasets_<dataset slug>.models_<model slug>`` → model name."""
        datasets = {d.get("uuid"): d.get("slug") for d in self.items("dataset")}
        out: dict[str, str] = {}
        for model in self.items("model"):
            ds_slug = datasets.get(model.get("datasetUuid"))
            if ds_slug and model.get("slug"):
                out[f"datasets_{ds_slug}.models_{model['slug']}"] = str(model.get("name") or model["slug"])
        return out

    def connector_nodes(self, workflow_uuid: str) -> int | None:
        """How many connector nodes the workflow's deployed release has (None if unknown)."""
        data = self.fetch("orchestration release get-deployed", {"workflow-uuid": workflow_uuid})
        release = data.get("release") if isinstance(data, dict) else None
        nodes = release.get("nodes") if isinstance(release, dict) else None
        if not isinstance(nodes, list):
            return None
        return sum(1 for n in nodes if isinstance(n, dict) and n.get("kind") == "connector")

    def credits_per_record(self, workflow_uuid: str) -> tuple[float | None, str]:
        """Average credits per run over the workflow's recent finished batches."""
        data = self.fetch("orchestration batch list", {"workflow-uuids": [workflow_uuid], "limit": 20})
        batches = data.get("batches") if isinstance(data, dict) else None
        credits = runs = 0.0
        used = 0
        for batch in batches if isinstance(batches, list) else []:
            if not isinstance(batch, dict):
                continue
            count = batch.get("executedRunsCount") or batch.get("runsCount") or 0
            spent = batch.get("creditsUsedCount")
            if isinstance(spent, int | float) and isinstance(count, int | float) and count > 0:
                credits += float(spent)
                runs += float(count)
                used += 1
        if not runs:
            return None, "no recent batches of this workflow to estimate from"
        return credits / runs, f"{credits / runs:.2f} credits/record over the last {used} batch(es)"

    def segment_count(self, segment_uuid: str) -> int | None:
        item = self.by_uuid("segment", segment_uuid)
        count = item.get("recordsCount") if item else None
        return int(count) if isinstance(count, int | float) else None


def _wrong_kind(
    kind: str, uuid: str, other: str, source: KindList, item: dict[str, Any], field: str | None
) -> WrongKind:
    name = item.get(source.name_field) if source.name_field else None
    found = Resource(other, uuid, str(name or ""), source.label or other, item)
    for meant in dict.fromkeys(f for f in (field, _field_of(kind)) if f and f != "uuid"):
        value = item.get(meant)
        if isinstance(value, str) and value:
            return WrongKind(kind, uuid, found, meant, value)
    return WrongKind(kind, uuid, found)


def _field_of(kind: str) -> str:
    """The usual API field of a kind's UUID: ``mcp_server`` → ``mcpServerUuid``."""
    head, *rest = kind.split("_")
    return head + "".join(part.capitalize() for part in rest) + "Uuid"
