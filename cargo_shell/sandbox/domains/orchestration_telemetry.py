"""Spans and traces: observations of the runs the sandbox engine really executed.

Nothing is stored for them. A trace is one run (its ``traceUuid`` is the run's uuid: sandbox runs
have no parent or child runs, tools called from a graph run inline); a span is one execution of a
node in that run, in order, with the times the runner measured while the node ran. Runs that have
not executed yet have no spans. Agent chats are not runs here, so no trace has a ``chatUuid`` or
an ``agentUuid`` and filtering on them finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.orchestration_runs import sync
from cargo_shell.sandbox.domains.orchestration_views import run_json
from cargo_shell.sandbox.fields import strings, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, parse_iso

SPAN_STATUSES = ("error", "pending", "success")
TRACE_STATUSES = ("degraded", "error", "pending", "success")
NODE_KINDS = ("agent", "connector", "native", "tool")
#: Runs start before their first node: how far before a time window a run may have been created.
RUN_LEAD_S = 3600.0
MAX_SPANS = 100
MAX_TRACE_SPANS = 1000  # the client's documented limit when a whole trace is fetched
MAX_TRACES = 1000

#: Span fields compared for equality with the request's field of the same name.
_SPAN_EQUALS = (
    "workflowUuid", "userUuid", "batchUuid", "traceUuid", "runUuid", "recordId", "nodeUuid", "nodeKind", "nodeSlug",
    "nodeIntegrationSlug", "nodeConnectorUuid", "nodeActionSlug", "nodeToolUuid", "nodeAgentUuid", "nodeReleaseUuid",
    "parentRunUuid", "parentNodeUuid", "parentAgentUuid",
)  # fmt: skip


#: Span fields that are run columns: selecting on them narrows the runs read.
RUN_COLUMNS = (
    ("workflowUuid", "workflow_uuid"), ("runUuid", "uuid"), ("traceUuid", "uuid"), ("batchUuid", "batch_uuid"),
    ("userUuid", "user_uuid"), ("recordId", "record_id"),
)  # fmt: skip


# -- spans ---------------------------------------------------------------------
def spans_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The spans of one run row, in execution order."""
    run = run_json(row)
    out = []
    for index, ex in enumerate(loads(row["executions"], [])):
        started = ex.get("startedAt") or row["updated_at"]
        out.append(
            {
                "workspaceUuid": run["workspaceUuid"], "workflowUuid": run["workflowUuid"],
                "userUuid": run["userUuid"], "batchUuid": run["batchUuid"] or "", "traceUuid": run["traceUuid"],
                "recordId": run["recordId"], "recordTitle": run["recordTitle"], "runUuid": run["uuid"],
                "runContextS3Filename": run["contextS3Filename"],
                "runComputedConfigsS3Filename": run["computedConfigsS3Filename"],
                "parentRunUuid": None, "parentNodeUuid": None, "parentBatchUuid": None, "parentAgentUuid": None,
                "parentChatUuid": None, "parentMessageUuid": None, "isGroupParent": None,
                "nodeUuid": ex.get("nodeUuid"), "nodeKind": ex.get("nodeKind"), "nodeSlug": ex.get("nodeSlug"),
                "nodeActionSlug": ex.get("nodeActionSlug") or "",
                "nodeConnectorUuid": ex.get("nodeConnectorUuid"), "nodeIntegrationSlug": ex.get("nodeIntegrationSlug"),
                "nodeToolUuid": ex.get("nodeToolUuid"), "nodeAgentUuid": ex.get("nodeAgentUuid"),
                "nodeReleaseUuid": ex.get("nodeReleaseUuid"), "nodeBatchUuid": ex.get("nodeBatchUuid"),
                "nodeRunUuid": ex.get("nodeRunUuid"), "nodeMessageUuid": ex.get("nodeMessageUuid"),
                "nodeChildIndex": ex.get("nodeChildIndex"),
                "nodeWaitUntilFinished": bool(ex.get("nodeWaitUntilFinished", True)),
                "nodeNextUuid": ex.get("nextNodeUuid"), "executionIndex": index,
                "executionStatus": ex.get("status") if ex.get("status") in SPAN_STATUSES else "pending",
                "executionErrorMessage": ex.get("errorMessage"), "executionTitle": ex.get("title"),
                "executionIconUrl": ex.get("iconUrl"),
                "executionCreditsUsedCount": ex.get("creditsUsedCount") or 0,
                "executionStartedAt": started, "executionUpdatedAt": ex.get("updatedAt") or started,
                "executionFinishedAt": ex.get("finishedAt"),
            }
        )  # fmt: skip
    return out


