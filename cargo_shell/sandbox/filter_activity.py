"""How activity conditions count: enrollment resolvers (runs per record), periods, frequencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.http import ApiError
from cargo_shell.sandbox.util import iso

DAY = 86400.0
# (db, workspace_uuid, condition, now) -> {record_id: count of matching workflow activities}
EnrollmentResolver = Callable[[Database, str, dict[str, Any], float], dict[str, int]]


def invalid(message: str) -> ApiError:
    return ApiError(400, f"Invalid filter: {message}", "invalidFilter")


def compare_count(operator: Any, count: int, value: Any) -> bool:
    if operator == "not":
        return count == 0
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid("frequency/period value must be a number")
    if operator == "moreThan":
        return count > value
    if operator == "lessThan":
        return count < value
    if operator == "exactly":
        return count == value
    raise invalid(f"unknown frequency operator {operator!r}")


def period_bounds(period: Any, now: float) -> tuple[str | None, str | None]:
    """(oldest, newest) ISO bounds of a ``{operator, value, unit: day}`` period."""
    if not isinstance(period, dict):
        return None, None
    value, operator = period.get("value", 0), period.get("operator")
    if period.get("unit", "day") != "day" or not isinstance(value, int | float):
        raise invalid("period must be {operator, value: number, unit: day}")
    if operator == "lessThan":
        return iso(now - value * DAY), None
    if operator == "moreThan":
        return None, iso(now - value * DAY)
    if operator == "exactly":
        return iso(now - (value + 1) * DAY), iso(now - value * DAY)
    raise invalid(f"unknown period operator {operator!r}")


def default_enrollment(db: Database, workspace_uuid: str, cond: dict[str, Any], now: float) -> dict[str, int]:
    """Count workflow runs per record from the orchestration tables (none when they do not exist)."""
    if db.scalar("SELECT 1 FROM sqlite_master WHERE name = 'wf_runs'") is None:
        return {}
    sql = "SELECT record_id, COUNT(*) FROM wf_runs WHERE workspace_uuid = ? AND workflow_uuid = ?"
    params: list[Any] = [workspace_uuid, cond.get("workflowUuid")]
    activity = cond.get("activityKind", "workflowEntered")
    if activity == "workflowLeft":
        sql += " AND status IN ('success', 'error', 'cancelled', 'skipped')"
    elif activity == "workflowNodeExecuted":
        sql += " AND EXISTS (SELECT 1 FROM json_each(executions) WHERE json_extract(value, '$.nodeSlug') = ?)"
        params.append(cond.get("nodeSlug"))
    elif activity != "workflowEntered":
        raise invalid(f"unknown activityKind {activity!r}")
    oldest, newest = period_bounds(cond.get("period"), now)
    if oldest:
        sql += " AND created_at >= ?"
        params.append(oldest)
    if newest:
        sql += " AND created_at <= ?"
        params.append(newest)
    return {row[0]: row[1] for row in db.execute(sql + " GROUP BY record_id", params)}


ENROLLMENT_RESOLVERS: list[EnrollmentResolver] = [default_enrollment]
