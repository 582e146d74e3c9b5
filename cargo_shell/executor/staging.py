"""Cost estimates and staged rollout for batches.

A cost action over more than ``DEFAULT_THRESHOLD`` records on a workflow with connector
nodes (third-party APIs that rate-limit and bill) is proposed as stages of 1 → 50 → 500 →
all records (cumulative). Each stage is its own batch, awaited before the next; the rollout
stops when a stage's error rate passes the threshold or a stage does not end ``success``.

Inline ``records`` and ``recordIds`` are split as given. ``segment`` and ``filter`` batches
(the usual way plays run) are first resolved to record ids: the segment's (or the data's)
model, filter, sort and limit are paged through ``segmentation segment fetch``, and the
stages are sent as ``{kind: recordIds, modelUuid, ids}`` batches, so no record is sent twice.
The trade-off: a staged segment batch enrolls the records the segment held at planning
time; records that enter the segment while the stages run are not sent (a single segment
batch would read the segment when it starts). When the ids cannot be resolved, or there are
no more than the threshold, the batch is sent unchanged as one batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.plan import Estimate, Plan
from cargo_shell.registry.spec import ArgSpec, CommandSpec

if TYPE_CHECKING:
    from cargo_shell.executor.rollout import BatchPort

DEFAULT_THRESHOLD = 50
DEFAULT_MAX_ERROR_RATE = 0.2
STAGES = (1, 50, 500)
SPLIT_KEYS = {"records": "records", "recordIds": "ids"}
#: Page size of the id resolution (``fetchingLimit``), and a bound on the number of pages.
FETCH_PAGE = 500
MAX_PAGES = 2000
_ALL = {"conjonction": "and", "groups": []}


def batch_data_arg(spec: CommandSpec) -> ArgSpec | None:
    """The argument that holds the call's batch data (what a staged rollout splits)."""
    found = spec.holding("batch-data")
    return found[0] if found else None


def record_count(spec: CommandSpec, values: dict[str, Any], lookups: Lookups | None) -> tuple[int | None, str]:
    """How many records a cost call handles, from the arguments that hold them (``holds``), and why."""
    for arg in spec.holding("records", "record", "batch-data"):
        if arg.holds == "records" and isinstance(values.get(arg.name), list):
            return len(values[arg.name]), "inline records"
        if arg.holds == "record":
            return 1, "one record"
        if arg.holds == "batch-data":
            return _batch_count(values.get(arg.name), lookups)
    return None, ""


def _batch_count(data: Any, lookups: Lookups | None) -> tuple[int | None, str]:
    if not isinstance(data, dict):
        return None, ""
    kind = data.get("kind")
    if isinstance(kind, str) and kind in SPLIT_KEYS and isinstance(data.get(SPLIT_KEYS[kind]), list):
        return len(data[SPLIT_KEYS[kind]]), f"{kind} in --data"
    if kind == "segment" and lookups is not None and isinstance(data.get("segmentUuid"), str):
        count = lookups.segment_count(data["segmentUuid"])
        if count is not None:
            return count, "segment record count"
    if kind == "filter" and isinstance(data.get("limit"), int):
        return int(data["limit"]), "filter limit (at most)"
    return None, ""


def estimate(spec: CommandSpec, values: dict[str, Any], lookups: Lookups | None) -> Estimate:
    records, basis = record_count(spec, values, lookups)
    credits = None
    workflow = spec.referring_to("workflow")
    wf = values.get(workflow.name) if workflow is not None else None
    if isinstance(wf, str) and lookups is not None:
        per_record, why = lookups.credits_per_record(wf)
        if per_record is not None and records is not None:
            credits = round(per_record * records, 2)
        basis = "; ".join(b for b in (basis, why) if b)
    return Estimate(records, credits, basis)


def stages_for(port: BatchPort, spec: CommandSpec, values: dict[str, Any], est: Estimate) -> list[int] | None:
    """Cumulative stage sizes for inline records or record ids, or None when not staged."""
    arg = batch_data_arg(spec)
    data = values.get(arg.name) if arg is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in SPLIT_KEYS:
        return None
    if not isinstance(data.get(SPLIT_KEYS[data["kind"]]), list):
        return None
    return _stages(port, spec, values, est.records)


def _stages(port: BatchPort, spec: CommandSpec, values: dict[str, Any], count: int | None) -> list[int] | None:
    rollout = spec.rollout
    if rollout is None or batch_data_arg(spec) is None or count is None or count <= port.rollout_over:
        return None
    if any(values.get(name) is not None for name in rollout.not_with):
        return None
    workflow = spec.referring_to("workflow")
    wf = values.get(workflow.name) if workflow is not None else None
    if not isinstance(wf, str) or not port.lookups.connector_nodes(wf):
        return None
    return [s for s in STAGES if s < count] + [count]


