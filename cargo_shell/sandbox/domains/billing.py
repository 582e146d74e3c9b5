"""Billing domain: usage metrics from the credit ledger, subscription, invoices, credit card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request, not_found
from cargo_shell.sandbox.integrations import INTEGRATIONS
from cargo_shell.sandbox.util import iso, parse_iso

UNITS = ("billing.credits", "storage.records", "orchestration.executions")
GROUP_BY = ("workflow_uuid", "connector_uuid", "model_uuid", "integration_slug", "agent_uuid")
FILTERS = {
    "workflowUuid": "workflow_uuid",
    "modelUuid": "model_uuid",
    "connectorUuid": "connector_uuid",
    "integrationSlug": "integration_slug",
    "agentUuid": "agent_uuid",
}
MAX_DAYS = 366


def item_slug(row: dict[str, Any]) -> str:
    """What the usage was for: ai_message, enrichment, connector, storage or workflow."""
    if row["unit"] == "storage.records":
        return "storage"
    if row["agent_uuid"]:
        return "ai_message"
    integration = row["integration_slug"]
    if integration:
        category = INTEGRATIONS.get(integration, {}).get("category")
        return "enrichment" if category == "enrichment" else "ai" if integration == "openai" else "connector"
    return "workflow"


def usage_metrics(req: Request) -> dict[str, Any]:
    q, db, ws = req.query, req.ctx.db, req.ctx.workspace_uuid
    if not isinstance(q.get("from"), str) or not isinstance(q.get("to"), str):
        raise bad_request("from and to are required (ISO dates)", "missingField")
    start = datetime.fromtimestamp(parse_iso(q["from"]), tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = datetime.fromtimestamp(parse_iso(q["to"]), tz=UTC)
    if end < start:
        raise bad_request("to must not be before from")
    if (end - start).days > MAX_DAYS:
        raise bad_request(f"the range is limited to {MAX_DAYS} days")
    unit = q.get("unit", "billing.credits")
    if unit not in UNITS:
        raise bad_request(f"unit must be one of {', '.join(UNITS)}")
    group_by = q.get("groupBy")
    if group_by is not None and group_by not in GROUP_BY:
        raise bad_request(f"groupBy must be one of {', '.join(GROUP_BY)}")
    sql = "SELECT * FROM credit_ledger WHERE workspace_uuid = ? AND unit = ? AND at >= ? AND at < ?"
    end_exclusive = end + timedelta(days=1) if len(q["to"]) == 10 else end + timedelta(milliseconds=1)
    params: list[Any] = [ws, unit, iso(start.timestamp()), iso(end_exclusive.timestamp())]
    for key, column in FILTERS.items():
        if isinstance(q.get(key), str):
            sql += f" AND {column} = ?"
            params.append(q[key])
    wanted_slug = q.get("slug")
    days: dict[str, dict[tuple[str, str | None], float]] = {}
    day = start
    while day < end_exclusive:
        days[day.strftime("%Y-%m-%d")] = {}
        day += timedelta(days=1)
    for row in db.all(sql + " ORDER BY at", params):
        slug = item_slug(row)
        if isinstance(wanted_slug, str) and slug != wanted_slug:
            continue
        item: tuple[str, str | None] = (slug, row[group_by] if group_by else None)
        bucket = days.setdefault(row["at"][:10], {})
        bucket[item] = bucket.get(item, 0.0) + row["amount"]
    metrics = []
    for date, items in days.items():
        metrics.append(
            {
                "date": f"{date}T00:00:00.000Z",
                "items": [
                    {"slug": slug, "count": round(count, 4), "groupBy": group}
                    for (slug, group), count in sorted(items.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
                ],
            }
        )
    return {"metrics": metrics}


def used_credits(db: Database, ws: str, since: str) -> float:
    value = db.scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE workspace_uuid = ? AND"
        " unit = 'billing.credits' AND at >= ?",
        (ws, since),
    )
    return float(value or 0)


def _subscription(db: Database, ws: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM subscriptions WHERE workspace_uuid = ?", (ws,))
    if row is None:
        raise not_found("Subscription", "subscriptionNotFound")
    return row


def get_subscription(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _subscription(db, ws)
    data = loads(row["data"], {})
    used = round(used_credits(db, ws, row["start_at"]), 4)
    available = row["available_credits"]
    return {
        "subscription": {
            "uuid": row["uuid"],
            "workspaceUuid": ws,
            **data,
            "subscriptionAvailableCreditsCount": available,
            "subscriptionCreditsUsedCount": used,
            "additionalAvailableCreditsCount": row["additional_credits"],
            "hasCredits": used < available + row["additional_credits"],
            "startAt": row["start_at"],
            "resetAt": row["reset_at"],
            "endAt": None,
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
        }
    }


def get_invoices(req: Request) -> dict[str, Any]:
    rows = req.ctx.db.all(
        "SELECT * FROM invoices WHERE workspace_uuid = ? ORDER BY created_at DESC", (req.ctx.workspace_uuid,)
    )
    invoices = []
    for r in rows:
        invoice = {"id": r["id"], "isPaid": bool(r["is_paid"]), "currency": r["currency"], "amount": r["amount"]}
        if r["due_date"]:
            invoice["dueDate"] = r["due_date"]
        if r["url"]:
            invoice["url"] = r["url"]
        invoices.append(invoice)
    return {"invoices": invoices}


def get_credit_card(req: Request) -> dict[str, Any]:
    row = req.ctx.db.one("SELECT * FROM credit_cards WHERE workspace_uuid = ?", (req.ctx.workspace_uuid,))
    if row is None:
        return {}
    return {
        "creditCard": {
            "brand": row["brand"],
            "expMonth": row["exp_month"],
            "expYear": row["exp_year"],
            "last4": row["last4"],
        }
    }


def create_portal_session(req: Request) -> dict[str, Any]:
    _subscription(req.ctx.db, req.ctx.workspace_uuid)
    raise ApiError(
        UNAVAILABLE_STATUS,
        "The billing portal is not available in the sandbox: it is hosted by the payment provider,"
        " which the sandbox cannot reach",
        "unavailableInSandbox",
    )


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/billing/usage/metrics")(usage_metrics)
    r("GET", "/v1/billing/subscriptions")(get_subscription)
    r("GET", "/v1/billing/subscriptions/invoices")(get_invoices)
    r("GET", "/v1/billing/subscriptions/creditCard")(get_credit_card)
    r("POST", "/v1/billing/subscriptions/portalSessions")(create_portal_session)
