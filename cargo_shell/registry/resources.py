"""Resource kinds: which workspace object a UUID argument names, and how to list that kind by name.

The data is ``resources.json`` beside the commands; each UUID argument says its kind with
``refers_to``. Completion (names that complete to UUIDs), plan touches (names in confirmations),
lookups and the wrong-kind guard all read it, so they agree on which field each flag takes:
``--workflow-uuid`` takes a play's or tool's ``workflowUuid``, never the play's or tool's own uuid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KindList:
    """One read command that lists objects of a kind (or objects that each carry one, ``label``)."""

    command: str
    id_field: str
    name_field: str | None
    #: What the listed objects are when they are not the kind itself (a workflow's "play" or "tool").
    label: str | None = None


@dataclass(frozen=True)
class ResourceKind:
    name: str
    lists: tuple[KindList, ...] = ()
    note: str = ""

    @property
    def words(self) -> str:
        """The kind as a person says it: ``mcp_server`` → ``mcp server``."""
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class Resource:
    """One listed object of a kind: its UUID for that kind, its name, and what the object is."""

    kind: str
    uuid: str
    name: str
    label: str
    item: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


def kinds_from_dict(raw: Mapping[str, Any]) -> dict[str, ResourceKind]:
    out: dict[str, ResourceKind] = {}
    for name, entry in raw["kinds"].items():
        lists = tuple(
            KindList(item["command"], item["id"], item.get("name"), item.get("as")) for item in entry.get("lists", ())
        )
        out[name] = ResourceKind(name, lists, str(entry.get("note", "")))
    return out


def resources_in(kind: ResourceKind, source: KindList, items: Any) -> list[Resource]:
    """The resources of ``kind`` in the objects ``source`` listed (objects without the id are skipped)."""
    out: list[Resource] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get(source.id_field), str) or not item[source.id_field]:
            continue
        name = item.get(source.name_field) if source.name_field else None
        label = source.label or kind.name
        out.append(Resource(kind.name, str(item[source.id_field]), str(name) if name else "", label, item))
    return out
