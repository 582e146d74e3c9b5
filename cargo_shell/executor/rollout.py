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
from cargo_shell.executor import tracking
from cargo_shell.executor.events import Notice, StageFinished, StageStarted
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.plan import Estimate, Plan, arg_values, command_line
from cargo_shell.executor.polling import job_counts
from cargo_shell.executor.retry import WriteOutcomeUnknown
from cargo_shell.registry.spec import ArgSpec, CommandSpec

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
    if isinstance(kind, str) and kind in _SPLIT_KEYS and isinstance(data.get(_SPLIT_KEYS[kind]), list):
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
    workflow = spec.referring_to("workflow")
    wf = values.get(workflow.name) if workflow is not None else None
    if isinstance(wf, str) and lookups is not None:
        per_record, why = lookups.credits_per_record(wf)
        if per_record is not None and records is not None:
            credits = round(per_record * records, 2)
        basis = "; ".join(b for b in (basis, why) if b)
    return Estimate(records, credits, basis)


def stages_for(executor: Executor, spec: CommandSpec, values: dict[str, Any], est: Estimate) -> list[int] | None:
    """Cumulative stage sizes for inline records or record ids, or None when not staged."""
    arg = batch_data_arg(spec)
    data = values.get(arg.name) if arg is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in _SPLIT_KEYS:
        return None
    if not isinstance(data.get(_SPLIT_KEYS[data["kind"]]), list):
        return None
    return _stages(executor, spec, values, est.records)


def _stages(executor: Executor, spec: CommandSpec, values: dict[str, Any], count: int | None) -> list[int] | None:
    rollout = spec.rollout
    if rollout is None or batch_data_arg(spec) is None or count is None or count <= executor.rollout_over:
        return None
    if any(values.get(name) is not None for name in rollout.not_with):
        return None
    workflow = spec.referring_to("workflow")
    wf = values.get(workflow.name) if workflow is not None else None
    if not isinstance(wf, str) or not executor.lookups.connector_nodes(wf):
        return None
    return [s for s in STAGES if s < count] + [count]


def plan_rollout(executor: Executor, plan: Plan, values: dict[str, Any]) -> None:
    """Set the estimate and, when the batch is staged, the stages of a cost action's plan."""
    spec = plan.spec
    plan.estimate = estimate(spec, values, executor.lookups)
    plan.rollout = stages_for(executor, spec, values, plan.estimate)
    arg = batch_data_arg(spec)
    data = values.get(arg.name) if arg is not None else None
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
    workflow = spec.referring_to("workflow")
    per_record, why = executor.lookups.credits_per_record(str(values.get(workflow.name) if workflow else None))
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
    workflow = spec.referring_to("workflow")
    wf_kind, _ = executor.lookups.workflow(str(values.get(workflow.name) if workflow else None))
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
    """Send the stages one by one, each awaited; ``outcome`` then reports the whole rollout.

    Whatever ends it (the last stage, a failing stage, the user detaching, an interrupt, a stage that
    cannot be sent or followed), ``outcome.stages`` says which stages were sent (job ids, statuses,
    runs, failures, credits) and which were not, and ``outcome.data`` sums them up.
    """
    assert plan.rollout
    spec = plan.spec
    values = arg_values(spec, plan.params)
    arg = batch_data_arg(spec)
    assert arg is not None
    data = dict(plan.rollout_data if plan.rollout_data is not None else values[arg.name])
    key = _SPLIT_KEYS[data["kind"]]
    items = list(data[key])
    bounds = list(zip([0, *plan.rollout], plan.rollout, strict=False))
    outcome.stages = [{"stage": i, "records": b - a, "sent": False} for i, (a, b) in enumerate(bounds, start=1)]
    run = _Rollout(executor, plan, outcome, values, arg.name, data, key, items)
    try:
        for index, (start, upto) in enumerate(bounds, start=1):
            if not run.stage(index, items[start:upto], upto, confirmer):
                break
    except BaseException:
        run.broken = True
        raise
    finally:
        run.summarise()


