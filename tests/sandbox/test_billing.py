from __future__ import annotations

import httpx

from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.sandbox.util import iso

BASE = "/v1/billing"


def test_usage_metrics_by_day_and_group(api: httpx.Client, sandbox: Sandbox) -> None:
    db = sandbox.app.db
    db.execute("DELETE FROM credit_ledger")
    ws = sandbox.workspace_uuid
    rows = [
        ("2025-01-10T09:00:00.000Z", 3, "clearbit"),
        ("2025-01-10T18:00:00.000Z", 2, "clearbit"),
        ("2025-01-11T12:00:00.000Z", 1.5, "hubspot"),
        ("2025-01-13T00:00:00.000Z", 7, "clearbit"),
    ]
    for at, amount, integration in rows:
        db.execute(
            "INSERT INTO credit_ledger (workspace_uuid, at, amount, integration_slug) VALUES (?, ?, ?, ?)",
            (ws, at, amount, integration),
        )
    metrics = api.get(
        f"{BASE}/usage/metrics", params={"from": "2025-01-10", "to": "2025-01-12", "groupBy": "integration_slug"}
    ).json()["metrics"]
    assert [m["date"] for m in metrics] == [
        "2025-01-10T00:00:00.000Z",
        "2025-01-11T00:00:00.000Z",
        "2025-01-12T00:00:00.000Z",
    ]
    assert metrics[0]["items"] == [{"slug": "enrichment", "count": 5, "groupBy": "clearbit"}]
    assert metrics[1]["items"] == [{"slug": "connector", "count": 1.5, "groupBy": "hubspot"}]
    assert metrics[2]["items"] == []
    only = api.get(
        f"{BASE}/usage/metrics", params={"from": "2025-01-10", "to": "2025-01-13", "integrationSlug": "clearbit"}
    ).json()["metrics"]
    assert sum(i["count"] for m in only for i in m["items"]) == 12
    assert all(i["groupBy"] is None for m in only for i in m["items"])
    assert api.get(f"{BASE}/usage/metrics", params={"from": "2025-01-10"}).status_code == 400
    assert (
        api.get(
            f"{BASE}/usage/metrics", params={"from": "2025-01-10", "to": "2025-01-11", "unit": "credits"}
        ).status_code
        == 400
    )


def test_subscription_counts_ledger_credits(api: httpx.Client, sandbox: Sandbox) -> None:
    before = api.get(f"{BASE}/subscriptions").json()["subscription"]
    assert before["plan"] == "self-serve" and before["subscriptionAvailableCreditsCount"] == 10000
    sandbox.app.db.execute(
        "INSERT INTO credit_ledger (workspace_uuid, at, amount) VALUES (?, ?, 42)",
        (sandbox.workspace_uuid, iso(sandbox.app.clock())),
    )
    after = api.get(f"{BASE}/subscriptions").json()["subscription"]
    assert after["subscriptionCreditsUsedCount"] == before["subscriptionCreditsUsedCount"] + 42
    assert after["startAt"] <= iso(sandbox.app.clock()) < after["resetAt"]


def test_invoices_card_and_portal(api: httpx.Client) -> None:
    invoices = api.get(f"{BASE}/subscriptions/invoices").json()["invoices"]
    assert len(invoices) == 4
    assert all(isinstance(i["amount"], int) and i["amount"] >= 9900 and i["currency"] == "usd" for i in invoices)
    assert not invoices[0]["isPaid"] and invoices[-1]["isPaid"]
    assert api.get(f"{BASE}/subscriptions/creditCard").json()["creditCard"]["last4"] == "4242"
    portal = api.post(f"{BASE}/subscriptions/portalSessions")
    assert portal.status_code == 422 and portal.json()["reason"] == "unavailableInSandbox"
