"""Changing the subscription: plan, automatic top-up, overage behaviour; and the Stripe steps.

Plan, top-up and overage settings are the workspace's subscription state, kept on its row and
answered by ``billing subscription get``, with the platform's rules: plan and top-up changes are
for self-serve plans and need a card on file; overage behaviours are for enterprise plans. A plan
change that adds credits applies at once and is invoiced (the price per credit of the current
plan, times the periods in the cadence); one that removes credits waits for ``resetAt`` as the
subscription's ``futureChange``. The sandbox charges no card: an invoice row records the cost,
and a configured top-up is stored, never triggered.

Setup intents, checkout sessions and payment methods are Stripe objects: 422 ``unavailableInSandbox``.
"""

from __future__ import annotations

import secrets
from typing import Any

from cargo_shell.sandbox.db import dumps, loads
from cargo_shell.sandbox.domains.billing import get_subscription
from cargo_shell.sandbox.fields import optional, text
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import iso

#: Months in one period of each cadence a self-serve plan can have.
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12}
CADENCES = (*PERIOD_MONTHS, "one_time", "custom")
UNITS = ("billing.credits", "orchestration.executions", "storage.records")
ACTIONS = ("allow", "deny")
MAX_CREDITS = 100_000_000


def _admin_subscription(req: Request) -> dict[str, Any]:
    if not req.ctx.is_admin:
        raise ApiError(403, "Only workspace admins can change billing", "forbidden")
    row = req.ctx.db.one("SELECT * FROM subscriptions WHERE workspace_uuid = ?", (req.ctx.workspace_uuid,))
    if row is None:
        raise ApiError(404, "This workspace has no subscription", "subscriptionNotFound")
    return row


def _count(body: dict[str, Any], name: str, minimum: int) -> int:
    value = optional(body, name, int)
    if value is None:
        raise bad_request(f"{name} is required (a whole number of credits)", "missingField")
    if not minimum <= value <= MAX_CREDITS:
        raise bad_request(f"{name} must be between {minimum} and {MAX_CREDITS}", "invalidField")
    return value


def _self_serve(data: dict[str, Any], req: Request) -> None:
    if data.get("plan") != "self-serve":
        raise ApiError(400, "Enterprise plans change through the account team, not here", "subscriptionNotElligible")
    card = req.ctx.db.scalar("SELECT 1 FROM credit_cards WHERE workspace_uuid = ?", (req.ctx.workspace_uuid,))
    if not card:
        raise ApiError(400, "No card on file: add a payment method first", "paymentMethodNotFound")


def _save(req: Request, row: dict[str, Any], data: dict[str, Any], available: float | None = None) -> None:
    req.ctx.db.execute(
        "UPDATE subscriptions SET data = ?, available_credits = ?, updated_at = ? WHERE uuid = ?",
        (dumps(data), row["available_credits"] if available is None else available, iso(req.ctx.clock()), row["uuid"]),
    )


def update_plan(req: Request) -> dict[str, Any]:
    body = req.body()
    credits = _count(body, "creditsCount", 1)
    cadence = text(body, "cadence")
    if cadence not in CADENCES:
        raise bad_request(f"cadence must be one of {', '.join(CADENCES)}", "invalidField")
    row = _admin_subscription(req)
    data = loads(row["data"], {})
    _self_serve(data, req)
    if cadence not in PERIOD_MONTHS:
        raise ApiError(400, f"Self-serve plans renew {', '.join(PERIOD_MONTHS)}; {cadence} is for enterprise plans",
                       "subscriptionNotElligible")  # fmt: skip
    if data.get("hasPendingChange"):
        raise ApiError(
            409, "A plan change is already scheduled for the next period", "subscriptionAlreadyInUpdateState"
        )
    current = float(row["available_credits"]) or 1.0
    months = PERIOD_MONTHS.get(str(data.get("cadence")), 1)
    per_credit_month = float(data.get("fixedPrice", 0)) / current / months  # cents
    price = round(per_credit_month * credits * PERIOD_MONTHS[cadence])
    change = {"cadence": cadence, "creditsCount": credits, "fixedPrice": price,
              "conversionRate": data.get("conversionRate", 1)}  # fmt: skip
    if credits > current or (credits == current and PERIOD_MONTHS[cadence] > months):
        extra = price - int(data.get("fixedPrice", 0))
        data.update(cadence=cadence, fixedPrice=price)
        _save(req, row, data, available=credits)
        if extra > 0:
            req.ctx.db.execute(
                "INSERT INTO invoices VALUES (?, ?, 1, 'usd', ?, NULL, NULL, ?)",
                (f"inv_sbx{secrets.token_hex(6)}", req.ctx.workspace_uuid, extra, iso(req.ctx.clock())),
            )
    else:
        data.update(hasPendingChange=True, futureChange={**change, "startAt": row["reset_at"], "endAt": None})
        _save(req, row, data)
    return get_subscription(req)