class _Rollout:
    """The state of one staged rollout while it runs, and its summary."""

    def __init__(
        self,
        executor: Executor,
        plan: Plan,
        outcome: Outcome,
        values: dict[str, Any],
        split_arg: str,
        data: dict[str, Any],
        key: str,
        items: list[Any],
    ) -> None:
        self.executor, self.plan, self.outcome = executor, plan, outcome
        self.values, self.split_arg, self.data, self.key, self.items = values, split_arg, data, key, items
        self.sent = 0
        self.stop_reason: str | None = None
        self.broken = False

    def stage(self, index: int, chunk: list[Any], upto: int, confirmer: Confirmer | None) -> bool:
        """Send and await one stage; False when the rollout stops here."""
        executor, spec, outcome = self.executor, self.plan.spec, self.outcome
        count = len(outcome.stages)
        info = outcome.stages[index - 1]
        executor.emit(StageStarted(index, count, len(chunk), len(self.items)))
        stage_params = executor.validate(spec, {**self.values, self.split_arg: {**self.data, self.key: chunk}})
        stage_plan = executor.plan(spec, stage_params)
        stage_plan.rollout = None
        stage = type(outcome)(
            spec, stage_params, plan=stage_plan, approval=outcome.approval, action_id=outcome.action_id,
            stage=(index, count),
        )  # fmt: skip
        try:
            executor._execute(stage_plan, stage, None, True, confirmer)
        except CargoShellError as exc:
            if stage.job_id is not None or self.sent == 0:
                raise  # its wait failed (the job exists), or nothing was sent at all: a plain failure
            info["error"] = exc.message
            if isinstance(exc, WriteOutcomeUnknown):
                info["sent"] = "unknown"
                info["checkCommand"] = exc.check_command
            self.stop_reason = f"stage {index} could not be sent ({exc.message})"
            return False
        finally:
            self._take(info, stage, upto)
        failed = int(info.get("failed") or 0)
        executor.emit(StageFinished(index, count, len(chunk), failed, stage.job_status or "unknown"))
        if stage.detached:
            outcome.detached = True
            return False
        rate = failed / max(int(info.get("runs") or 0) or len(chunk), 1)
        if stage.job_status != "success" or rate > executor.rollout_max_error_rate:
            if upto < len(self.items):
                self.stop_reason = (
                    f"{failed} of {len(chunk)} record(s) failed in stage {index} (status {stage.job_status})"
                )
            return False
        return True

    def _take(self, info: dict[str, Any], stage: Outcome, upto: int) -> None:
        """Fold a stage's outcome into the rollout's (also when the stage raised)."""
        outcome = self.outcome
        outcome.request_ids += stage.request_ids
        outcome.notices += [n for n in stage.notices if n not in outcome.notices]
        if stage.job_id is None:
            return
        self.sent = upto
        _, failed, runs = job_counts(stage.job)
        info.update(
            sent=True, jobId=stage.job_id, status=stage.job_status, runs=runs, failed=failed or 0, credits=stage.credits
        )
        outcome.job, outcome.job_id, outcome.job_kind = stage.job, stage.job_id, stage.job_kind
        outcome.job_status = stage.job_status

    def summarise(self) -> None:
        plan, outcome = self.plan, self.outcome
        items, sent = self.items, self.sent
        done = [s for s in outcome.stages if s.get("sent") is True]
        spent = [float(s["credits"]) for s in done if isinstance(s.get("credits"), int | float)]
        failed = sum(int(s.get("failed") or 0) for s in done)
        outcome.credits = sum(spent) if spent else None
        outcome.partial_failure = failed > 0
        if outcome.detached or self.broken:
            status = "detached" if done else "not-sent"
        elif sent < len(items):
            status, outcome.job_status = "stopped", "error"
        elif any(s.get("status") != "success" for s in done):
            status, outcome.job_status = "error", "error"
        else:
            status = outcome.job_status = "success"
        summary: dict[str, Any] = {
            "status": status,
            "stages": outcome.stages,
            "totalRecords": len(items),
            "sentRecords": sent,
            "notSentRecords": len(items) - sent,
            "runs": sum(int(s.get("runs") or 0) for s in done),
            "failedRuns": failed,
            "credits": outcome.credits,
            "stoppedEarly": sent < len(items),
            "stopReason": self.stop_reason,
            "jobIds": [s["jobId"] for s in done],
        }
        rest = [s for s in outcome.stages if s.get("sent") is not True]
        if sent < len(items):
            summary["notSent"] = {
                "stages": [s["stage"] for s in rest],
                "records": len(items) - sent,
                "commandLine": self._command({**self.data, self.key: items[sent:]}),
            }
        outcome.data = summary
        if outcome.detached and outcome.job_id:
            summary["jobPending"] = tracking.pending_report(outcome, "detached")
        if sent == len(items):
            outcome.ran_command_line = plan.command_line
        else:  # what really ran: the records of the stages that were sent (nothing, if none was)
            outcome.ran_command_line = self._command({**self.data, self.key: items[:sent]}) if sent else ""
        if sent < len(items) and done:
            self._notice(done, rest)

    def _command(self, data: dict[str, Any]) -> str:
        return command_line(self.plan.spec, {**self.values, self.split_arg: data})

    def _notice(self, done: list[dict[str, Any]], rest: list[dict[str, Any]]) -> None:
        last = done[-1]
        if self.outcome.detached or self.broken:
            head = f"Staged rollout detached during stage {last['stage']} of {len(self.outcome.stages)}"
            tail = f" The sent batches keep running; re-attach: cargo-shell jobs wait {last['jobId']}."
        else:
            head = f"Staged rollout stopped after stage {last['stage']}: {self.stop_reason}"
            tail = ""
        unsent = sum(int(s["records"]) for s in rest)
        text = (
            f"{head}. Sent: {_describe(done)}. Not sent: {_describe(rest)} — {unsent} record(s) were not sent."
            f"{tail} The command for the records not sent is in the result (notSent.commandLine)."
        )
        self.outcome.notices.append(text)
        self.executor.emit(Notice(text, "warning"))


def _describe(stages: list[dict[str, Any]]) -> str:
    parts = []
    for s in stages:
        what = f"stage {s['stage']} ({s['records']} record{'s' if s['records'] != 1 else ''}"
        if s.get("jobId"):
            what += f", batch {s['jobId']}, {s.get('status')}"
        elif s.get("sent") == "unknown":
            what += ", may have been sent: check with " + str(s.get("checkCommand") or "orchestration batch list")
        parts.append(what + ")")
    return ", ".join(parts) or "nothing"
