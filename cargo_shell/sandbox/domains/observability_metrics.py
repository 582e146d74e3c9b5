"""Evaluating an alert's condition (a scope and a threshold) over a time window, on real sandbox data.

Units and readings (the client's types leave them open; the sandbox decides and documents them):

* ``errorRate`` and ``recordsShare`` are fractions from 0 to 1; ``duration`` is in milliseconds
  (a run: created to finished; a span: the node's measured execution); ``credits`` is credits;
  ``freshness`` is minutes since the model's newest record arrived; ``count`` counts what the
  scope selects in the window.
* Runs, records and spans are taken when they started within the window (``[start, end)``).
  ``errorRate``, ``duration`` and ``credits`` read finished ones only; with none the outcome is
  ``empty``. ``count`` and a ``credits`` sum are computed even at zero.
* A query scope's value is the first column of its first row; the SQL may use the named
  parameters ``:window_started_at`` and ``:window_ended_at`` (ISO strings).
* ``syncDuration`` cannot be computed: the sandbox's models are not synced from an outside source.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.domains.orchestration_query import QueryError, run_query
from cargo_shell.sandbox.domains.orchestration_runs import latest_records_sql
from cargo_shell.sandbox.domains.orchestration_telemetry import SpanQuery, select_spans, span_duration_ms
from cargo_shell.sandbox.domains.orchestration_views import TERMINAL_RUN
from cargo_shell.sandbox.http import ApiError
from cargo_shell.sandbox.util import iso, parse_iso

TELEMETRY_METRICS = ("errorRate", "duration", "credits", "count")
MODEL_METRICS = ("recordsCount", "recordsShare", "freshness", "syncDuration")
AGGREGATIONS = {"duration": ("avg", "p50", "p95", "p99"), "credits": ("avg", "p95", "sum")}
SCOPE_METRICS = {
    "spans": TELEMETRY_METRICS, "runs": TELEMETRY_METRICS, "records": TELEMETRY_METRICS,
    "orchestrationQuery": ("query",), "storageQuery": ("query",), "model": MODEL_METRICS,
}  # fmt: skip
MATCH_ALL = {"conjonction": "and", "groups": []}


@dataclass(frozen=True)
class Evaluation:
    outcome: str  # computed | empty | notComputed
    value: float | None = None
    total: int | None = None
    failed: int | None = None
    breached: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.outcome == "notComputed":
            return {"outcome": "notComputed", "computeErrorMessage": self.error}
        if self.outcome == "empty":
            return {"outcome": "empty"}
        out: dict[str, Any] = {"outcome": "computed", "value": self.value, "isBreached": self.breached}
        if self.total is not None:
            out["total"] = self.total
        if self.failed is not None:
            out["failed"] = self.failed
        return out


@dataclass(frozen=True)
class Item:
    """One run, record or span in the window."""

    finished: bool
    failed: bool
    duration_ms: float | None
    credits: float


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _aggregate(values: list[float], aggregation: str) -> float:
    if aggregation == "avg":
        return sum(values) / len(values)
    if aggregation == "sum":
        return sum(values)
    return _percentile(values, float(aggregation[1:]))


def _judge(value: float, threshold: dict[str, Any], total: int | None = None, failed: int | None = None) -> Evaluation:
    limit = float(threshold["value"])
    breached = value >= limit if threshold["operator"] == "gte" else value <= limit
    return Evaluation("computed", value, total, failed, breached)


def _telemetry(items: list[Item], threshold: dict[str, Any]) -> Evaluation:
    metric = threshold["metric"]
    finished = [i for i in items if i.finished]
    if metric == "count":
        return _judge(float(len(items)), threshold, total=len(items))
    if metric == "errorRate":
        if not finished:
            return Evaluation("empty")
        failed = sum(i.failed for i in finished)
        return _judge(failed / len(finished), threshold, total=len(finished), failed=failed)
    aggregation = threshold["aggregation"]
    if metric == "duration":
        values = [i.duration_ms for i in finished if i.duration_ms is not None]
    else:
        values = [i.credits for i in finished]
        if not values and aggregation == "sum":
            return _judge(0.0, threshold, total=0)
    if not values:
        return Evaluation("empty")
    return _judge(_aggregate(values, aggregation), threshold, total=len(values))


def _ms_between(start: str, end: str | None) -> float | None:
    return None if end is None else max(0.0, (parse_iso(end) - parse_iso(start)) * 1000)


def _contains(value: Any, needle: str) -> bool:
    return isinstance(value, str) and needle.lower() in value.lower()


def _run_items(rows: Iterable[dict[str, Any]], statuses: list[str], search: str | None) -> list[Item]:
    items = []
    for row in rows:
        status = "cancelled" if row.get("_record") and row["status"] in ("idle", "skipped") else row["status"]
        if statuses and status not in statuses:
            continue
        if search and not (_contains(row["record_title"], search) or _contains(row["error_message"], search)):
            continue
        finished = row["status"] in TERMINAL_RUN
        items.append(Item(finished, row["status"] == "error", _ms_between(row["created_at"], row["finished_at"]),
                          float(row["credits"] or 0)))  # fmt: skip
    return items


def _window_filter(scope: dict[str, Any], start: float, end: float) -> dict[str, Any]:
    body = {k: scope[k] for k in ("workflowUuid", "releaseUuid", "userUuid") if isinstance(scope.get(k), str)}
    return body | {"createdAfter": iso(start), "createdBefore": iso(end)}


def _runs(db: Database, ws: str, scope: dict[str, Any], start: float, end: float) -> list[Item]:
    from cargo_shell.sandbox.domains.orchestration_runs import run_filter

    where, params = run_filter(ws, _window_filter(scope, start, end))
    rows = db.all(f"SELECT * FROM wf_runs WHERE {where}", params)
    return _run_items(rows, scope.get("statuses") or [], scope.get("recordTitleOrErrorMessage"))


def _records(db: Database, ws: str, scope: dict[str, Any], start: float, end: float) -> list[Item]:
    sql, params = latest_records_sql(ws, _window_filter(scope, start, end))
    rows = [r | {"_record": True} for r in db.all(sql, params)]
    return _run_items(rows, scope.get("statuses") or [], scope.get("titleOrErrorMessage"))


def _spans(db: Database, ws: str, scope: dict[str, Any], start: float, end: float) -> list[Item]:
    fields = ("workflowUuid", "parentAgentUuid", "nodeKind", "nodeIntegrationSlug", "nodeConnectorUuid",
              "nodeActionSlug", "nodeToolUuid", "nodeAgentUuid", "userUuid")  # fmt: skip
    query = SpanQuery(
        {f: scope[f] for f in fields if isinstance(scope.get(f), str)}, start, end,
        tuple(scope.get("executionStatuses") or ()), title_or_error=scope.get("executionTitleOrErrorMessage"),
    )  # fmt: skip
    items = []
    for _, span in select_spans(db, ws, query):
        status = span["executionStatus"]
        items.append(Item(status != "pending", status == "error", span_duration_ms(span),
                          float(span["executionCreditsUsedCount"] or 0)))  # fmt: skip
    return items


def _first_number(rows: list[dict[str, Any]], threshold: dict[str, Any]) -> Evaluation:
    if not rows:
        return Evaluation("empty")
    value = next(iter(rows[0].values()), None)
    if value is None:
        return Evaluation("empty")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Evaluation("notComputed", error=f"The query's first column must be a number; it gave {value!r}")
    return _judge(float(value), threshold)


def storage_rows(db: Database, ws: str, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """One row of read-only SQL on the workspace's warehouse (as ``system-of-record client query``)."""
    from cargo_shell.sandbox.domains import system_of_record

    conn = system_of_record._connect(db, ws)
    try:
        return [dict(r) for r in conn.execute(sql.strip().rstrip(";"), params).fetchmany(1)]
    except sqlite3.Error as exc:
        text = str(exc)
        if "not authorized" in text or "readonly" in text:
            raise QueryError("The warehouse is read-only: only SELECT queries are allowed", "readOnlyQuery") from None
        raise QueryError(f"SQL error: {text}", "invalidSql") from None
    finally:
        conn.close()


