"""Cost estimates and staged rollout for batches.

A cost action over more than ``DEFAULT_THRESHOLD`` records on a workflow with connector
nodes (third-party APIs that rate-limit and bill) is proposed as stages of 1 → 50 → 500 →
all records (cumulative). Each stage is its own batch, awaited before the next; the rollout
stops when a stage's error rate passes the threshold. Only batches whose records can be
split without overlap are staged: inline ``records`` and ``recordIds``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    """Cumulative stage sizes, or None when the action is not staged."""
    data = values.get("data")
    if spec.name != "orchestration batch create" or est.records is None or est.records <= executor.rollout_over:
        return None
    if not isinstance(data, dict) or data.get("kind") not in _SPLIT_KEYS or values.get("nodes") is not None:
        return None
    wf = values.get("workflow-uuid")
    if not isinstance(wf, str) or not executor.lookups.connector_nodes(wf):
        return None
    return [s for s in STAGES if s < est.records] + [est.records]


def run_staged(executor: Executor, plan: Plan, outcome: Outcome, confirmer: Confirmer | None) -> None:
    assert plan.rollout
    spec = plan.spec
    values = arg_values(spec, plan.params)
    data = dict(values["data"])
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
