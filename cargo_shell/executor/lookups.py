"""Cheap workspace lookups for plans and guards: names for UUIDs, plays vs tools, models, DDL.

Each list is fetched at most once per executor (per session in the REPL) through the
executor's read path, and a failed lookup never blocks an action: the plan then shows the
bare UUID.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cargo_shell.errors import CargoShellError

ReadFn = Callable[[str, dict[str, Any]], Any]

#: touch kind → (list command, response key, name field)
LISTS: dict[str, tuple[str, str, str]] = {
    "play": ("orchestration play list", "plays", "name"),
    "tool": ("orchestration tool list", "tools", "name"),
    "model": ("storage model list", "models", "name"),
    "dataset": ("storage dataset list", "datasets", "name"),
    "segment": ("segmentation segment list", "segments", "name"),
    "connector": ("connection connector list", "connectors", "name"),
    "agent": ("ai agent list", "agents", "name"),
    "folder": ("workspace folder list", "folders", "name"),
}


class Lookups:
    def __init__(self, read: ReadFn) -> None:
        self._read = read
        self._cache: dict[tuple[str, str], Any] = {}
        #: Number of API reads made (benchmarks and tests look at it).
        self.reads = 0

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

    def items(self, kind: str) -> list[dict[str, Any]]:
        command, key, _ = LISTS[kind]
        data = self.fetch(command)
        items = data.get(key) if isinstance(data, dict) else None
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def by_uuid(self, kind: str, uuid: str) -> dict[str, Any] | None:
        for item in self.items(kind):
            if item.get("uuid") == uuid:
                return item
        return None

    def name(self, kind: str, uuid: str) -> str | None:
        item = self.by_uuid(kind, uuid)
        name = item.get(LISTS[kind][2]) if item else None
        return str(name) if name else None

    def workflow(self, workflow_uuid: str) -> tuple[str | None, str | None]:
        """("play" | "tool" | None, name) for a workflow UUID."""
        for kind in ("play", "tool"):
            for item in self.items(kind):
                if item.get("workflowUuid") == workflow_uuid:
                    return kind, str(item.get("name") or "") or None
        return None, None

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