def _model(db: Database, ws: str, scope: dict[str, Any], threshold: dict[str, Any], now: float) -> Evaluation:
    from cargo_shell.sandbox.domains.segmentation import count_records
    from cargo_shell.sandbox.warehouse import load_model

    metric = threshold["metric"]
    if metric == "syncDuration":
        return Evaluation("notComputed", error="The sandbox's models are not synced from an outside source, so they"
                          " have no sync duration")  # fmt: skip
    model = load_model(db, ws, scope.get("modelUuid"))
    if metric == "freshness":
        newest = (
            db.dataset_conn(model.dataset_uuid, readonly=True)
            .execute(f'SELECT MAX(_emitted_at) FROM "{model.table}"')
            .fetchone()[0]
        )
        if not newest:
            return Evaluation("empty")
        return _judge(max(0.0, (now - parse_iso(str(newest))) / 60), threshold)
    matching = count_records(db, model, scope.get("filter") or MATCH_ALL, None, now)
    if metric == "recordsCount":
        return _judge(float(matching), threshold, total=matching)
    total = count_records(db, model, MATCH_ALL, None, now)
    if total == 0:
        return Evaluation("empty")
    return _judge(matching / total, threshold, total=total, failed=matching)


def evaluate(
    db: Database, ws: str, scope: dict[str, Any], threshold: dict[str, Any], start: float, end: float, now: float
) -> Evaluation:
    """The condition over ``[start, end)``; a failure to compute is an outcome, never an exception."""
    kind = scope["kind"]
    params = {"window_started_at": iso(start), "window_ended_at": iso(end)}
    try:
        if kind == "runs":
            return _telemetry(_runs(db, ws, scope, start, end), threshold)
        if kind == "records":
            return _telemetry(_records(db, ws, scope, start, end), threshold)
        if kind == "spans":
            return _telemetry(_spans(db, ws, scope, start, end), threshold)
        if kind == "orchestrationQuery":
            return _first_number(run_query(db, ws, scope["query"], 1, params), threshold)
        if kind == "storageQuery":
            return _first_number(storage_rows(db, ws, scope["query"], params), threshold)
        return _model(db, ws, scope, threshold, now)
    except QueryError as exc:
        return Evaluation("notComputed", error=str(exc))
    except ApiError as exc:  # the scope's model or filter no longer works
        return Evaluation("notComputed", error=exc.message)