def update_topup(req: Request) -> dict[str, Any]:
    body = req.body()
    enabled = optional(body, "enabled", bool)
    if enabled is None:
        raise bad_request("enabled is required (true or false)", "missingField")
    threshold, credits = _count(body, "threshold", 0), _count(body, "creditsCount", 1)
    row = _admin_subscription(req)
    data = loads(row["data"], {})
    _self_serve(data, req)
    data["topup"] = {"creditsCount": credits, "threshold": threshold} if enabled else None
    _save(req, row, data)
    return get_subscription(req)


def update_overage(req: Request) -> dict[str, Any]:
    body = req.body()
    behaviors = body.get("creditsOverageBehaviors")
    if not isinstance(behaviors, list):
        raise bad_request("creditsOverageBehaviors is required: a list of {unit, action}", "missingField")
    cleaned: dict[str, str] = {}
    for i, item in enumerate(behaviors):
        if not isinstance(item, dict) or item.get("unit") not in UNITS or item.get("action") not in ACTIONS:
            raise bad_request(f"creditsOverageBehaviors[{i}] must be {{unit: {'|'.join(UNITS)}, action: allow|deny}}",
                              "invalidField")  # fmt: skip
        cleaned[item["unit"]] = item["action"]
    row = _admin_subscription(req)
    data = loads(row["data"], {})
    if data.get("plan") != "enterprise":
        raise ApiError(400, f"Overage behaviours are set on enterprise plans; this workspace's plan is "
                       f"{data.get('plan')}", "subscriptionNotEnterprise")  # fmt: skip
    data["creditsOverageBehaviors"] = [{"unit": unit, "action": action} for unit, action in cleaned.items()]
    _save(req, row, data)
    return {}


def _stripe(req: Request, what: str) -> ApiError:
    _admin_subscription(req)
    return ApiError(
        UNAVAILABLE_STATUS,
        f"{what} is not available in the sandbox: it is a Stripe object, and the sandbox cannot reach Stripe",
        "unavailableInSandbox",
    )


def create_setup_intent(req: Request) -> dict[str, Any]:
    raise _stripe(req, "A card setup intent")


def create_checkout_session(req: Request) -> dict[str, Any]:
    raise _stripe(req, "A credits checkout session")


def update_payment_method(req: Request) -> dict[str, Any]:
    method = text(req.body(), "paymentMethodId")
    if not method or not method.strip():
        raise bad_request("paymentMethodId is required (a Stripe payment method id, pm_...)", "missingField")
    raise _stripe(req, "Changing the payment method")


def register(router: Router) -> None:
    r = router.route
    r("PUT", "/v1/billing/subscriptions/plan")(update_plan)
    r("PUT", "/v1/billing/subscriptions/topup")(update_topup)
    r("PUT", "/v1/billing/subscriptions/creditsOverageBehaviors")(update_overage)
    r("PUT", "/v1/billing/subscriptions/paymentMethod")(update_payment_method)
    r("POST", "/v1/billing/subscriptions/setupIntent")(create_setup_intent)
    r("POST", "/v1/billing/subscriptions/creditsCheckoutSessions")(create_checkout_session)
