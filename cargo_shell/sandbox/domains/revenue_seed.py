"""Demo revenue team: members, two territories, two capacities on the CRM models, and allocations.

Members are the demo workspace's admin and member users plus three sales reps without a Cargo
login (one has left: archived); the viewer user is not on the team yet, so ``member sync`` adds
him. Each member's HubSpot owner id is under ``connectors``. The allocations hand real enterprise
companies (``_id`` values of the companies model) to the reps, as the "Enterprise accounts"
capacity would.
"""

from __future__ import annotations

import random
from typing import Any

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.records import build_query, fetch_page
from cargo_shell.sandbox.seed import SEED
from cargo_shell.sandbox.util import iso, new_uuid, seeded_now
from cargo_shell.sandbox.warehouse import load_model

DAY = 86400.0
#: (email, first name, last name, HubSpot owner id, meta, archived)
TEAM: tuple[tuple[str, str, str, str, dict[str, Any], bool], ...] = (
    ("ada.admin@acme-demo.com", "Ada", "Lovelace", "51000001", {"role": "Head of sales", "region": "NA"}, False),
    ("grace.hopper@acme-demo.com", "Grace", "Hopper", "51000002", {"role": "Account executive", "region": "NA",
                                                                     "quota": 40}, False),
    ("rosalind.franklin@acme-demo.com", "Rosalind", "Franklin", "51000003", {"role": "Account executive",
                                                                              "region": "EMEA", "quota": 35}, False),
    ("katherine.johnson@acme-demo.com", "Katherine", "Johnson", "51000004", {"role": "Account executive",
                                                                              "region": "NA", "quota": 40}, False),
    ("edsger.dijkstra@acme-demo.com", "Edsger", "Dijkstra", "51000005", {"role": "Account executive",
                                                                          "region": "EMEA"}, True),
)  # fmt: skip
ENTERPRISE = {
    "conjonction": "and",
    "groups": [
        {"conjonction": "and",
         "conditions": [{"kind": "number", "columnSlug": "employees", "operator": "greaterThan", "value": 999}]}
    ],
}  # fmt: skip


def seed_revenue(db: Database, ws: str, _rng: random.Random) -> None:
    rng = random.Random(f"{SEED}:revenueOrganization")  # its own: independent of the other seed hooks' order
    now = seeded_now(db, ws)
    hubspot = db.scalar(
        "SELECT uuid FROM connectors WHERE workspace_uuid = ? AND integration_slug = 'hubspot' AND deleted_at IS NULL",
        (ws,),
    )
    members: dict[str, str] = {}
    with db.transaction():
        for i, (email, first, last, owner_id, meta, archived) in enumerate(TEAM):
            uuid, stamp = new_uuid(rng), iso(now - (60 - i) * DAY)
            user = db.scalar("SELECT uuid FROM users WHERE email = ?", (email,))
            connectors = [{"uuid": hubspot, "userId": owner_id}] if hubspot else []
            db.execute(
                "INSERT INTO revenue_members VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                (uuid, ws, user, email, first, last, dumps(connectors), dumps(meta),
                 iso(now - 10 * DAY) if archived else None, stamp, stamp),
            )  # fmt: skip
            members[first] = uuid
        stamp = iso(now - 45 * DAY)
        for label, hue, description, team, fallback in (
            ("North America", "green", "US and Canada accounts", [("Katherine", 2), ("Grace", 1)], "Ada"),
            ("EMEA", "purple", "Europe, Middle East and Africa", [("Rosalind", None)], "Ada"),
        ):
            db.execute(
                "INSERT INTO revenue_territories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (new_uuid(rng), ws, label, hue, description,
                 dumps([{"uuid": members[name], "weight": weight} for name, weight in team]), members[fallback],
                 stamp, stamp),
            )  # fmt: skip
        capacities = _capacities(db, ws, now, rng)
        enterprise = capacities.get("companies")
        if enterprise is not None:
            _allocations(db, ws, now, rng, enterprise, [members["Katherine"], members["Grace"], members["Rosalind"]])


def _capacities(db: Database, ws: str, now: float, rng: random.Random) -> dict[str, tuple[str, str]]:
    """Capacity uuid and model uuid per model slug."""
    out: dict[str, tuple[str, str]] = {}
    stamp = iso(now - 40 * DAY)
    for slug, name, hue, id_col, time_col, limit, policy, flt in (
        ("companies", "Enterprise accounts", "orange", "domain", "created_date", 25,
         {"interval": "quarterly", "month": 1, "day": 1, "time": "00:00"}, ENTERPRISE),
        ("contacts", "Inbound leads", "green", "email", "signup_date", 100, {"interval": "monthly", "day": 1}, None),
    ):  # fmt: skip
        model = db.scalar("SELECT uuid FROM models WHERE workspace_uuid = ? AND slug = ?", (ws, slug))
        if model is None:
            continue
        uuid = new_uuid(rng)
        db.execute(
            "INSERT INTO revenue_capacities VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (uuid, ws, name, hue, limit, dumps(policy), model, id_col, time_col, dumps(flt) if flt else None,
             iso(now - DAY), stamp, stamp),
        )  # fmt: skip
        out[slug] = (uuid, model)
    return out


def _allocations(
    db: Database, ws: str, now: float, rng: random.Random, capacity: tuple[str, str], reps: list[str]
) -> None:
    model = load_model(db, ws, capacity[1])
    records, _count = fetch_page(db, model, build_query(db, model, ENTERPRISE, None, now=now), 0, 4 * len(reps))
    ids = [str(r["_id"]) for r in records]
    for i, rep in enumerate(reps):
        held = ids[i :: len(reps)]
        if not held:
            continue
        stamp = iso(now - (20 - i) * DAY)
        db.execute(
            "INSERT INTO revenue_allocations VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (new_uuid(rng), ws, rep, dumps({"allocator": "capacity"}), capacity[0], dumps(held), stamp, iso(now - DAY),
             stamp, stamp),
        )  # fmt: skip
