"""Names and UUIDs of workspace resources for completion, refreshed off the main thread.

The refresher opens its own connection to the target (the sandbox's SQLite connection, like
any client connection, belongs to one thread) and lists a few resource kinds through an executor
the session context makes for it (the profile's deny rules apply; these background reads write no
audit line), then hands a new snapshot to a callback: the shell swaps its completer, litecli-style.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the refresher is made before the first prompt: the registry loads later
    from cargo_shell.commands.context import Context
    from cargo_shell.executor import Executor
    from cargo_shell.registry.resources import Resource
    from cargo_shell.registry.spec import ArgSpec


@dataclass
class Snapshot:
    #: kind (``registry/resources.json``) → its listed resources, UUIDs as the kind's arguments take them
    resources: dict[str, list[Resource]] = field(default_factory=dict)
    #: Credits left in the subscription period (available − used), and top-up credits beside them.
    credits: float | None = None
    extra_credits: float | None = None
    workspace_name: str | None = None

    def for_arg(self, arg: ArgSpec) -> list[Resource]:
        """What completes an argument's value: the resources of the kind it refers to."""
        return list(self.resources.get(arg.refers_to or "", []))


def collect(executor: Executor) -> Snapshot:
    """List every kind; a list that fails (missing route, no access) is simply left out."""
    from cargo_shell.registry.resources import resources_in

    snap = Snapshot()
    registry = executor.registry
    listed: dict[str, Any] = {}
    for kind in registry.kinds.values():
        for source in kind.lists:
            if source.command not in listed:
                spec = registry.get(source.command)
                try:
                    data = executor.run(spec, executor.validate(spec, {})).data
                except Exception:
                    data = None
                listed[source.command] = data.get(spec.response_key or "") if isinstance(data, dict) else None
            found = resources_in(kind, source, listed[source.command])
            if found:
                snap.resources.setdefault(kind.name, []).extend(found)
    snap.credits, snap.extra_credits = credits_left(executor)
    try:
        spec = registry.get("whoami")
        who = executor.run(spec, executor.validate(spec, {})).data or {}
        snap.workspace_name = (who.get("workspace") or {}).get("name")
    except Exception:
        pass
    return snap


def credits_left(executor: Executor) -> tuple[float | None, float | None]:
    """(credits left in the period, additional credits), from ``billing subscription get``.

    Left = ``subscriptionAvailableCreditsCount − subscriptionCreditsUsedCount`` (the catalogue's
    rule); the additional (top-up) credits are a separate pool, reported beside it.
    """
    try:
        spec = executor.registry.get("billing subscription get")
        data = executor.run(spec, executor.validate(spec, {})).data or {}
    except Exception:
        return None, None
    sub = data.get("subscription", data) if isinstance(data, dict) else {}

    def number(key: str) -> float | None:
        value = sub.get(key)
        return float(value) if isinstance(value, int | float) else None

    available, used = number("subscriptionAvailableCreditsCount"), number("subscriptionCreditsUsedCount")
    left = available - (used or 0.0) if available is not None else None
    return left, number("additionalAvailableCreditsCount")


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
        while True:
            try:
                target = self.ctx.open_target()
                try:
                    self.on_done(collect(self.ctx.make_executor(target=target, front_end="refresh", audited=False)))
                finally:
                    target.close()
            except Exception:
                pass
            with self._lock:
                if not self._again:
                    return
                self._again = False
