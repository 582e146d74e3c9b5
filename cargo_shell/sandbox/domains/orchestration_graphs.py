"""Node graphs used by the seed and the workflow templates (built, not stored as files)."""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def _node(uuid: str, slug: str, kind: str, children: list[str | None], config: dict[str, Any], **extra: Any) -> Node:
    node: Node = {
        "uuid": uuid,
        "slug": slug,
        "name": slug.replace("_", " ").title(),
        "kind": kind,
        "config": config,
        "childrenUuids": children,
        "fallbackOnFailure": False,
        "position": {"x": 0, "y": 0},
    }
    node.update(extra)
    return node


def start(uuid: str, child: str) -> Node:
    return _node(uuid, "start", "native", [child], {}, actionSlug="start")


def end(uuid: str, variables: list[tuple[str, str, Any]]) -> Node:
    config = {"variables": [{"name": n, "type": t, "value": v} for n, t, v in variables]}
    return _node(uuid, "end", "native", [], config, actionSlug="end")


def _layout(nodes: list[Node]) -> list[Node]:
    for i, node in enumerate(nodes):
        node["position"] = {"x": 0, "y": 120 * i}
    return nodes


def enrich_company_graph(ids: list[str], connector_uuid: str, integration: str = "clearbit") -> list[Node]:
    """start -> connector enrichment -> end (employee count, industry)."""
    a, b, c = ids[:3]
    return _layout(
        [
            start(a, b),
            _node(
                b, "enrich", "connector", [c], {"domain": "{{nodes.start.domain}}"},
                integrationSlug=integration, actionSlug="enrichCompany", connectorUuid=connector_uuid,
            ),
            end(c, [
                ("domain", "string", "{{nodes.start.domain}}"),
                ("employeeCount", "number", "{{nodes.enrich.employeeCount}}"),
                ("industry", "string", "{{nodes.enrich.industry}}"),
            ]),
        ]
    )  # fmt: skip


def score_lead_graph(ids: list[str]) -> list[Node]:
    """start -> variables (score) -> branch (hot?) -> end; native nodes only."""
    a, b, c, d = ids[:4]
    score = (
        "Math.min(100, Math.round((Number(nodes.start.employees) || 0) / 50)"
        " + (String(nodes.start.industry || '').includes('Software') ? 30 : 0)"
        " + (nodes.start.domain ? 10 : 0))"
    )
    return _layout(
        [
            start(a, b),
            _node(b, "score", "native", [c], {"variables": [
                {"name": "score", "type": "number", "value": {"kind": "jsExpression", "expression": score}},
                {"name": "domain", "type": "string", "value": "{{nodes.start.domain}}"},
            ]}, actionSlug="variables"),
            _node(c, "is_hot", "native", [d, d], {"condition": "{{nodes.score.score >= 40}}"}, actionSlug="branch"),
            end(d, [
                ("score", "number", "{{nodes.score.score}}"),
                ("tier", "string", "{{nodes.score.score >= 40 ? 'hot' : 'cold'}}"),
            ]),
        ]
    )  # fmt: skip


def write_back_graph(ids: list[str], model_uuid: str) -> list[Node]:
    """start -> filter (has id) -> writeToModel -> end."""
    a, b, c, d = ids[:4]
    return _layout(
        [
            start(a, b),
            _node(b, "has_id", "native", [c], {"filter": "{{!!(nodes.start._id || nodes.start.id)}}"},
                  actionSlug="filter"),
            _node(c, "write", "native", [d], {"modelUuid": model_uuid}, actionSlug="writeToModel"),
            end(d, [("written", "any", "{{nodes.write}}")]),
        ]
    )  # fmt: skip


def play_graph(ids: list[str], connector_uuid: str, integration: str = "clearbit") -> list[Node]:
    """Segment play: score natively, enrich the hot ones through a connector."""
    a, b, c, d, e = ids[:5]
    return _layout(
        [
            start(a, b),
            _node(b, "score", "native", [c], {"variables": [
                {"name": "score", "type": "number",
                 "value": {"kind": "jsExpression",
                           "expression": "Math.round((Number(nodes.start.employees) || 0) / 20)"}},
            ]}, actionSlug="variables"),
            _node(c, "worth_it", "native", [d, e], {"condition": "{{nodes.score.score >= 5}}"}, actionSlug="branch"),
            _node(
                d, "enrich", "connector", [e], {"domain": "{{nodes.start.domain}}"},
                integrationSlug=integration, actionSlug="enrichCompany", connectorUuid=connector_uuid,
            ),
            end(e, [
                ("score", "number", "{{nodes.score.score}}"),
                ("industry", "string", "{{nodes.enrich.industry ?? nodes.start.industry}}"),
            ]),
        ]
    )  # fmt: skip
