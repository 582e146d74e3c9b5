"""The one path from any front end to the Cargo API.

``Executor.run(spec, params)`` goes ``validate → guard → plan → confirm → send (with
retries) → poll → outcome`` and writes the audit log. The CLI, the REPL and the agent all
call it; nothing else talks to the HTTP client. Front ends differ only in what they inject:
a :class:`Confirmer` (who is asked), an event sink (how progress is shown) and the policy
flags (``--yes``).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from pydantic import BaseModel

from cargo_shell.api.client import ApiResponse, CargoClient
from cargo_shell.api.request import ApiRequest, apply_client_filters, build_request
from cargo_shell.errors import ApprovalRequired, CargoShellError, Declined, UsageError
from cargo_shell.executor import rollout
from cargo_shell.executor.audit import AuditLog
from cargo_shell.executor.confirm import Approval, Confirmer, InterruptAware, InterruptChoice
from cargo_shell.executor.events import Event, EventSink, JobStarted, Notice
from cargo_shell.executor.guards import apply_guards, post_process
from cargo_shell.executor.jobstore import JobStore
from cargo_shell.executor.local_paths import PathRules, Proposer
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import Plan, Touch, command_line, given_values, unsent_args
from cargo_shell.executor.policy import Policy
from cargo_shell.executor.polling import Poller, WaitResult, dig, job_counts
from cargo_shell.executor.retry import RetryConfig, Sender, creates_or_spends
from cargo_shell.registry import CommandSpec, get_registry
from cargo_shell.registry.jobs import JOB_KINDS
from cargo_shell.secrets import KNOWN
from cargo_shell.validation import validate_params


@dataclass
class RunContext:
    """Where actions run, for the audit log and the job store."""

    profile: str = "default"
    workspace_uuid: str | None = None
    base_url: str = ""
    front_end: str = "cli"


class Executor:
    """Runs registry commands under the confirmation policy.

    ``policy`` defaults to the built-in defaults with no rules (writes, destructive and cost
    actions need approval); with no ``confirmer`` such actions raise :class:`ApprovalRequired`.
    ``checks=False`` turns off guards and workspace lookups (request-shape tests only).
    """

    def __init__(
        self,
        client: CargoClient,
        *,
        policy: Policy | None = None,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        jobs: JobStore | None = None,
        audit: AuditLog | None = None,
        retry: RetryConfig | None = None,
        context: RunContext | None = None,
        checks: bool = True,
        rollout_over: int = rollout.DEFAULT_THRESHOLD,
        rollout_max_error_rate: float = rollout.DEFAULT_MAX_ERROR_RATE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        notice: Callable[[str], None] | None = None,
        rng: random.Random | None = None,
        local_paths: PathRules | None = None,
    ) -> None:
        self.client = client
        #: Where a local path the model proposes may point without asking (see ``local_paths``).
        self.local_paths = local_paths or PathRules()
        self.registry = get_registry()
        self.policy = policy or Policy()
        self.confirmer = confirmer
        self.jobs = jobs
        self.audit = audit
        self.context = context or RunContext(workspace_uuid=client.workspace_uuid, base_url=client.base_url)
        self.checks = checks
        self.rollout_over = rollout_over
        self.rollout_max_error_rate = rollout_max_error_rate
        self.sleep = sleep
        self.clock = clock
        self._events = events
        #: Extra sinks for the duration of one call (``run(events=...)``, :meth:`events_to`).
        self._call_sinks: tuple[EventSink, ...] = ()
        self._notice = notice
        self.sender = Sender(client, config=retry or RetryConfig(), sleep=sleep, clock=clock, emit=self.emit, rng=rng)
        self.lookups = Lookups(self.read)

    # -- events ---------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        for sink in self._call_sinks:
            sink(event)
        if self._events is not None:
            self._events(event)
        if self._notice is not None and isinstance(event, Notice):
            self._notice(event.message)

    @contextlib.contextmanager
    def events_to(self, sink: EventSink | None) -> Iterator[None]:
        """Also send every event to ``sink`` until the block ends (the front end's own sink stays)."""
        if sink is None:
            yield
            return
        previous = self._call_sinks
        self._call_sinks = (sink, *previous)
        try:
            yield
        finally:
            self._call_sinks = previous

    # -- the public steps -------------------------------------------------------------------
    def validate(self, spec: CommandSpec, raw: Mapping[str, Any]) -> BaseModel:
        return validate_params(spec, raw)

    def request_for(self, spec: CommandSpec, params: BaseModel, values: dict[str, Any] | None = None) -> ApiRequest:
        return build_request(spec, params, values=values)

    def prepare(self, spec: CommandSpec, params: BaseModel | Mapping[str, Any], *, proposer: Proposer = "user") -> Plan:
        """Validate, apply the guards and build the plan. Sends only cheap lookups.

        ``proposer`` is who proposed the action ("model" for the agent's tool calls)."""
        if not isinstance(params, BaseModel):
            params = self.validate(spec, params)
        values = given_values(spec, params)
        notices: list[str] = []
        if self.checks:
            result = apply_guards(spec, values, self.lookups)
            if result.notices:
                params = self.validate(spec, result.values)
                values = given_values(spec, params)
                notices = result.notices
        return self._plan(spec, params, values, notices, proposer)

    def plan(self, spec: CommandSpec, params: BaseModel, *, notices: list[str] | None = None) -> Plan:
        return self._plan(spec, params, given_values(spec, params), list(notices or []))

    def _plan(
        self,
        spec: CommandSpec,
        params: BaseModel,
        values: dict[str, Any],
        notices: list[str],
        proposer: Proposer = "user",
    ) -> Plan:
        # The texts shown to people (command line, masked request) are built by the plan on
        # first use: a read that is allowed by default and not shown never needs them.
        api_request = None
        if spec.http is not None and not spec.http.steps:
            api_request = self.request_for(spec, params, values)
        plan = Plan(
            spec,
            params,
            notices=notices,
            wait=bool(values.get("wait-until-finished")),
            api_request=api_request,
            values=values,
            proposer=proposer,
        )
        if proposer == "model":
            plan.local_files = [
                self.local_paths.judge(a.name, str(values[a.name]))
                for a in spec.args
                if a.type == "file" and a.name in values
            ]
        for arg in unsent_args(spec):
            if arg.name in values:
                plan.notices.append(f"{arg.flag} has no field in the Cargo API and was not sent")
        if plan.effect != "read" and self.checks:
            plan.touches = self._touches(spec, values)
            if plan.effect == "cost":
                rollout.plan_rollout(self, plan, values)
        return plan

    def authorize(self, plan: Plan, confirmer: Confirmer | None = None) -> tuple[Plan, Approval]:
        """Apply the policy; ask ``confirmer`` when needed. Returns the (possibly edited) plan."""
        confirmer = confirmer or self.confirmer
        while True:
            verdict = self.policy.decide(plan)
            if verdict.kind == "deny":
                raise Declined(f"Not run: {verdict.reason}", hint="See `cargo-shell policy list`.")
            if verdict.kind == "allow":
                if verdict.source == "default":
                    return plan, _DEFAULT_APPROVAL
                rule_id = verdict.rule.id if verdict.rule else None
                return plan, Approval("yes", source=verdict.source, rule_id=rule_id)
            if verdict.hint:  # a stricter approval class: say why it asks, and what to do without a person
                plan.approval_note, plan.approval_hint = verdict.reason, verdict.hint
            if confirmer is None:
                raise ApprovalRequired(
                    f"approval required: `{plan.command}` is a {plan.effect} action and nobody can be asked "
                    "(no terminal). It was not run." + (f" It asks because {verdict.reason}." if verdict.hint else ""),
                    plan=plan.to_json(),
                    hint=verdict.hint
                    or f"Re-run with --yes to approve it, or allow it for this profile: "
                    f"cargo-shell policy allow '{plan.command}'",
                )
            answer = confirmer.confirm(plan)
            if answer.decision == "edit":
                try:
                    plan = self.prepare(plan.spec, answer.edited_args or {}, proposer=plan.proposer)
                except UsageError as exc:
                    self.emit(Notice(f"The edited arguments are not valid: {exc.message}", "warning"))
                continue
            if answer.decision == "always":
                self.policy.remember_always(plan.command)
            if answer.approved:
                return plan, Approval(answer.decision, source="user")
            raise Declined(f"Not run: you declined `{plan.command}`.")

    def run(
        self,
        spec: CommandSpec,
        params: BaseModel | Mapping[str, Any],
        *,
        download_to: IO[bytes] | None = None,
        wait: bool | None = None,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        proposer: Proposer = "user",
    ) -> Outcome:
        """Plan, authorize, send and (when asked) wait. Raises on refusal or failure.

        ``wait`` overrides the ``--wait-until-finished`` argument; ``confirmer`` overrides
        the executor's confirmer for this call (the agent passes its own); ``events`` also
        receives this call's events (the executor's own sink still gets them); ``proposer``
        is who proposed the action ("model" for the agent's tool calls).
        """
        if events is None:
            return self._run(spec, params, download_to, wait, confirmer, proposer)
        with self.events_to(events):
            return self._run(spec, params, download_to, wait, confirmer, proposer)

    def _run(
        self,
        spec: CommandSpec,
        params: BaseModel | Mapping[str, Any],
        download_to: IO[bytes] | None,
        wait: bool | None,
        confirmer: Confirmer | None,
        proposer: Proposer = "user",
    ) -> Outcome:
        if spec.http is None:
            raise UsageError(f"`{spec.name}` is handled by cargo-shell itself, not the API")
        plan = self.prepare(spec, params, proposer=proposer)
        for text in plan.notices:
            self.emit(Notice(text, "warning"))
        plan, approval = self.authorize(plan, confirmer)
        outcome = Outcome(plan.spec, plan.params, plan=plan, approval=approval, notices=list(plan.notices))
        should_wait = plan.wait if wait is None else wait
        try:
            if plan.rollout:
                rollout.run_staged(self, plan, outcome, confirmer or self.confirmer)
            else:
                self._execute(plan, outcome, download_to, should_wait, confirmer or self.confirmer)
        except CargoShellError as exc:
            self._audit(outcome, "error", error=exc.message)
            raise
        except KeyboardInterrupt:
            self._audit(outcome, "interrupted")
            raise
        self._audit(outcome, _outcome_label(outcome))
        return outcome

    # -- internals --------------------------------------------------------------------------
    def _execute(
        self,
        plan: Plan,
        outcome: Outcome,
        download_to: IO[bytes] | None,
        wait: bool,
        confirmer: Confirmer | None,
    ) -> None:
        spec, params = plan.spec, plan.params
        assert spec.http is not None
        if spec.http.steps:
            merged: dict[str, Any] = {}
            for step in spec.http.steps:
                resp = self.send(ApiRequest("GET", step.path), outcome, unsafe=False)
                merged[step.key] = dig(resp.data, step.key) if isinstance(resp.data, dict) else resp.data
            outcome.data = merged
            return
        unsafe = creates_or_spends(spec, plan.effect)
        check = self.check_command(spec, plan.values) if unsafe else None
        request = plan.api_request if plan.api_request is not None else self.request_for(spec, params)
        resp = self.send(request, outcome, unsafe=unsafe, check=check)
        if plan.effect != "read":
            # a secret the API hands back (a token just created) is masked by value from now on;
            # what reads return is learned by the masker when it hides it on its way out
            outcome.revealed += KNOWN.learn(resp.data)
        outcome.data = post_process(spec, apply_client_filters(spec, params, resp.data, values=plan.values))
        if spec.download and download_to is not None:
            outcome.data = self._download(outcome.data, download_to)
        if spec.job is not None:
            self._track(plan, outcome)
            if wait and outcome.job_id:
                self.wait_for(outcome, confirmer)

    def send(self, req: ApiRequest, outcome: Outcome | None, *, unsafe: bool, check: str | None = None) -> ApiResponse:
        resp = self.sender.send(req, unsafe=unsafe, check_command=check)
        if outcome is not None and resp.request_id:
            outcome.request_ids.append(resp.request_id)
        return resp

    def read(self, command: str, raw: Mapping[str, Any]) -> Any:
        """An internal read (lookups, polls): deny rules apply, no confirmation, no audit line."""
        spec = self.registry.get(command)
        params = self.validate(spec, raw)
        plan = Plan(spec, params, request=None)
        verdict = self.policy.decide(plan)
        if verdict.kind != "allow":
            raise Declined(f"Not run: {verdict.reason}")
        resp = self.send(self.request_for(spec, params), None, unsafe=False)
        return apply_client_filters(spec, params, resp.data)

    def check_command(self, spec: CommandSpec, values: dict[str, Any]) -> str | None:
        """A read command that shows whether an ambiguous create/spend took effect."""
        candidates = [" ".join((*spec.words[:-1], "list"))]
        if spec.job is not None:
            candidates.append(
                f"orchestration {spec.job.kind} list" if spec.job.kind != "message" else "ai message list"
            )
        for name in candidates:
            if name not in self.registry:
                continue
            lst = self.registry.get(name)
            args: dict[str, Any] = {}
            for arg in lst.args:
                if arg.name in values and arg.type != "json":
                    args[arg.name] = values[arg.name]
                elif arg.type == "list" and arg.name.endswith("s") and arg.name[:-1] in values:
                    args[arg.name] = [values[arg.name[:-1]]]
            if any(a.name == "limit" for a in lst.args):
                args["limit"] = 10
            return command_line(lst, args)
        return None

    def _download(self, data: Any, sink: IO[bytes]) -> dict[str, Any]:
        urls: list[str] = []
        if isinstance(data, dict):
            if isinstance(data.get("url"), str):
                urls.append(data["url"])
            urls.extend(u for u in data.get("urls") or [] if isinstance(u, str))
        total = sum(self.client.stream_url(u, sink) for u in urls)
        sink.flush()
        return {"downloadedFiles": len(urls), "bytes": total}

    def _touches(self, spec: CommandSpec, values: dict[str, Any]) -> list[Touch]:
        """What the action names, by kind and name (kinds come from each argument's ``refers_to``)."""
        touches: list[Touch] = []
        for arg in spec.args:
            value = values.get(arg.name)
            if value is None:
                continue
            if arg.refers_to is not None:
                for uuid in value if isinstance(value, list) else [value]:
                    touches.append(self._touch(arg.refers_to, str(uuid)))
            elif arg.refers_to_keys and isinstance(value, dict):
                for key, kind in arg.refers_to_keys:
                    if isinstance(value.get(key), str):
                        touches.append(self._touch(kind, value[key]))
        return touches

    def _touch(self, kind: str, uuid: str) -> Touch:
        found = self.lookups.find(kind, uuid)
        if found is None:
            return Touch(kind, uuid)
        return Touch(kind, uuid, found.name or None, f"{found.label} {kind}" if found.label != kind else None)

    # -- jobs -------------------------------------------------------------------------------
    def _track(self, plan: Plan, outcome: Outcome) -> None:
        spec = plan.spec
        assert spec.job is not None
        job_id = dig(outcome.data, spec.job.id_path)
        if not isinstance(job_id, str) or not job_id:
            return
        kind = JOB_KINDS[spec.job.kind]
        job = dig(outcome.data, spec.job.id_path.rsplit(".", 1)[0]) if "." in spec.job.id_path else None
        outcome.job_id, outcome.job_kind = job_id, kind.kind
        outcome.job = job if isinstance(job, dict) else None
        outcome.job_status = str(dig(job, "status") or "pending")
        expected = None  # jobs that count runs (batches): the API's count, else the records sent
        if isinstance(job, dict) and "runsCount" in job:
            expected = job_counts(job)[2] or (plan.estimate.records if plan.estimate else None)
        self.emit(JobStarted(kind.kind, job_id, spec.name, expected or None))
        if self.jobs is not None:
            detail: dict[str, Any] = {}
            if isinstance(job, dict) and job.get("workflowUuid"):
                detail["workflowUuid"] = job["workflowUuid"]
            elif "workflow-uuid" in plan.values:
                detail["workflowUuid"] = plan.values["workflow-uuid"]
            self.jobs.record_start(
                job_id=job_id,
                kind=kind.kind,
                command=spec.name,
                command_line=plan.command_line,
                profile=self.context.profile,
                base_url=self.context.base_url,
                workspace_uuid=self.context.workspace_uuid,
                status=outcome.job_status,
                detail=detail,
            )

    def wait_for(self, outcome: Outcome, confirmer: Confirmer | None = None) -> WaitResult:
        """Poll ``outcome``'s job to the end (or until the user detaches); updates ``outcome``."""
        assert outcome.job_id and outcome.job_kind
        kind = JOB_KINDS[outcome.job_kind]
        workflow = (outcome.job or {}).get("workflowUuid") if outcome.job else None
        if workflow is None and self.jobs is not None:
            record = self.jobs.get(outcome.job_id)
            workflow = record.detail.get("workflowUuid") if record else None

        def on_interrupt(kind_name: str, job_id: str) -> InterruptChoice:
            if isinstance(confirmer, InterruptAware):
                return confirmer.on_interrupt(kind_name, job_id)
            return "detach"

        def on_update(job_id: str, status: str, job: Any, terminal: bool) -> None:
            if self.jobs is not None:
                done, failed, total = job_counts(job)
                self.jobs.update(job_id, status=status, done=done, failed=failed, total=total, finished=terminal)

        poller = Poller(
            fetch=lambda job_id: self.read(
                kind.get_command, {self.registry.get(kind.get_command).args[0].name: job_id}
            ),
            cancel=(lambda job_id: self._cancel(kind.kind, job_id, workflow, outcome)) if kind.cancel_command else None,
            sleep=self.sleep,
            clock=self.clock,
            emit=self.emit,
            on_interrupt=on_interrupt,
            on_update=on_update,
        )
        result = poller.wait(kind, outcome.job_id)
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
            self.emit(Notice(text, "warning"))
        if result.detached:
            text = (
                f"Stopped waiting; {kind.kind} {outcome.job_id} keeps running. "
                f"Re-attach: cargo-shell jobs wait {outcome.job_id}"
            )
            outcome.notices.append(text)
            self.emit(Notice(text, "warning"))
        outcome.credits = _credits(outcome.job)
        return result

    def _cancel(self, kind: str, job_id: str, workflow: str | None, outcome: Outcome) -> None:
        command = JOB_KINDS[kind].cancel_command
        assert command is not None
        spec = self.registry.get(command)
        raw: dict[str, Any] = (
            {"batch-uuid": job_id} if kind == "batch" else {"workflow-uuid": workflow, "uuids": [job_id]}
        )
        params = self.validate(spec, raw)
        plan = self.plan(spec, params)
        if self.policy.decide(plan).kind == "deny":
            raise Declined(f"Not cancelled: {self.policy.decide(plan).reason}")
        cancel_outcome = Outcome(spec, params, plan=plan, approval=Approval("yes", source="user"))
        self.send(self.request_for(spec, params), cancel_outcome, unsafe=False)
        outcome.request_ids += cancel_outcome.request_ids
        self._audit(cancel_outcome, "cancelled-by-user")

    def attach(self, job_id: str, kind: str, *, confirmer: Confirmer | None = None) -> Outcome:
        """Re-attach to a tracked job (``cargo-shell jobs wait``) and poll it to the end."""
        get_spec = self.registry.get(JOB_KINDS[kind].get_command)
        params = self.validate(get_spec, {get_spec.args[0].name: job_id})
        outcome = Outcome(get_spec, params, job_id=job_id, job_kind=kind)
        record = self.jobs.get(job_id) if self.jobs else None
        if record is not None and record.detail.get("workflowUuid"):
            outcome.job = {"workflowUuid": record.detail["workflowUuid"]}
        self.wait_for(outcome, confirmer or self.confirmer)
        return outcome

    def _audit(self, outcome: Outcome, label: str, *, error: str | None = None) -> None:
        if self.audit is None:
            return
        plan = outcome.plan
        values = plan.values if plan is not None and plan.params is outcome.params else None
        self.audit.record(
            command=outcome.spec.name,
            effect=plan.effect if plan is not None else outcome.spec.effect,
            arguments=values if values is not None else given_values(outcome.spec, outcome.params),
            outcome=label,
            approval=outcome.approval.source if outcome.approval else None,
            request_ids=list(outcome.request_ids),
            job_ids=[outcome.job_id] if outcome.job_id else [s["jobId"] for s in outcome.stages if s.get("jobId")],
            credits=outcome.credits,
            error=error,
            front_end=self.context.front_end,
        )


_DEFAULT_APPROVAL = Approval("yes", source="default")


def _credits(job: Any) -> float | None:
    if not isinstance(job, dict):
        return None
    if isinstance(job.get("creditsUsedCount"), int | float):
        return float(job["creditsUsedCount"])
    executions = job.get("executions")
    if isinstance(executions, list):
        spent = [e.get("creditsUsedCount") for e in executions if isinstance(e, dict)]
        return float(sum(s for s in spent if isinstance(s, int | float)))
    return None


def _outcome_label(outcome: Outcome) -> str:
    if outcome.detached:
        return "detached"
    if outcome.cancelled:
        return "cancelled"
    if outcome.job_status == "error":
        return "job-error"
    if outcome.partial_failure:
        return "partial-failure"
    return "ok"
