"""Walk a node graph for one record and produce executions, context and configs.

The runner is pure apart from the :class:`Services` it is given (connectors, tools,
agents, model writes), so it can be exercised without a database. A run's whole graph
is executed in one call: the asynchronous feel of runs comes from the engine's
scheduling, not from pausing in the middle of a graph.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cargo_shell.sandbox.engine import expressions
from cargo_shell.sandbox.engine.graph import CODE_ACTIONS, NETWORK_ACTIONS, Node, find_start, index

MAX_STEPS = 500
MAX_DEPTH = 4


class NodeFailure(Exception):
    """A node failed for this record; the message lands in the execution and the run."""

    def __init__(self, message: str, credits: float = 0) -> None:
        super().__init__(message)
        self.credits = credits


@dataclass
class Outcome:
    data: Any = None
    child_index: int | None = 0
    credits: float = 0
    title: str | None = None


@dataclass
class Charge:
    """One credit-spending node execution, written to the ledger by the engine."""

    amount: float
    node_kind: str
    integration_slug: str | None = None
    connector_uuid: str | None = None
    agent_uuid: str | None = None
    model_uuid: str | None = None


class Services(Protocol):
    def connector(self, node: Node, config: dict[str, Any]) -> tuple[Outcome, Charge | None]: ...

    def tool_nodes(self, node: Node) -> list[Node]: ...

    def agent(self, node: Node, config: dict[str, Any], seed: str) -> tuple[Outcome, Charge | None]: ...

    def write_model(self, config: dict[str, Any], data: dict[str, Any]) -> Outcome: ...


@dataclass
class RunResult:
    status: str  # success | error
    error_message: str | None
    executions: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    computed_configs: dict[str, Any] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)

    @property
    def credits(self) -> float:
        return sum(c.amount for c in self.charges)

    @property
    def output(self) -> Any:
        return self.context.get("end")


def stable_number(*parts: Any, modulo: int = 1_000_000) -> int:
    """A deterministic integer derived from the parts (same input, same number)."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulo


