"""Names and UUIDs of workspace resources for completion, refreshed off the main thread.

The refresher opens its own connection to the target (the sandbox's SQLite connection, like
any client connection, belongs to one thread), lists a few resource kinds, then hands a new
snapshot to a callback: the shell swaps its completer, litecli-style.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cargo_shell.executor import Executor
    from cargo_shell.session import Context

#: resource kind → list command (its response key holds the objects)
SOURCES: dict[str, str] = {
    "model": "storage model list",
    "workflow": "orchestration workflow list",
    "play": "orchestration play list",
    "tool": "orchestration tool list",
    "segment": "segmentation segment list",
    "connector": "connection connector list",
    "agent": "ai agent list",
    "folder": "workspace folder list",
    "batch": "orchestration batch list",
    "dataset": "storage dataset list",
    "user": "workspace user list",
}

#: flag name → resource kinds whose UUIDs it takes
FLAG_KINDS: dict[str, tuple[str, ...]] = {
    "model-uuid": ("model",),
    "from-model-uuid": ("model",),
    "to-model-uuid": ("model",),
    "workflow-uuid": ("play", "tool", "workflow"),
    "segment-uuid": ("segment",),
    "connector-uuid": ("connector",),
    "agent-uuid": ("agent",),
    "folder-uuid": ("folder",),
    "parent-uuid": ("folder",),
    "batch-uuid": ("batch",),
    "parent-batch-uuid": ("batch",),
    "dataset-uuid": ("dataset",),
    "user-uuid": ("user",),
}


@dataclass(frozen=True)
class Resource:
    kind: str
    uuid: str
    name: str


@dataclass
class Snapshot:
    resources: dict[str, list[Resource]] = field(default_factory=dict)
    credits: float | None = None
    workspace_name: str | None = None

    def for_flag(self, flag: str, resource_word: str | None = None) -> list[Resource]:
        kinds = FLAG_KINDS.get(flag)
        if kinds is None and flag == "uuid" and resource_word:
            kinds = (resource_word,)
        out: list[Resource] = []
        for kind in kinds or ():
            out += self.resources.get(kind, [])
        return out


def _name(obj: dict[str, Any]) -> str:
    for key in ("name", "title", "label", "slug", "email"):
        if isinstance(obj.get(key), str) and obj[key]:
            return str(obj[key])
    return ""


def collect(executor: Executor, kinds: tuple[str, ...] = tuple(SOURCES)) -> Snapshot:
    """List each kind; a kind that fails (missing route, no access) is simply left out."""
    snap = Snapshot()
    for kind in kinds:
        spec = executor.registry.get(SOURCES[kind])
        try:
            data = executor.run(spec, executor.validate(spec, {})).data
        except Exception:
            continue
        items = data.get(spec.response_key or "", []) if isinstance(data, dict) else data
        if isinstance(items, list):
            snap.resources[kind] = [
                Resource(kind, str(o["uuid"]), _name(o)) for o in items if isinstance(o, dict) and o.get("uuid")
            ]
    try:
        spec = executor.registry.get("billing subscription get")
        sub = executor.run(spec, executor.validate(spec, {})).data or {}
        sub = sub.get("subscription", sub)
        snap.credits = float(sub.get("subscriptionAvailableCreditsCount") or 0) + float(
            sub.get("additionalAvailableCreditsCount") or 0
        )
    except Exception:
        pass
    try:
        spec = executor.registry.get("whoami")
        who = executor.run(spec, executor.validate(spec, {})).data or {}
        snap.workspace_name = (who.get("workspace") or {}).get("name")
    except Exception:
        pass
    return snap


class Refresher:
    """Run :func:`collect` in a daemon thread on a connection of its own; one refresh at a time."""

    def __init__(self, ctx: Context, on_done: Callable[[Snapshot], None]) -> None:
        self.ctx = ctx
        self.on_done = on_done
        self._lock = threading.Lock()
        self._again = False
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._work, name="cargo-shell-refresh", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        from cargo_shell.executor import Executor
        from cargo_shell.target import open_target

        while True:
            try:
                target = open_target(self.ctx.resolved(), self.ctx.env.paths, transport=self.ctx.transport)
                try:
                    self.on_done(collect(Executor(target.client)))
                finally:
                    target.close()
            except Exception:
                pass
            with self._lock:
                if not self._again:
                    return
                self._again = False