def plan_rollout(port: BatchPort, plan: Plan, values: dict[str, Any]) -> None:
    """Set the estimate and, when the batch is staged, the stages of a cost action's plan."""
    spec = plan.spec
    plan.estimate = estimate(spec, values, port.lookups)
    plan.rollout = stages_for(port, spec, values, plan.estimate)
    arg = batch_data_arg(spec)
    data = values.get(arg.name) if arg is not None else None
    if plan.rollout or not isinstance(data, dict) or data.get("kind") not in ("segment", "filter"):
        return
    # Resolving pages through every record: only done when the batch could be staged at all.
    could_stage = _stages(port, spec, values, port.rollout_over + 1) is not None
    if not could_stage or not _record_ids_allowed(port, spec, values):
        return
    resolved = resolve_record_ids(port, data)
    if resolved is None:
        return
    model_uuid, ids = resolved
    what = "segment" if data["kind"] == "segment" else "filter"
    basis = f"{len(ids)} record id(s) resolved from the {what}"
    workflow = spec.referring_to("workflow")
    per_record, why = port.lookups.credits_per_record(str(values.get(workflow.name) if workflow else None))
    credits = round(per_record * len(ids), 2) if per_record is not None else None
    plan.estimate = Estimate(len(ids), credits, f"{basis}; {why}" if why else basis)
    stages = _stages(port, spec, values, len(ids))
    if stages is None:
        return
    plan.rollout = stages
    plan.rollout_data = {"kind": "recordIds", "modelUuid": model_uuid, "ids": ids}
    sizes = [b - a for a, b in zip([0, *stages], stages, strict=False)]
    plan.rollout_note = (
        f"the {what}'s {len(ids)} records, read now, are sent as recordIds batches of "
        + ", ".join(str(n) for n in sizes)
        + f"; records that enter the {what} later are not enrolled"
    )


def _record_ids_allowed(port: BatchPort, spec: CommandSpec, values: dict[str, Any]) -> bool:
    """Whether the catalogue lets this workflow's batches take ``recordIds`` data."""
    kinds = spec.extra.get("batch_data_kinds")
    if not isinstance(kinds, dict):
        return False
    workflow = spec.referring_to("workflow")
    wf_kind, _ = port.lookups.workflow(str(values.get(workflow.name) if workflow else None))
    key = "allowed_for_play" if wf_kind == "play" else "allowed_for_tool_or_no_workflow" if wf_kind else None
    allowed = kinds.get(key) if key else None
    return isinstance(allowed, list) and "recordIds" in allowed


def resolve_record_ids(port: BatchPort, data: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(model UUID, record ids) selected by segment or filter batch data, or None if unknown.

    Reads go through the executor's read path (deny rules apply; counted as lookups); any failure, a record
    without ``_id`` or a paging that does not add up gives None (the batch is then not staged).
    """
    try:
        if data.get("kind") == "segment":
            segment = port.lookups.read_fresh("segmentation segment get", {"segment-uuid": data.get("segmentUuid")})
            source = segment.get("segment") if isinstance(segment, dict) else None
        else:
            source = data
        if not isinstance(source, dict) or not isinstance(source.get("modelUuid"), str):
            return None
        model_uuid = source["modelUuid"]
        base: dict[str, Any] = {"model-uuid": model_uuid, "filter": source.get("filter") or _ALL}
        if source.get("sort"):
            base["sort"] = source["sort"]
        limit = source.get("limit")
        if isinstance(limit, int) and not isinstance(limit, bool):
            base["limit"] = limit
        else:
            limit = None
        ids: list[str] = []
        seen: set[str] = set()
        offset = 0
        total: int | None = limit
        for _ in range(MAX_PAGES):
            page_size = FETCH_PAGE if total is None else min(FETCH_PAGE, total - offset)
            if page_size <= 0:
                break
            page = port.lookups.read_fresh(
                "segmentation segment fetch", {**base, "fetching-limit": page_size, "fetching-offset": offset}
            )
            records = page.get("records") if isinstance(page, dict) else None
            if not isinstance(records, list):
                return None
            count = page.get("count")
            if isinstance(count, int) and not isinstance(count, bool):
                total = count if total is None else min(total, count)
            if not records:
                break
            for record in records:
                rid = record.get("_id") if isinstance(record, dict) else None
                if rid in (None, ""):
                    return None
                if str(rid) not in seen:
                    seen.add(str(rid))
                    ids.append(str(rid))
            offset += len(records)
        else:
            return None
        if total is not None and offset < total:
            return None  # the pages ended before the announced count: not the whole selection
    except CargoShellError:
        return None
    return (model_uuid, ids) if ids else None
