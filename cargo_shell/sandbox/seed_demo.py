"""Demo segments, connectors, billing history and the system of record of the sandbox workspace."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.domains.segmentation import count_records
from cargo_shell.sandbox.domains.segmentation_tracking import seed_history
from cargo_shell.sandbox.util import iso, new_uuid
from cargo_shell.sandbox.warehouse import load_model

DAY = 86400


def _and(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"conjonction": "and", "groups": [{"conjonction": "and", "conditions": list(conditions)}]}


SEGMENTS = (
    (
        "contacts",
        "Founders in France",
        _and(
            {"kind": "string", "columnSlug": "job_title", "operator": "contains", "values": ["founder"]},
            {"kind": "string", "columnSlug": "country", "operator": "is", "values": ["FR"]},
        ),
    ),
    ("contacts", "Contacts without phone", _and({"kind": "string", "columnSlug": "phone", "operator": "isNull"})),
    (
        "contacts",
        "Hot leads",
        _and(
            {"kind": "number", "columnSlug": "lead_score", "operator": "greaterThan", "value": 80},
            {"kind": "boolean", "columnSlug": "is_subscribed", "operator": "isTrue"},
        ),
    ),
    (
        "companies",
        "Enterprise software accounts",
        _and(
            {"kind": "string", "columnSlug": "industry", "operator": "is", "values": ["Software", "Cybersecurity"]},
            {"kind": "number", "columnSlug": "employees", "operator": "greaterThan", "value": 1000},
        ),
    ),
    (
        "companies",
        "Gold tier prospects",
        _and(
            {
                "kind": "objectProperty",
                "columnSlug": "attributes",
                "propertyName": "tier",
                "operator": "is",
                "value": "gold",
            },
            {"kind": "boolean", "columnSlug": "is_customer", "operator": "isFalse"},
        ),
    ),
)
CONNECTORS = (
    ("HubSpot (sales team)", "hubspot_sales", "hubspot", False, {"accessToken": "sandbox-placeholder"}),
    ("Clearbit enrichment", "clearbit", "clearbit", True, None),
    ("Slack #revenue alerts", "slack_revenue", "slack", False, {"botToken": "sandbox-placeholder"}),
    ("Apollo prospecting", "apollo", "apolloio", True, None),
)


def seed_segments(db: Database, ws: str, user: str, models: dict[str, str], now: float, rng: random.Random) -> None:
    for model_slug, name, flt in SEGMENTS:
        model = load_model(db, ws, models[model_slug])
        count = count_records(db, model, flt, None, now)
        uuid, ts = new_uuid(rng), iso(now - 30 * DAY)
        slug = name.lower().replace(" ", "_")
        db.execute(
            "INSERT INTO segments (uuid, workspace_uuid, user_uuid, model_uuid, slug, name, filter, sort, lim,"
            " data, records_count, synced_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL,"
            " '{}', ?, ?, ?, ?)",
            (uuid, ws, user, model.uuid, slug, name, dumps(flt), count, iso(now - DAY), ts, ts),
        )
        # draws in the order they always were, so the generator's later draws (connectors, billing) stay
        entered = min(count, rng.randint(0, 6))
        first_change = new_uuid(rng)
        rng.randint(0, 3)
        last_change = new_uuid(rng)
        left = rng.randint(0, 3)
        segment = db.one("SELECT * FROM segments WHERE uuid = ?", (uuid,))
        assert segment is not None
        seed_history(db, segment, (first_change, now - 29 * DAY), (last_change, now - DAY), entered, left)


def seed_connectors(db: Database, ws: str, user: str, now: float, rng: random.Random) -> dict[str, str]:
    out = {}
    for name, slug, integration, use_credits, config in CONNECTORS:
        uuid, ts = new_uuid(rng), iso(now - 50 * DAY)
        rate = {"unit": "second", "max": 10, "strategy": "spread"} if integration == "hubspot" else None
        db.execute(
            "INSERT INTO connectors VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, NULL)",
            (
                uuid,
                ws,
                user,
                name,
                slug,
                integration,
                int(use_credits),
                dumps(config) if config else None,
                dumps(rate) if rate else None,
                3600000 if use_credits else None,
                ts,
                ts,
            ),
        )
        out[integration] = uuid
    hub = new_uuid(rng)
    ts = iso(now - 50 * DAY)
    db.execute(
        "INSERT INTO datasets VALUES (?, ?, 'hubspot_sales', 'HubSpot (sales team)', 'connector', ?, ?, ?, NULL)",
        (hub, ws, out["hubspot"], ts, ts),
    )
    return out


def _month_start(ts: float, shift: int = 0) -> float:
    dt = datetime.fromtimestamp(ts, tz=UTC)
    month = dt.month - 1 + shift
    return datetime(dt.year + month // 12, month % 12 + 1, 1, tzinfo=UTC).timestamp()


def seed_billing(
    db: Database, ws: str, connectors: dict[str, str], models: dict[str, str], now: float, rng: random.Random
) -> None:
    start, reset = _month_start(now), _month_start(now, 1)
    data = {
        "provider": "stripe",
        "customerOrbId": "",
        "customerStripeId": "cus_sandbox" + f"{rng.getrandbits(32):08x}",
        "subscriptionStatus": "active",
        "subscriptionStripeId": "sub_sandbox" + f"{rng.getrandbits(32):08x}",
        "creditsOverageBehaviors": [{"unit": "billing.credits", "action": "deny"}],
        "creditsConsumptionBehaviors": [],
        "plan": "self-serve",
        "cadence": "monthly",
        "fixedPrice": 9900,
        "conversionRate": 1,
        "hasPendingChange": False,
        "futureChange": None,
        "topup": {"creditsCount": 1000, "threshold": 100},
    }
    db.execute(
        "INSERT INTO subscriptions VALUES (?, ?, 10000, 500, ?, ?, ?, ?, ?)",
        (new_uuid(rng), ws, iso(start), iso(reset), dumps(data), iso(now - 120 * DAY), iso(now)),
    )
    sources = (
        ("clearbit", connectors["clearbit"], models["companies"], 2.0),
        ("apolloio", connectors["apolloio"], models["contacts"], 1.0),
        ("hubspot", connectors["hubspot"], models["contacts"], 0.0),
        ("openai", None, None, 0.5),
    )
    rows: list[tuple[Any, ...]] = []
    for day in range(60, 0, -1):
        at = now - day * DAY
        for integration, connector, model, unit_cost in sources:
            runs = rng.randint(0, 40)
            if runs == 0:
                continue
            stamp = iso(at + rng.randint(0, DAY - 1))
            if unit_cost:
                rows.append(
                    (
                        ws,
                        stamp,
                        round(runs * unit_cost, 2),
                        None,
                        connector,
                        model,
                        integration,
                        None,
                        None,
                        "billing.credits",
                    )
                )
            rows.append((ws, stamp, runs, None, connector, model, integration, None, None, "orchestration.executions"))
        rows.append((ws, iso(at), 2500, None, None, models["contacts"], None, None, None, "storage.records"))
    db.conn.executemany(
        "INSERT INTO credit_ledger (workspace_uuid, at, amount, workflow_uuid, connector_uuid, model_uuid,"
        " integration_slug, agent_uuid, run_uuid, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    for months_ago in range(4, 0, -1):
        issued = _month_start(now, -months_ago + 1)
        amount = 9900 + rng.randint(0, 40) * 100 if months_ago < 4 else 9900
        db.execute(
            "INSERT INTO invoices VALUES (?, ?, ?, 'usd', ?, ?, NULL, ?)",
            (
                f"inv_sbx{rng.getrandbits(48):012x}",
                ws,
                int(months_ago > 1),
                amount,
                iso(issued + 14 * DAY),
                iso(issued),
            ),
        )
    db.execute("INSERT INTO credit_cards VALUES (?, 'visa', 12, 2028, '4242')", (ws,))


def seed_system_of_record(db: Database, ws: str, now: float, rng: random.Random) -> None:
    ts = iso(now - 90 * DAY)
    data = {
        "config": {"dialect": "sqlite", "note": "the sandbox warehouse is SQLite (one database per dataset)"},
        "lastMigration": {
            "uuid": new_uuid(rng),
            "status": "success",
            "errorMessage": None,
            "createdAt": ts,
            "finishedAt": ts,
        },
        "cutover": None,
        "useCredits": False,
        "isActive": True,
    }
    db.execute(
        "INSERT INTO system_of_records (uuid, workspace_uuid, slug, name, kind, data, created_at, updated_at)"
        " VALUES (?, ?, 'sandbox', 'Sandbox warehouse', 'sqlite', ?, ?, ?)",
        (new_uuid(rng), ws, dumps(data), ts, ts),
    )
