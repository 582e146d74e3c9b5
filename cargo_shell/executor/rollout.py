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
from cargo_shell.executor.events import Notice, StageFinished, StageStarted
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.plan import Estimate, Plan, arg_values
from cargo_shell.registry.spec import CommandSpec

if TYPE_CHECKING:
    from cargo_shell.executor.confirm import Confirmer
    from cargo_shell.executor.core import Executor
    from cargo_shell.executor.outcome import Outcome

DEFAULT_THRESHOLD = 50
DEFAULT_MAX_ERROR_RATE = 0.2
STAGES = (1, 50, 500)
_SPLIT_KEYS = {"records": "records", "recordIds": "ids"}
#: Page size of the id resolution (``fetchingLimit``), and a bound on the number of pages.
FETCH_PAGE = 500
MAX_PAGES = 2000
_ALL = {"conjonction": "and", "groups": []}


def record_count(spec: CommandSpec, values: dict[str, Any], lookups: Lookups | None) -> tuple[int | None, str]:
    data = values.get("data")
    if spec.name == "orchestration action execute-batch" and isinstance(values.get("records"), list):
        return len(values["records"]), "inline records"
    if spec.name in ("orchestration run create", "orchestration action execute"):
        return 1, "one record"
    if not isinstance(data, dict):
        return None, ""
    kind = data.get("kind")
    if kind in _SPLIT_KEYS and isinstance(data.get(_SPLIT_KEYS[kind]), list):
        return len(data[_SPLIT_KEYS[kind]]), f"{kind} in --data"
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
    wf = values.get("workflow-uuid")
    if isinstance(wf, str) and lookups is not None:
        per_record, why = lookups.credits_per_record(wf)
        if per_record is not None and records is not None:
            credits = round(per_record * records, 2)
        basis = "; ".join(b for b in (basis, why) if b)
    return Estimate(records, credits, basis)


def stages_for(executor: Executor, spec: CommandSpec, values: dict[str, Any], est: Estimate) -> list[int] | None:
    """Cumulative stage sizes for inline records or record ids, or None when not staged."""
    data = values.get("data")
    if not isinstance(data, dict) or data.get("kind") not in _SPLIT_KEYS:
        return None
    return _stages(executor, spec, values, est.records)


def _stages(executor: Executor, spec: CommandSpec, values: dict[str, Any], count: int | None) -> list[int] | None:
    if spec.name != "orchestration batch create" or count is None or count <= executor.rollout_over:
        return None
    if values.get("nodes") is not None:
        return None
    wf = values.get("workflow-uuid")
    if not isinstance(wf, str) or not executor.lookups.connector_nodes(wf):
        return None
    return [s for s in STAGES if s < count] + [count]


def plan_rollout(executor: Executor, plan: Plan, values: dict[str, Any]) -> None:
    """Set the estimate and, when the batch is staged, the stages of a cost action's plan."""
    spec = plan.spec
    plan.estimate = estimate(spec, values, executor.lookups)
    plan.rollout = stages_for(executor, spec, values, plan.estimate)
    data = values.get("data")
    if plan.rollout or not isinstance(data, dict) or data.get("kind") not in ("segment", "filter"):
        return
    # Resolving pages through every record: only done when the batch could be staged at all.
    could_stage = _stages(executor, spec, values, executor.rollout_over + 1) is not None
    if not could_stage or not _record_ids_allowed(executor, spec, values):
        return
    resolved = resolve_record_ids(executor, data)
    if resolved is None:
        return
    model_uuid, ids = resolved
    what = "segment" if data["kind"] == "segment" else "filter"
    basis = f"{len(ids)} record id(s) resolved from the {what}"
    per_record, why = executor.lookups.credits_per_record(str(values.get("workflow-uuid")))
    credits = round(per_record * len(ids), 2) if per_record is not None else None
    plan.estimate = Estimate(len(ids), credits, f"{basis}; {why}" if why else basis)
    stages = _stages(executor, spec, values, len(ids))
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