def span_duration_ms(span: dict[str, Any]) -> float | None:
    finished = span["executionFinishedAt"]
    if finished is None:
        return None
    return max(0.0, (parse_iso(finished) - parse_iso(span["executionStartedAt"])) * 1000)


def _contains(haystack: Any, needle: str) -> bool:
    return isinstance(haystack, str) and needle.lower() in haystack.lower()


@dataclass(frozen=True)
class SpanQuery:
    """What selects spans: exact fields, text searches, statuses and a start-time window."""

    equals: dict[str, str]
    after: float
    before: float | None = None
    statuses: tuple[str, ...] = ()
    title: str | None = None
    title_or_error: str | None = None
    record_title: str | None = None
    record_title_or_id: str | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any], after_field: str = "executionStartedAfter") -> SpanQuery:
        after = text(body, after_field)
        if not after:
            raise bad_request(f"{after_field} is required (an ISO 8601 date-time)", "missingField")
        before = text(body, "executionStartedBefore")
        statuses = tuple(strings(body, "executionStatuses") or ())
        for status in statuses:
            if status not in SPAN_STATUSES:
                raise bad_request(f"executionStatuses: {status!r} is not one of {', '.join(SPAN_STATUSES)}")
        kind = text(body, "nodeKind")
        if kind is not None and kind not in NODE_KINDS:
            raise bad_request(f"nodeKind must be one of {', '.join(NODE_KINDS)}")
        equals = {f: v for f in _SPAN_EQUALS if (v := uuid_ref(body, f)) is not None}
        return cls(
            equals, parse_iso(after), None if before is None else parse_iso(before), statuses,
            text(body, "executionTitle"), text(body, "executionTitleOrErrorMessage"), text(body, "recordTitle"),
            text(body, "recordTitleOrId"),
        )  # fmt: skip

    def matches(self, span: dict[str, Any]) -> bool:
        if any(span.get(f) != v for f, v in self.equals.items()):
            return False
        if self.statuses and span["executionStatus"] not in self.statuses:
            return False
        if self.title and not _contains(span["executionTitle"], self.title):
            return False
        if self.title_or_error and not (
            _contains(span["executionTitle"], self.title_or_error)
            or _contains(span["executionErrorMessage"], self.title_or_error)
        ):
            return False
        if self.record_title and not _contains(span["recordTitle"], self.record_title):
            return False
        if self.record_title_or_id and not (
            _contains(span["recordTitle"], self.record_title_or_id) or span["recordId"] == self.record_title_or_id
        ):
            return False
        started = parse_iso(span["executionStartedAt"])
        return started >= self.after and (self.before is None or started < self.before)


def select_spans(db: Database, ws: str, query: SpanQuery) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(run seq, span)`` of every span the query selects, runs oldest first, spans in order."""
    where = ["workspace_uuid = ?", "finished_at IS NOT NULL", "finished_at >= ?"]
    params: list[Any] = [ws, iso(query.after - RUN_LEAD_S)]
    if query.before is not None:
        where.append("created_at < ?")
        params.append(iso(query.before))
    for field, column in RUN_COLUMNS:
        if field in query.equals:
            where.append(f"{column} = ?")
            params.append(query.equals[field])
    for row in db.all(f"SELECT * FROM wf_runs WHERE {' AND '.join(where)} ORDER BY seq", params):
        for span in spans_of(row):
            if query.matches(span):
                yield row["seq"], span


def _whole_run(query: SpanQuery) -> bool:
    return "traceUuid" in query.equals or "runUuid" in query.equals


def _sorted(found: list[tuple[int, dict[str, Any]]], query: SpanQuery) -> list[dict[str, Any]]:
    """Newest first; one trace or run is read in its own order (oldest first)."""
    found.sort(
        key=lambda item: (parse_iso(item[1]["executionStartedAt"]), item[0], item[1]["executionIndex"]),
        reverse=not _whole_run(query),
    )
    return [span for _, span in found]


def list_spans(req: Request) -> dict[str, Any]:
    sync(req)
    body = req.body()
    query = SpanQuery.from_body(body)
    most = MAX_TRACE_SPANS if "traceUuid" in query.equals else MAX_SPANS
    limit = as_int(body.get("limit"), "limit", min(100, most), maximum=most)
    offset = as_int(body.get("offset"), "offset", 0)
    spans = _sorted(list(select_spans(req.ctx.db, req.ctx.workspace_uuid, query)), query)
    return {"spans": spans[offset : offset + limit], "count": len(spans)}


def count_spans(req: Request) -> dict[str, Any]:
    sync(req)
    query = SpanQuery.from_body(req.body())
    return {"count": sum(1 for _ in select_spans(req.ctx.db, req.ctx.workspace_uuid, query))}


# -- traces --------------------------------------------------------------------
def trace_status(run_status: str, failed_spans: int) -> str:
    """A trace ends ``error`` when its run failed or was stopped, ``degraded`` when it finished although
    a node failed (its fallback took over), ``success`` otherwise; an unfinished run's trace is ``pending``."""
    if run_status in ("error", "cancelled"):
        return "error"
    if run_status in ("success", "skipped"):
        return "degraded" if failed_spans else "success"
    return "pending"


