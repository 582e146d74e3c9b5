"""Following background jobs: record them the moment they are accepted, wait, cancel, re-attach, refresh.

Once the API has accepted a run, batch or message, it exists and may spend credits whatever happens
to this process. So the job is written to the job store before anything else is done with the
response, and every later failure (polls that fail, the network gone, Ctrl-C, SIGTERM, SIGHUP)
is reported as "the job exists: re-attach with ``cargo-shell jobs wait ID``" (:class:`JobPending`,
:class:`JobInterrupted`, exit 5), never as a plain failure that a script would retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError, Declined, JobInterrupted, JobPending, NetworkError, RequestError
from cargo_shell.executor.audit import new_action_id
from cargo_shell.executor.confirm import Approval, Confirmer, InterruptAware, InterruptChoice
from cargo_shell.executor.events import JobStarted, Notice
from cargo_shell.executor.jobstore import GONE, JobRecord
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import Plan
from cargo_shell.executor.polling import Poller, WaitResult, dig, job_counts
from cargo_shell.registry.jobs import JobKind

if TYPE_CHECKING:
    from cargo_shell.executor.pipeline import Executor

#: At most this many unfinished jobs are refreshed from the API per listing (one GET each, no retries).
REFRESH_LIMIT = 10


def wait_command(job_id: str) -> str:
    return f"cargo-shell jobs wait {job_id}"


def job_fields(kind: JobKind, plan: Plan, job: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of the job its kind's cancel template needs: from the job object, else from the
    argument of the command that sent that field (``--workflow-uuid`` for ``workflowUuid``)."""
    out: dict[str, Any] = {}
    for name in kind.job_fields:
        value = job.get(name) if job is not None else None
        if not value:
            arg = next((a for a in plan.spec.args if (a.field or a.attr) == name), None)
            value = plan.values.get(arg.name) if arg is not None else None
        if value:
            out[name] = value
    return out


def started_event(plan: Plan, outcome: Outcome) -> JobStarted:
    """The event of an accepted job; ``total`` for jobs that count runs (batches): the API's count,
    else the records sent (the API counts a batch's runs only once it starts)."""
    assert outcome.job_id and outcome.job_kind
    expected = None
    if isinstance(outcome.job, dict) and "runsCount" in outcome.job:
        expected = job_counts(outcome.job)[2] or (plan.estimate.records if plan.estimate else None)
    return JobStarted(outcome.job_kind, outcome.job_id, plan.spec.name, expected or None)


def _stage_records(plan: Plan) -> int:
    args = plan.spec.holding("batch-data")
    data = plan.values.get(args[0].name) if args else None
    if isinstance(data, dict):
        for key in ("records", "ids"):
            if isinstance(data.get(key), list):
                return len(data[key])
    return 0


def pending_report(outcome: Outcome, reason: str) -> dict[str, Any]:
    """The machine form of "this job exists and was not followed to its end"."""
    assert outcome.job_id
    report: dict[str, Any] = {
        "jobId": outcome.job_id,
        "kind": outcome.job_kind,
        "lastStatus": outcome.job_status,
        "reason": reason,
        "waitCommand": wait_command(outcome.job_id),
        "actionId": outcome.action_id,
    }
    if outcome.stages:
        report["rollout"] = {k: v for k, v in (outcome.data or {}).items() if k != "jobPending"}
    return report


def _lost_message(outcome: Outcome, why: str) -> str:
    kind = outcome.job_kind or "job"
    return (
        f"{kind} {outcome.job_id} was started and may still be running, but {why}. It is not lost: "
        f"do not re-run the command (that would start another {kind}); re-attach with "
        f"{wait_command(outcome.job_id or '')}"
    )


def job_pending(outcome: Outcome, why: str) -> JobPending:
    return JobPending(
        _lost_message(outcome, why),
        pending=pending_report(outcome, why),
        hint=f"Re-attach: {wait_command(outcome.job_id or '')}",
    )


