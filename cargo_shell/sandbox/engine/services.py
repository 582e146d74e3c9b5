"""What nodes reach outside the graph: connectors, tools, agents and model writes.

Everything is deterministic and offline. Connector nodes of the demo integrations
derive their answers from a hash of the input (the same domain always gives the same
employee count); some inputs fail on purpose (no domain, or a domain the simulated
provider "does not know"), so batches show per-record failures like the real thing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.engine.graph import Node
from cargo_shell.sandbox.engine.runner import Charge, NodeFailure, Outcome, stable_number

INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Education",
    "Media",
    "Energy",
    "Telecommunications",
)
COUNTRIES = ("US", "FR", "DE", "GB", "NL", "ES", "CA", "SE")
# Integrations whose every action needs the internet (no simulation makes sense).
NETWORK_INTEGRATIONS = frozenset({"http", "webhook", "scraper", "firecrawl", "zenrows", "serper"})
CONNECTOR_CREDITS = 2.0
AGENT_CREDITS = 1.0


def _domain_of(config: dict[str, Any]) -> str | None:
    for key in ("domain", "website", "companyDomain", "url"):
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            text = value.strip().lower()
            for prefix in ("https://", "http://", "www."):
                text = text.removeprefix(prefix)
            return text.split("/")[0] or None
    email = config.get("email")
    if isinstance(email, str) and "@" in email:
        return email.split("@", 1)[1].lower()
    return None


def enrich_company(domain: str) -> dict[str, Any]:
    """The simulated company profile of a domain (stable across calls)."""
    n = stable_number("company", domain)
    stem = domain.split(".")[0]
    return {
        "domain": domain,
        "name": stem.replace("-", " ").title(),
        "employeeCount": 5 + n % 4995,
        "industry": INDUSTRIES[n % len(INDUSTRIES)],
        "country": COUNTRIES[(n // 7) % len(COUNTRIES)],
        "foundedYear": 1950 + n % 74,
        "annualRevenue": (1 + n % 500) * 100_000,
        "linkedinUrl": f"https://www.linkedin.com/company/{stem}",
    }


def is_lookup(action: str) -> bool:
    """Lookup-like actions (enrich, find, search ...) answer a company profile; the others a receipt."""
    lowered = action.lower()
    return any(word in lowered for word in ("enrich", "company", "lookup", "find", "search"))


def simulate_connector(integration: str, action: str, config: dict[str, Any]) -> dict[str, Any]:
    """Deterministic output of one connector action (raises NodeFailure for failing inputs)."""
    if integration in NETWORK_INTEGRATIONS:
        raise NodeFailure(f"The {integration} integration needs network access, which the sandbox does not have")
    if is_lookup(action):
        domain = _domain_of(config)
        if not domain:
            raise NodeFailure("No domain to enrich: the record has no domain, website or email")
        if stable_number("known", domain, modulo=20) == 0:
            raise NodeFailure(f"{integration}: no company found for {domain}")
        return enrich_company(domain)
    return {
        "id": f"sbx_{stable_number(integration, action, config):06d}",
        "status": "accepted",
        "sandbox": True,
        "message": f"{integration}.{action} simulated by the sandbox; nothing was sent",
    }


def answer_schema(schema: Any, seed: str, path: str = "") -> Any:
    """A deterministic value matching a JSON schema (enough for typed agent outputs)."""
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        options = schema["enum"]
        return options[stable_number(seed, path, modulo=len(options))]
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: answer_schema(v, seed, f"{path}.{k}") for k, v in props.items()}
    if kind == "array":
        return [answer_schema(schema.get("items"), seed, f"{path}[0]")]
    if kind in ("number", "integer"):
        return stable_number(seed, path, modulo=101)
    if kind == "boolean":
        return stable_number(seed, path, modulo=2) == 1
    return f"sandbox answer for {path.lstrip('.') or 'value'}"


class SandboxServices:
    """Services for runs of one workspace, reading the shared database."""

    def __init__(self, db: Database, workspace_uuid: str) -> None:
        self.db = db
        self.conn = db.conn
        self.workspace_uuid = workspace_uuid
        self._connectors: dict[str, sqlite3.Row | None] = {}

    def _connector_row(self, uuid: str) -> sqlite3.Row | None:
        if uuid not in self._connectors:
            self._connectors[uuid] = self.conn.execute(
                "SELECT uuid, integration_slug, use_credits FROM connectors"
                " WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
                (uuid, self.workspace_uuid),
            ).fetchone()
        return self._connectors[uuid]

    def connector(self, node: Node, config: dict[str, Any]) -> tuple[Outcome, Charge | None]:
        integration = str(node.get("integrationSlug"))
        action = str(node.get("actionSlug"))
        connector_uuid = node.get("connectorUuid")
        row = self._connector_row(str(connector_uuid)) if connector_uuid else None
        if row is None:
            raise NodeFailure(f"Connector {connector_uuid} not found for integration {integration}")
        data = simulate_connector(integration, action, config)
        cost = CONNECTOR_CREDITS if row["use_credits"] else 0.0
        charge = Charge(cost, "connector", integration_slug=integration, connector_uuid=row["uuid"]) if cost else None
        title = data.get("name") or data.get("message")
        return Outcome(data=data, credits=cost, title=str(title) if title else None), charge

    def agent(self, node: Node, config: dict[str, Any], seed: str) -> tuple[Outcome, Charge | None]:
        agent_uuid = node.get("agentUuid")
        if node.get("kind") == "agent" and agent_uuid:
            found = self.conn.execute(
                "SELECT 1 FROM ai_agents WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
                (agent_uuid, self.workspace_uuid),
            ).fetchone()
            if found is None:
                raise NodeFailure(f"Agent {agent_uuid} not found")
        raw_output = config.get("output")
        output: dict[str, Any] = raw_output if isinstance(raw_output, dict) else {}
        prompt = config.get("prompt")
        if output.get("type") == "jsonSchema":
            answer: Any = answer_schema(output.get("jsonSchema") or {}, seed)
        else:
            snippet = str(prompt)[:80] if prompt else "(no prompt)"
            answer = f"[sandbox agent] Deterministic answer to: {snippet}"
        charge = Charge(AGENT_CREDITS, "agent", agent_uuid=str(agent_uuid) if agent_uuid else None)
        return Outcome(data={"answer": answer}, credits=AGENT_CREDITS), charge

    def tool_nodes(self, node: Node) -> list[Node]:
        release_uuid = node.get("releaseUuid")
        if release_uuid:
            row = self.conn.execute(
                "SELECT nodes FROM wf_releases WHERE uuid = ? AND workspace_uuid = ?",
                (release_uuid, self.workspace_uuid),
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT r.nodes FROM wf_tools t JOIN wf_releases r ON r.workflow_uuid = t.workflow_uuid"
                " WHERE t.uuid = ? AND t.workspace_uuid = ? AND t.deleted_at IS NULL AND r.status = 'deployed'",
                (node.get("toolUuid"), self.workspace_uuid),
            ).fetchone()
        if row is None:
            raise NodeFailure(f"Tool {node.get('toolUuid') or release_uuid} has no deployed release")
        nodes: list[Node] = loads(row[0], [])
        return nodes

    def write_model(self, config: dict[str, Any], data: dict[str, Any]) -> Outcome:
        from cargo_shell.sandbox.engine import storage_bridge

        model_uuid = config.get("modelUuid")
        if not isinstance(model_uuid, str):
            raise NodeFailure("writeToModel needs config.modelUuid")
        record = storage_bridge.upsert_record(self.db, self.workspace_uuid, model_uuid, data)
        return Outcome(data=record, title=f"wrote record {record.get('id')}")
