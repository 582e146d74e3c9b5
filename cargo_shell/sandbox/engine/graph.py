"""Node graphs: the native action catalogue and structural validation.

A graph is the ``nodes`` array of a release (see the Node type): one ``start`` node,
children referenced by uuid in ``childrenUuids`` (length fixed by the action), and an
``end`` node without children. :func:`validate_nodes` answers the same reasons the
``node validate`` endpoint documents; it never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Node = dict[str, Any]

# actionSlug -> (children count or None when it depends on the config, category, description)
NATIVE_ACTIONS: dict[str, tuple[int | None, str, str]] = {
    "start": (1, "invisible", "Entry point; the input record is available as nodes.start"),
    "end": (0, "invisible", "Exit point; its variables are the workflow output"),
    "filter": (1, "logic", "Continue only when the condition is true"),
    "branch": (2, "logic", "Child 0 when the condition is true, child 1 otherwise"),
    "switch": (None, "logic", "First route whose value is true wins"),
    "split": (2, "logic", "A/B split; deterministic per record in the sandbox"),
    "variables": (1, "logic", "Derive named values for later nodes"),
    "formula": (1, "logic", "Evaluate one expression; read it as nodes.<slug>.result"),
    "delay": (1, "logic", "Wait (recorded but not slept in the sandbox)"),
    "group": (1, "logic", "Loop over items with a sub-graph"),
    "writeToModel": (1, "storage", "Upsert the record into a model table"),
    "agent": (1, "ai", "Inline LLM call (deterministic sandbox agent)"),
    "python": (1, "code", "Python script (not executed in the sandbox)"),
    "script": (1, "code", "JavaScript (not executed in the sandbox)"),
    "httpRequest": (1, "code", "HTTP call (needs network)"),
    "scrape": (1, "ai", "Web scraping (needs network)"),
    "webSearch": (1, "ai", "Web search (needs network)"),
}

NETWORK_ACTIONS = frozenset({"httpRequest", "scrape", "webSearch"})
CODE_ACTIONS = frozenset({"python", "script"})

_SLUG_RE = re.compile(r"^[a-zA-Z0-9_]+$")


@dataclass(frozen=True)
class Invalid:
    node: Node
    reason: str
    sub: tuple[Invalid, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "node": {"uuid": self.node.get("uuid"), "slug": self.node.get("slug")},
            "reason": self.reason,
        }
        if self.sub:
            out["invalidNodes"] = [s.to_json() for s in self.sub]
        return out


def children_count(node: Node) -> int | None:
    """How many children the node must have (None: unknown action)."""
    kind = node.get("kind")
    if kind != "native":
        return 1
    spec = NATIVE_ACTIONS.get(str(node.get("actionSlug")))
    if spec is None:
        return None
    if spec[0] is None:  # switch: one child per route
        routes = (node.get("config") or {}).get("routes")
        return len(routes) if isinstance(routes, list) else 0
    return spec[0]


def find_start(nodes: list[Node]) -> Node | None:
    for node in nodes:
        if node.get("kind") == "native" and node.get("actionSlug") == "start":
            return node
    return None


# Checks for references outside the graph (connectors, tools); they return a reason or None.
RefCheck = Callable[[Node], str | None]


def validate_nodes(nodes: Any, check_ref: RefCheck | None = None) -> list[Invalid]:
    """Every structural problem of a graph (empty list: valid)."""
    if not isinstance(nodes, list) or not nodes:
        return [Invalid({}, "nodesNotFound")]
    if not all(isinstance(n, dict) for n in nodes):
        return [Invalid({}, "nodesNotFound")]
    invalid: list[Invalid] = []
    if find_start(nodes) is None:
        invalid.append(Invalid({}, "startNodeNotFound"))
    uuids = [n.get("uuid") for n in nodes]
    known = set(uuids)
    seen_slugs: set[str] = set()
    for node in nodes:
        slug = node.get("slug")
        if not isinstance(slug, str) or not _SLUG_RE.match(slug) or slug in seen_slugs:
            invalid.append(Invalid(node, "slugInvalid"))
            continue
        seen_slugs.add(slug)
        if uuids.count(node.get("uuid")) != 1 or not isinstance(node.get("uuid"), str):
            invalid.append(Invalid(node, "childrenUuidsInvalid"))
            continue
        kind = node.get("kind")
        if kind not in ("native", "connector", "tool", "agent"):
            invalid.append(Invalid(node, "nativeInvalid"))
            continue
        if kind == "native":
            action = node.get("actionSlug")
            if action not in NATIVE_ACTIONS:
                invalid.append(Invalid(node, "nativeInvalid"))
                continue
            if slug in ("start", "end") and action != slug:
                invalid.append(Invalid(node, "slugInvalid"))
                continue
        expected = children_count(node)
        children = node.get("childrenUuids")
        if not isinstance(children, list) or (expected is not None and len(children) != expected):
            invalid.append(Invalid(node, "childrenUuidsInvalid"))
            continue
        if any(c is not None and c not in known for c in children):
            invalid.append(Invalid(node, "childrenUuidsInvalid"))
            continue
        fallback = node.get("fallbackChildUuid")
        if fallback is not None and fallback not in known:
            invalid.append(Invalid(node, "childrenUuidsInvalid"))
            continue
        if kind == "native" and node.get("actionSlug") == "group":
            sub = validate_nodes((node.get("config") or {}).get("_nodes"), check_ref)
            if sub:
                invalid.append(Invalid(node, "subNodesInvalid", tuple(sub)))
            continue
        if check_ref is not None:
            reason = check_ref(node)
            if reason:
                invalid.append(Invalid(node, reason))
    return invalid


def index(nodes: list[Node]) -> dict[str, Node]:
    return {str(n["uuid"]): n for n in nodes if isinstance(n, dict) and "uuid" in n}