def _cause(exc: CargoShellError) -> str:
    status = getattr(exc, "status", None)
    return f"{exc.message}, HTTP {status}" if status and f"HTTP {status}" not in exc.message else exc.message


def credits_of(job: Any) -> float | None:
    if not isinstance(job, dict):
        return None
    if isinstance(job.get("creditsUsedCount"), int | float):
        return float(job["creditsUsedCount"])
    executions = job.get("executions")
    if isinstance(executions, list):
        spent = [e.get("creditsUsedCount") for e in executions if isinstance(e, dict)]
        return float(sum(s for s in spent if isinstance(s, int | float)))
    return None


def outcome_label(outcome: Outcome) -> str:
    if outcome.detached:
        return "detached"
    if outcome.cancelled:
        return "cancelled"
    if outcome.job_status == "error":
        return "job-error"
    if outcome.partial_failure:
        return "partial-failure"
    return "ok"


class JobTracker:
    """Follows the jobs the executor starts: records them when accepted, waits, cancels, re-attaches, refreshes."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self._refreshed_at: float | None = None

    def track(self, plan: Plan, outcome: Outcome, data: Any) -> None:
        """Note the job the API just accepted: in the job store first, then on the outcome."""
        executor = self.executor
        spec = plan.spec
        assert spec.job is not None
        job_id = dig(data, spec.job.id_path)
        if not isinstance(job_id, str) or not job_id:
            return
        kind = executor.registry.job_kind(spec.job.kind)
        job = dig(data, spec.job.id_path.rsplit(".", 1)[0]) if "." in spec.job.id_path else None
        job = job if isinstance(job, dict) else None
        status = str(dig(job, "status") or "pending")
        if executor.jobs is not None:
            detail: dict[str, Any] = {"actionId": outcome.action_id, **job_fields(kind, plan, job)}
            if outcome.stage is not None:
                detail["stage"], detail["stages"] = outcome.stage
            executor.jobs.record_start(
                job_id=job_id,
                kind=kind.kind,
                command=spec.name,
                command_line=plan.command_line,
                profile=executor.context.profile,
                base_url=executor.context.base_url,
                workspace_uuid=executor.context.workspace_uuid,
                status=status,
                detail=detail,
            )
        outcome.job_id, outcome.job_kind, outcome.job, outcome.job_status = job_id, kind.kind, job, status
        if outcome.stage is not None and executor.audit is not None:
            executor.audit.stage(
                action_id=outcome.action_id,
                command=spec.name,
                effect=plan.effect,
                stage=outcome.stage[0],
                stages=outcome.stage[1],
                records=_stage_records(plan),
                job_ids=[job_id],
                request_ids=list(outcome.request_ids),
                front_end=executor.context.front_end,
            )

    def wait(self, outcome: Outcome, confirmer: Confirmer | None = None) -> WaitResult:
        """Poll ``outcome``'s job to the end (or until the user detaches); updates ``outcome``.

        A failure to read the job's status (after the retries) raises :class:`JobPending`.
        """
        executor = self.executor
        assert outcome.job_id and outcome.job_kind
        kind = executor.registry.job_kind(outcome.job_kind)
        fields = {name: (outcome.job or {}).get(name) for name in kind.job_fields}
        if not all(fields.values()) and executor.jobs is not None:
            record = executor.jobs.get(outcome.job_id)
            fields = {name: fields[name] or (record.detail.get(name) if record else None) for name in fields}

        def on_interrupt(kind_name: str, job_id: str) -> InterruptChoice:
            if isinstance(confirmer, InterruptAware):
                return confirmer.on_interrupt(kind_name, job_id)
            return "detach"

        def on_update(job_id: str, status: str, job: Any, terminal: bool) -> None:
            outcome.job_status = status
            if executor.jobs is not None:
                done, failed, total = job_counts(job)
                executor.jobs.update(job_id, status=status, done=done, failed=failed, total=total, finished=terminal)

        poller = Poller(
            fetch=lambda job_id: executor.read(kind.get_command, {kind.get_id_arg: job_id}),
            cancel=(lambda job_id: self.cancel(kind, job_id, fields, outcome)) if kind.cancel_command else None,
            sleep=executor.sleep,
            clock=executor.clock,
            emit=executor.emit,
            on_interrupt=on_interrupt,
            on_update=on_update,
        )
        try:
            result = poller.wait(kind, outcome.job_id, every_s=outcome.plan.poll_interval_s if outcome.plan else None)
        except JobPending:
            raise
        except CargoShellError as exc:
            raise job_pending(outcome, f"its status could not be read ({_cause(exc)})") from exc
        job = dig(result.data, kind.response_key)
        if result.data is not None:
            outcome.data = result.data
        outcome.job = job if isinstance(job, dict) else outcome.job
        outcome.job_status = result.status or outcome.job_status
        outcome.detached, outcome.cancelled = result.detached, result.cancelled
        _, failed, total = job_counts(outcome.job)
        if outcome.job_status == "success" and failed:
            outcome.partial_failure = True
            text = f"{kind.kind} {outcome.job_id} ended success but {failed} of {total} run(s) failed"
            outcome.notices.append(text)
            executor.emit(Notice(text, "warning"))
        if result.detached:
            again = wait_command(outcome.job_id)
            text = f"Stopped waiting; {kind.kind} {outcome.job_id} keeps running. Re-attach: {again}"
            outcome.notices.append(text)
            executor.emit(Notice(text, "warning"))
            if isinstance(outcome.data, dict) or outcome.data is None:
                outcome.data = {**(outcome.data or {}), "jobPending": pending_report(outcome, "detached")}
        outcome.credits = credits_of(outcome.job)
        return result

    def cancel(self, kind: JobKind, job_id: str, fields: dict[str, Any], outcome: Outcome) -> None:
        """Cancel a job the user is waiting for (they chose "cancel" after Ctrl-C); audited as its own action."""
        executor = self.executor
        raw = kind.cancel_args(job_id, fields)
        assert kind.cancel_command is not None
        spec = executor.registry.get(kind.cancel_command)
        params = executor.validate(spec, raw)
        plan = executor.plan(spec, params)
        verdict = executor.policy.decide(plan)
        if verdict.kind == "deny":
            raise Declined(f"Not cancelled: {verdict.reason}", decided_by="rule")
        cancel_outcome = Outcome(
            spec, params, plan=plan, approval=Approval("yes", source="user"), action_id=new_action_id()
        )
        executor.send(executor.request_for(spec, params), cancel_outcome, unsafe=False)
        outcome.request_ids += cancel_outcome.request_ids
        executor.audit_outcome(cancel_outcome, "cancelled-by-user", extra={"causedBy": outcome.action_id})

    def attach(self, job_id: str, kind: str, *, confirmer: Confirmer | None = None) -> Outcome:
        """Re-attach to a tracked job (``cargo-shell jobs wait``), poll it to the end and complete its audit."""
        executor = self.executor
        job_kind = executor.registry.job_kind(kind)
        get_spec = executor.registry.get(job_kind.get_command)
        params = executor.validate(get_spec, {job_kind.get_id_arg: job_id})
        record = executor.jobs.get(job_id) if executor.jobs else None
        action_id = str(record.detail.get("actionId") or "") if record else ""
        outcome = Outcome(get_spec, params, job_id=job_id, job_kind=kind, action_id=action_id or new_action_id())
        outcome.job_status = record.status if record else None
        known = {name: record.detail[name] for name in job_kind.job_fields if record and record.detail.get(name)}
        if known:
            outcome.job = known
        origin = executor.registry.get(record.command) if record and record.command in executor.registry else get_spec
        via: dict[str, Any] = {"via": "jobs wait"}
        if record is not None and record.detail.get("stage"):
            via["stage"] = record.detail["stage"]
        try:
            self.wait(outcome, confirmer or executor.confirmer)
        except JobPending as exc:
            exc.outcome = outcome
            executor.audit_outcome(outcome, "wait-failed", error=exc.message, spec=origin, extra=via)
            raise
        except KeyboardInterrupt as exc:
            name = getattr(exc, "name", None)
            executor.audit_outcome(outcome, "terminated" if name else "interrupted", error=name, spec=origin, extra=via)
            if isinstance(exc, JobInterrupted):
                raise
            raise self.interrupted(outcome, name) from exc
        executor.audit_outcome(outcome, outcome_label(outcome), spec=origin, extra=via)
        return outcome

    def interrupted(self, outcome: Outcome, signal_name: str | None) -> JobInterrupted:
        """An interrupt after the job was accepted: mark the outcome detached and say how to re-attach."""
        executor = self.executor
        outcome.detached = True
        why = f"{signal_name} stopped this process" if signal_name else "it was interrupted"
        text = (
            f"Stopped waiting ({signal_name or 'interrupted'}); {outcome.job_kind} {outcome.job_id} keeps running. "
            f"Re-attach: {wait_command(outcome.job_id or '')}"
        )
        outcome.notices.append(text)
        executor.emit(Notice(text, "warning"))
        error = JobInterrupted(
            _lost_message(outcome, why), pending=pending_report(outcome, why), signal_name=signal_name
        )
        error.outcome = outcome
        return error

    def refresh(self, *, limit: int = REFRESH_LIMIT, every_s: float = 0.0) -> int:
        """Bring unfinished job records of this target up to date from the API; returns how many changed.

        Cheap and bounded: at most ``limit`` records (the newest), one GET each without retries, and the
        first network failure stops the round. A job the API answers 404 for is marked ``gone`` (e.g.
        after a sandbox reset). A job found finished gets its audit outcome line. ``every_s``: do nothing
        if this tracker's last refresh is more recent (the shell's toolbar).
        """
        executor = self.executor
        now = executor.clock()
        if self._refreshed_at is not None and now - self._refreshed_at < every_s:
            return 0
        self._refreshed_at = now
        store = executor.jobs
        if store is None:
            return 0
        ctx = executor.context
        mine = [
            r
            for r in store.list(limit=200, active_only=True)
            if (r.profile, r.base_url, r.workspace_uuid) == (ctx.profile, ctx.base_url, ctx.workspace_uuid)
            and r.kind in executor.registry.job_kinds
        ]
        changed = 0
        for record in mine[:limit]:
            kind = executor.registry.job_kind(record.kind)
            try:
                data = executor.read(kind.get_command, {kind.get_id_arg: record.job_id}, attempts=1)
            except RequestError as exc:
                if exc.status == 404:
                    store.update(record.job_id, status=GONE, finished=True)
                    self._complete(record, GONE, None, error="the API no longer knows this job (404)")
                    changed += 1
                continue
            except NetworkError:
                break
            except CargoShellError:
                continue
            job = dig(data, kind.response_key)
            status = dig(job, "status")
            if not isinstance(status, str):
                continue
            done, failed, total = job_counts(job)
            terminal = status in kind.terminal
            if (
                status != record.status
                or terminal
                or (done, failed, total) != (record.done, record.failed, record.total)
            ):
                store.update(record.job_id, status=status, done=done, failed=failed, total=total, finished=terminal)
                changed += 1
            if terminal:
                self._complete(record, status, job)
        return changed

    def _complete(self, record: JobRecord, status: str, job: Any, *, error: str | None = None) -> None:
        """The audit outcome line of a job found finished by a listing (refers to the job's action id)."""
        executor = self.executor
        if executor.audit is None or record.command not in executor.registry:
            return
        spec = executor.registry.get(record.command)
        _, failed, _ = job_counts(job)
        label = {"success": "partial-failure" if failed else "ok", "error": "job-error", GONE: GONE}.get(status, status)
        executor.audit.outcome(
            action_id=str(record.detail.get("actionId") or new_action_id()),
            command=spec.name,
            effect=spec.effect,
            outcome=label,
            request_ids=[],
            job_ids=[record.job_id],
            credits=credits_of(job),
            front_end=executor.context.front_end,
            error=error,
            extra={"via": "jobs list"},
        )