def _title(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def _variables(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var in config.get("variables") or []:
        if isinstance(var, dict) and isinstance(var.get("name"), str):
            out[var["name"]] = var.get("value")
    return out


def stamp_us(ts: float) -> str:
    """Epoch seconds -> ISO 8601 with microseconds (node timings are far below a millisecond)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Runner:
    """Executes graphs. With a ``timer`` (``time.perf_counter``), each execution records when it
    started and finished, measured while the node really ran, counted from the run's ``now_iso``;
    without one (the seed, which must stay deterministic) every execution is stamped ``now_iso``."""

    def __init__(self, services: Services, now_iso: str, timer: Callable[[], float] | None = None) -> None:
        self.services = services
        self.now_iso = now_iso
        self.timer = timer
        self._base = datetime.fromisoformat(now_iso.replace("Z", "+00:00")).timestamp() if timer else 0.0
        self._origin = timer() if timer else 0.0

    def _clock_stamp(self) -> str | None:
        if self.timer is None:
            return None
        return stamp_us(self._base + (self.timer() - self._origin))

    def run(self, nodes: list[Node], data: Any, *, depth: int = 0) -> RunResult:
        result = RunResult("success", None)
        start = find_start(nodes)
        if start is None:
            return RunResult("error", "The workflow has no start node")
        by_uuid = index(nodes)
        result.context["start"] = data
        scope = {"nodes": result.context}
        current: Node | None = start
        steps = 0
        while current is not None:
            steps += 1
            if steps > MAX_STEPS:
                result.status, result.error_message = "error", "Too many steps: the graph loops"
                break
            slug = str(current.get("slug"))
            execution = self._execution_stub(current)
            self._timed(execution, "startedAt")
            try:
                if current.get("actionSlug") == "start" and current.get("kind") == "native":
                    config: dict[str, Any] = {}
                else:
                    raw = {k: v for k, v in (current.get("config") or {}).items() if k != "_nodes"}
                    config = expressions.compute(raw, scope)
                result.computed_configs[slug] = config
                outcome, charge = self.execute_node(current, config, data, depth)
            except (NodeFailure, expressions.ExpressionError) as exc:
                credits = exc.credits if isinstance(exc, NodeFailure) else 0
                execution.update(status="error", errorMessage=str(exc), creditsUsedCount=credits)
                self._timed(execution, "finishedAt", "updatedAt")
                result.executions.append(execution)
                fallback = current.get("fallbackChildUuid")
                if current.get("fallbackOnFailure") and fallback in by_uuid:
                    execution["nextNodeUuid"] = fallback
                    current = by_uuid[fallback]
                    continue
                result.status, result.error_message = "error", f"{slug}: {exc}"
                break
            if outcome.data is not None or slug == "start":
                result.context[slug] = outcome.data
            if charge is not None:
                result.charges.append(charge)
            children = current.get("childrenUuids") or []
            next_uuid = None
            if outcome.child_index is not None and outcome.child_index < len(children):
                next_uuid = children[outcome.child_index]
            execution.update(
                status="success",
                nodeChildIndex=outcome.child_index,
                nextNodeUuid=next_uuid,
                title=outcome.title if outcome.title is not None else _title(outcome.data),
                creditsUsedCount=outcome.credits,
            )
            self._timed(execution, "finishedAt", "updatedAt")
            result.executions.append(execution)
            current = by_uuid.get(next_uuid) if next_uuid else None
        return result

    def _timed(self, execution: dict[str, Any], *keys: str) -> None:
        stamp = self._clock_stamp()
        if stamp is not None:
            execution.update(dict.fromkeys(keys, stamp))

    def _execution_stub(self, node: Node) -> dict[str, Any]:
        kind = node.get("kind")
        out: dict[str, Any] = {
            "nodeUuid": node.get("uuid"),
            "nodeSlug": node.get("slug"),
            "nodeKind": kind,
            "nodeBatchUuid": None,
            "nodeRunUuid": None,
            "nodeMessageUuid": None,
            "nodeChildIndex": None,
            "nextNodeUuid": None,
            "status": "pending",
            "errorMessage": None,
            "title": None,
            "iconUrl": None,
            "creditsUsedCount": 0,
            "startedAt": self.now_iso,
            "updatedAt": self.now_iso,
            "finishedAt": self.now_iso,
            "nodeWaitUntilFinished": bool(node.get("waitUntilFinished", True)),
        }
        if kind in ("native", "connector"):
            out["nodeActionSlug"] = node.get("actionSlug")
        if kind == "connector":
            out["nodeConnectorUuid"] = node.get("connectorUuid")
            out["nodeIntegrationSlug"] = node.get("integrationSlug")
        if kind == "tool":
            out["nodeToolUuid"] = node.get("toolUuid")
            out["nodeReleaseUuid"] = node.get("releaseUuid")
        if kind == "agent":
            out["nodeAgentUuid"] = node.get("agentUuid")
            out["nodeReleaseUuid"] = node.get("releaseUuid")
        return out

    def execute_node(
        self, node: Node, config: dict[str, Any], data: Any, depth: int = 0
    ) -> tuple[Outcome, Charge | None]:
        kind = node.get("kind")
        if kind == "connector":
            return self.services.connector(node, config)
        if kind == "agent" or (kind == "native" and node.get("actionSlug") == "agent"):
            return self.services.agent(node, config, json.dumps(data, sort_keys=True, default=str))
        if kind == "tool":
            return self._tool(node, config, depth)
        return self._native(node, config, data, depth), None

    def _tool(self, node: Node, config: dict[str, Any], depth: int) -> tuple[Outcome, Charge | None]:
        if depth >= MAX_DEPTH:
            raise NodeFailure("Tools are nested too deeply")
        sub = self.run(self.services.tool_nodes(node), config, depth=depth + 1)
        if sub.status != "success":
            raise NodeFailure(f"Tool failed: {sub.error_message}", sub.credits)
        total = sub.credits
        charge = Charge(total, "tool") if total else None
        return Outcome(data=sub.output, credits=total), charge

    def _native(self, node: Node, config: dict[str, Any], data: Any, depth: int) -> Outcome:
        action = str(node.get("actionSlug"))
        if action == "start":
            return Outcome(data=data, title=_title(data))
        if action == "end":
            return Outcome(data=_variables(config), child_index=None)
        if action == "filter":
            passed = expressions.truthy(config.get("filter", config.get("condition")))
            return Outcome(data={"passed": passed}, child_index=0 if passed else None)
        if action == "branch":
            passed = expressions.truthy(config.get("condition"))
            return Outcome(data={"condition": passed}, child_index=0 if passed else 1)
        if action == "switch":
            routes = config.get("routes") or []
            for i, route in enumerate(routes):
                if isinstance(route, dict) and expressions.truthy(route.get("value")):
                    return Outcome(data={"route": route.get("name"), "index": i}, child_index=i)
            return Outcome(data={"route": None, "index": None}, child_index=None)
        if action == "split":
            percentage = float(config.get("percentage") or 0)
            draw = stable_number(node.get("uuid"), data, modulo=10_000) / 100
            index_ = 0 if draw < percentage else 1
            return Outcome(data={"variant": "A" if index_ == 0 else "B"}, child_index=index_)
        if action == "variables":
            return Outcome(data=_variables(config))
        if action == "formula":
            return Outcome(data={"result": config.get("expression", config.get("value"))})
        if action == "delay":
            return Outcome(data={"minutes": config.get("minutes", 0), "skippedInSandbox": True})
        if action == "writeToModel":
            record = config.get("record") if isinstance(config.get("record"), dict) else data
            return self.services.write_model(config, record if isinstance(record, dict) else {})
        if action == "group":
            return self._group(node, config, depth)
        if action in NETWORK_ACTIONS:
            raise NodeFailure(
                f"The {action} node needs network access, which the sandbox does not have; "
                "run this workflow against the real Cargo API"
            )
        if action in CODE_ACTIONS:
            raise NodeFailure(f"The {action} node runs user code, which the sandbox does not execute")
        raise NodeFailure(f"Unknown native action {action!r}")

    def _group(self, node: Node, config: dict[str, Any], depth: int) -> Outcome:
        items = config.get("items")
        if not isinstance(items, list):
            raise NodeFailure("group items must evaluate to an array")
        sub_nodes = (node.get("config") or {}).get("_nodes") or []
        outputs: list[Any] = []
        for item in items[:100]:
            sub = self.run(sub_nodes, item if isinstance(item, dict) else {"value": item}, depth=depth + 1)
            if sub.status != "success" and config.get("failOnItemFailure"):
                raise NodeFailure(f"group item failed: {sub.error_message}")
            outputs.append(sub.output)
        return Outcome(data={"items": outputs}, title=f"{len(outputs)} items")