def _record_ids_allowed(executor: Executor, spec: CommandSpec, values: dict[str, Any]) -> bool:
    """Whether the catalogue lets this workflow's batches take ``recordIds`` data."""
    kinds = spec.extra.get("batch_data_kinds")
    if not isinstance(kinds, dict):
        return False
    wf_kind, _ = executor.lookups.workflow(str(values.get("workflow-uuid")))
    key = "allowed_for_play" if wf_kind == "play" else "allowed_for_tool_or_no_workflow" if wf_kind else None
    allowed = kinds.get(key) if key else None
    return isinstance(allowed, list) and "recordIds" in allowed


def resolve_record_ids(executor: Executor, data: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(model UUID, record ids) selected by segment or filter batch data, or None if unknown.

    Reads go through the executor's read path (deny rules apply; counted as lookups); any failure, a record
    without ``_id`` or a paging that does not add up gives None (the batch is then not staged).
    """
    try:
        if data.get("kind") == "segment":
            segment = executor.lookups.read_fresh("segmentation segment get", {"segment-uuid": data.get("segmentUuid")})
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
            page = executor.lookups.read_fresh(
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


def run_staged(executor: Executor, plan: Plan, outcome: Outcome, confirmer: Confirmer | None) -> None:
    assert plan.rollout
    spec = plan.spec
    values = arg_values(spec, plan.params)
    data = dict(plan.rollout_data if plan.rollout_data is not None else values["data"])
    key = _SPLIT_KEYS[data["kind"]]
    items = list(data[key])
    sent = 0
    stopped = False
    any_failed = 0
    for index, upto in enumerate(plan.rollout, start=1):
        chunk = items[sent:upto]
        executor.emit(StageStarted(index, len(plan.rollout), len(chunk), len(items)))
        stage_params = executor.validate(spec, {**values, "data": {**data, key: chunk}})
        stage_plan = executor.plan(spec, stage_params)
        stage_plan.rollout = None
        stage = type(outcome)(spec, stage_params, plan=stage_plan, approval=outcome.approval)
        executor._execute(stage_plan, stage, None, True, confirmer)
        outcome.request_ids += stage.request_ids
        sent = upto
        _, failed, total = _counts(stage)
        failed = failed or 0
        any_failed += failed
        executor.emit(StageFinished(index, len(plan.rollout), len(chunk), failed, stage.job_status or "unknown"))
        outcome.stages.append(
            {"stage": index, "records": len(chunk), "jobId": stage.job_id, "status": stage.job_status, "failed": failed}
        )
        outcome.credits = (outcome.credits or 0.0) + (stage.credits or 0.0)
        outcome.job, outcome.job_id, outcome.job_kind = stage.job, stage.job_id, stage.job_kind
        if stage.detached:
            outcome.detached = True
            stopped = True
            break
        rate = failed / max(total or len(chunk), 1)
        if stage.job_status != "success" or rate > executor.rollout_max_error_rate:
            stopped = sent < len(items)
            if stopped:
                text = (
                    f"Staged rollout stopped after stage {index}: {failed} of {len(chunk)} record(s) failed "
                    f"(status {stage.job_status}); {len(items) - sent} record(s) were not sent."
                )
                outcome.notices.append(text)
                executor.emit(Notice(text, "warning"))
            break
    outcome.job_status = "error" if stopped and not outcome.detached else outcome.job_status
    outcome.partial_failure = any_failed > 0
    outcome.data = {
        "stages": outcome.stages,
        "sentRecords": sent,
        "totalRecords": len(items),
        "stoppedEarly": stopped,
        "batch": outcome.job,
    }


def _counts(stage: Outcome) -> tuple[int | None, int | None, int | None]:
    from cargo_shell.executor.polling import job_counts

    return job_counts(stage.job)
