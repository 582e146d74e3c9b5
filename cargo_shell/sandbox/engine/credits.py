"""Credits: what a workspace has left, and the ledger rows the engine writes.

The subscription row (owned by the billing domain) holds the allowance; consumption is
the sum of ``billing.credits`` ledger rows since the subscription period started.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from cargo_shell.sandbox.http import ApiError

CREDITS_UNIT = "billing.credits"
EXECUTIONS_UNIT = "orchestration.executions"


@dataclass(frozen=True)
class LedgerRow:
    workspace_uuid: str
    at: str
    amount: float
    unit: str = CREDITS_UNIT
    workflow_uuid: str | None = None
    connector_uuid: str | None = None
    model_uuid: str | None = None
    integration_slug: str | None = None
    agent_uuid: str | None = None
    run_uuid: str | None = None


def remaining(conn: sqlite3.Connection, workspace_uuid: str) -> float:
    """Credits left in the current period (infinite when the workspace has no subscription row)."""
    sub = conn.execute(
        "SELECT available_credits, additional_credits, start_at FROM subscriptions WHERE workspace_uuid = ?",
        (workspace_uuid,),
    ).fetchone()
    if sub is None:
        return float("inf")
    used = conn.execute(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE workspace_uuid = ? AND unit = ? AND at >= ?",
        (workspace_uuid, CREDITS_UNIT, sub[2]),
    ).fetchone()[0]
    return float(sub[0]) + float(sub[1] or 0) - float(used)


def require_credits(conn: sqlite3.Connection, workspace_uuid: str) -> None:
    """Refuse to start credit-spending work when the allowance is used up."""
    if remaining(conn, workspace_uuid) <= 0:
        raise ApiError(
            402,
            "Not enough credits: the workspace has used its whole credit allowance for this period",
            "notEnoughCredits",
        )


def write(conn: sqlite3.Connection, rows: Iterable[LedgerRow]) -> None:
    conn.executemany(
        "INSERT INTO credit_ledger (workspace_uuid, at, amount, workflow_uuid, connector_uuid, model_uuid,"
        " integration_slug, agent_uuid, run_uuid, unit) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (
                r.workspace_uuid,
                r.at,
                r.amount,
                r.workflow_uuid,
                r.connector_uuid,
                r.model_uuid,
                r.integration_slug,
                r.agent_uuid,
                r.run_uuid,
                r.unit,
            )
            for r in rows
        ],
    )