def trace_json(row: dict[str, Any]) -> dict[str, Any]:
    spans = spans_of(row)
    failed = sum(s["executionStatus"] == "error" for s in spans)
    pending = sum(s["executionStatus"] == "pending" for s in spans)
    finished = row["finished_at"]
    ends = [s["executionFinishedAt"] for s in spans if s["executionFinishedAt"]]
    if finished is not None and ends:
        finished = max([finished, *ends], key=parse_iso)
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "workflowUuid": row["workflow_uuid"],
        "rootRunUuid": row["uuid"], "rootRecordId": row["record_id"], "rootRecordTitle": row["record_title"],
        "rootUserUuid": row["user_uuid"], "chatUuid": None, "agentUuid": None,
        "spansCount": len(spans), "failedSpansCount": failed, "pendingSpansCount": pending,
        "succeededSpansCount": len(spans) - failed - pending, "creditsUsedCount": row["credits"],
        "startedAt": row["created_at"], "finishedAt": finished, "updatedAt": row["updated_at"],
        "status": trace_status(row["status"], failed),
    }  # fmt: skip


def _traces(req: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
    after = text(body, "startedAfter")
    if not after:
        raise bad_request("startedAfter is required (an ISO 8601 date-time)", "missingField")
    statuses = strings(body, "statuses") or []
    for status in statuses:
        if status not in TRACE_STATUSES:
            raise bad_request(f"statuses: {status!r} is not one of {', '.join(TRACE_STATUSES)}")
    before = text(body, "startedBefore")
    if uuid_ref(body, "chatUuid") or uuid_ref(body, "agentUuid"):
        return []  # agent chats are not runs in the sandbox: none of its traces belong to one
    where, params = ["workspace_uuid = ?", "created_at >= ?"], [req.ctx.workspace_uuid, iso(parse_iso(after))]
    if before is not None:
        where.append("created_at < ?")
        params.append(iso(parse_iso(before)))
    if workflow := uuid_ref(body, "workflowUuid"):
        where.append("workflow_uuid = ?")
        params.append(workflow)
    rows = req.ctx.db.all(f"SELECT * FROM wf_runs WHERE {' AND '.join(where)} ORDER BY seq DESC", params)
    traces = [trace_json(r) for r in rows]
    return [t for t in traces if not statuses or t["status"] in statuses]


def list_traces(req: Request) -> dict[str, Any]:
    sync(req)
    body = req.body()
    limit = as_int(body.get("limit"), "limit", 100, maximum=MAX_TRACES)
    offset = as_int(body.get("offset"), "offset", 0)
    traces = _traces(req, body)
    return {"traces": traces[offset : offset + limit], "count": len(traces)}


def count_traces(req: Request) -> dict[str, Any]:
    sync(req)
    return {"count": len(_traces(req, req.body()))}


def get_trace(req: Request) -> dict[str, Any]:
    sync(req)
    row = req.ctx.db.one(
        "SELECT * FROM wf_runs WHERE uuid = ? AND workspace_uuid = ?", (req.path_params["uuid"], req.ctx.workspace_uuid)
    )
    if row is None:
        raise ApiError(404, "Trace not found", "traceNotFound")
    return {"trace": trace_json(row)}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/orchestration/spans/list")(list_spans)
    r("POST", "/v1/orchestration/spans/count")(count_spans)
    r("POST", "/v1/orchestration/traces/list")(list_traces)
    r("POST", "/v1/orchestration/traces/count")(count_traces)
    r("GET", "/v1/orchestration/traces/{uuid}")(get_trace)
