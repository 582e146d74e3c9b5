"""The one path from any front end to the Cargo API: the pipeline (prepare → authorize → run).

``Executor.run(spec, params)``, or ``run(plan)`` for a plan already prepared and shown, goes ``validate →
guard → plan → confirm → send (with retries) → poll → outcome`` and writes the audit log as it goes.
CLI, REPL and agent all call it; they differ only in what they inject: a :class:`Confirmer`, an event
sink and the policy flags (``--yes``). Sending is :mod:`dispatch`, jobs the :class:`JobTracker`'s; rollouts
drive the pipeline through :class:`~cargo_shell.executor.rollout.BatchPort`."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from cargo_shell.api.client import ApiResponse, CargoClient
from cargo_shell.api.request import ApiRequest, apply_client_filters, build_request
from cargo_shell.errors import ApprovalRequired, CargoShellError, Declined, JobInterrupted, JobPending, UsageError
from cargo_shell.executor import audit_trail, rollout, staging
from cargo_shell.executor.audit import AuditLog, new_action_id
from cargo_shell.executor.confirm import Approval, Confirmer
from cargo_shell.executor.dispatch import dispatch
from cargo_shell.executor.events import Event, EventSink, Notice
from cargo_shell.executor.guards import apply_guards
from cargo_shell.executor.jobs import REFRESH_LIMIT, JobTracker, outcome_label, pending_report
from cargo_shell.executor.jobstore import JobStore
from cargo_shell.executor.local_paths import PathRules, Proposer
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import Plan, given_values, poll_interval_s, unsent_args, wants_wait
from cargo_shell.executor.planning import touches
from cargo_shell.executor.policy import Policy
from cargo_shell.executor.polling import WaitResult
from cargo_shell.executor.retry import RetryConfig, Sender
from cargo_shell.registry import CommandSpec, get_registry
from cargo_shell.validation import validate_params

if TYPE_CHECKING:
    from pydantic import BaseModel


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
        rollout_over: int = staging.DEFAULT_THRESHOLD,
        rollout_max_error_rate: float = staging.DEFAULT_MAX_ERROR_RATE,
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
        self._sleep = sleep
        self._clock = clock
        self._events = events
        #: Extra sinks for the duration of one call (``run(events=...)``, :meth:`events_to`).
        self._call_sinks: tuple[EventSink, ...] = ()
        self._notice = notice
        self.sender = Sender(client, config=retry or RetryConfig(), sleep=sleep, clock=clock, emit=self.emit, rng=rng)
        self.lookups = Lookups(self.read)
        #: Follows the jobs this executor starts (track, wait, cancel, attach, refresh).
        self.tracker = JobTracker(self)

    @property
    def sleep(self) -> Callable[[float], None]:
        """How this executor pauses (retries, polls, stages): given at construction, for every part."""
        return self._sleep

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

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
        if isinstance(params, Mapping):
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
            wait=wants_wait(spec, values),
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
        if spec.job is not None:
            plan.poll_interval_s = poll_interval_s(spec, values)
        for arg in unsent_args(spec):
            if arg.name in values:
                plan.notices.append(f"{arg.flag} has no field in the Cargo API and was not sent")
        if plan.effect != "read" and self.checks:
            plan.touches = touches(spec, values, self.lookups)
            if plan.effect == "cost":
                staging.plan_rollout(self, plan, values)
        return plan

    def authorize(self, plan: Plan, confirmer: Confirmer | None = None) -> tuple[Plan, Approval]:
        """Apply the policy; ask ``confirmer`` when needed. Returns the (possibly edited) plan."""
        confirmer = confirmer or self.confirmer
        while True:
            verdict = self.policy.decide(plan)
            if verdict.kind == "deny":
                raise Declined(
                    f"Not run: {verdict.reason}",
                    hint=verdict.hint or "See `cargo-shell policy list`.",
                    decided_by=verdict.source,
                    rule_id=verdict.rule.id if verdict.rule else None,
                )
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
                    yes = plan.assume_yes
                    plan = self.prepare(plan.spec, answer.edited_args or {}, proposer=plan.proposer)
                    plan.assume_yes = yes
                except UsageError as exc:
                    self.emit(Notice(f"The edited arguments are not valid: {exc.message}", "warning"))
                continue
            if answer.decision == "always":
                self.policy.remember_always(plan.command)
            source = answer.source if answer.source in ("user", "mcp") else "user"  # a confirmer relays a person
            if answer.approved:
                return plan, Approval(answer.decision, source=source)
            raise Declined(f"Not run: you declined `{plan.command}`.", decided_by=source)

    def run(
        self,
        spec: CommandSpec | Plan,
        params: BaseModel | Mapping[str, Any] | None = None,
        *,
        download_to: IO[bytes] | None = None,
        wait: bool | None = None,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        proposer: Proposer = "user",
        assume_yes: bool = False,
    ) -> Outcome:
        """Plan, authorize, send and (when asked) wait. Raises on refusal or failure.

        ``spec`` with ``params``: prepared here; a :class:`Plan` from :meth:`prepare`: run as it is,
        so what was previewed is what is approved and sent (no ``params`` then: the plan has them).
        ``wait`` overrides the ``--wait-until-finished`` argument; ``confirmer`` overrides
        the executor's confirmer for this call (the agent passes its own); ``events`` also
        receives this call's events (the executor's own sink still gets them); ``proposer``
        is who proposed the action ("model" for the agent's tool calls; a given plan keeps its own); ``assume_yes`` is a
        ``--yes`` given for this call only (the shared policy is left as it is).
        """
        if isinstance(spec, Plan):
            if params is not None:
                raise TypeError("Executor.run(plan) takes no params: the plan carries its own")
            plan = spec
        else:
            if params is None:
                raise TypeError("Executor.run(spec) needs params")
            _api_only(spec)
            plan = self.prepare(spec, params, proposer=proposer)
        _api_only(plan.spec)
        plan.assume_yes = assume_yes
        if events is None:
            return self._run(plan, download_to, wait, confirmer)
        with self.events_to(events):
            return self._run(plan, download_to, wait, confirmer)

    def _run(
        self, plan: Plan, download_to: IO[bytes] | None, wait: bool | None, confirmer: Confirmer | None
    ) -> Outcome:
        for text in plan.notices:
            self.emit(Notice(text, "warning"))
        try:
            plan, approval = self.authorize(plan, confirmer)
        except (Declined, ApprovalRequired) as exc:
            audit_trail.refusal(self, plan, exc)
            raise
        outcome = Outcome(
            plan.spec, plan.params, plan=plan, approval=approval, notices=list(plan.notices), action_id=new_action_id()
        )
        should_wait = plan.wait if wait is None else wait
        if plan.effect != "read":
            audit_trail.sent(self, outcome)
        try:
            if plan.rollout:
                rollout.run_staged(self, plan, outcome, confirmer or self.confirmer)
            else:
                dispatch(self, plan, outcome, download_to, should_wait, confirmer or self.confirmer)
        except JobPending as exc:
            exc.outcome = outcome
            if outcome.stages:
                exc.pending["rollout"] = pending_report(outcome, exc.pending["reason"])["rollout"]
            self.audit_outcome(outcome, "wait-failed", error=exc.message)
            raise
        except CargoShellError as exc:
            self.audit_outcome(outcome, "error", error=exc.message)
            raise
        except KeyboardInterrupt as exc:
            name = getattr(exc, "name", None)  # Terminated: SIGTERM / SIGHUP
            accepted = outcome.job_id is not None and not isinstance(exc, JobInterrupted)
            error = self.tracker.interrupted(outcome, name) if accepted else None
            self.audit_outcome(outcome, "terminated" if name else "interrupted", error=name)
            if error is not None:
                raise error from exc
            raise
        self.audit_outcome(outcome, outcome_label(outcome))
        return outcome

    # -- the port a staged rollout drives (rollout.BatchPort) ---------------------------------
    def plan_batch(self, spec: CommandSpec, raw: Mapping[str, Any]) -> Plan:
        plan = self.plan(spec, self.validate(spec, raw))
        plan.rollout = None
        return plan

    def send_batch(self, plan: Plan, outcome: Outcome, confirmer: Confirmer | None) -> None:
        dispatch(self, plan, outcome, None, True, confirmer)

    def send(
        self,
        req: ApiRequest,
        outcome: Outcome | None,
        *,
        unsafe: bool,
        check: str | None = None,
        attempts: int | None = None,
        sink: IO[bytes] | None = None,
    ) -> ApiResponse:
        resp = self.sender.send(req, unsafe=unsafe, check_command=check, max_attempts=attempts, sink=sink)
        if outcome is not None and resp.request_id:
            outcome.request_ids.append(resp.request_id)
        return resp

    def read(self, command: str, raw: Mapping[str, Any], *, attempts: int | None = None) -> Any:
        """An internal read (lookups, polls): deny rules apply, no confirmation, no audit line.

        ``attempts`` bounds the tries (default: the retry configuration's).
        """
        spec = self.registry.get(command)
        params = self.validate(spec, raw)
        plan = Plan(spec, params, request=None)
        verdict = self.policy.decide(plan)
        if verdict.kind != "allow":
            raise Declined(f"Not run: {verdict.reason}", decided_by="rule")
        resp = self.send(self.request_for(spec, params), None, unsafe=False, attempts=attempts)
        return apply_client_filters(spec, params, resp.data)

    # -- jobs (see jobs.py) ------------------------------------------------------------------
    def wait_for(self, outcome: Outcome, confirmer: Confirmer | None = None) -> WaitResult:
        """Poll ``outcome``'s job to the end (or until the user detaches); updates ``outcome``."""
        return self.tracker.wait(outcome, confirmer)

    def attach(self, job_id: str, kind: str, *, confirmer: Confirmer | None = None) -> Outcome:
        """Re-attach to a tracked job (``cargo-shell jobs wait``) and poll it to the end."""
        return self.tracker.attach(job_id, kind, confirmer=confirmer)

    def refresh_jobs(self, *, limit: int = REFRESH_LIMIT, every_s: float = 0.0) -> int:
        """Refresh unfinished job records of this target from the API (see ``JobTracker.refresh``)."""
        return self.tracker.refresh(limit=limit, every_s=every_s)

    # -- audit (see audit_trail.py) ------------------------------------------------------------
    def audit_outcome(
        self,
        outcome: Outcome,
        label: str,
        *,
        error: str | None = None,
        spec: CommandSpec | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """The outcome line of ``outcome``'s action (``spec``: the command to name, default the outcome's)."""
        audit_trail.finished(self, outcome, label, error=error, spec=spec, extra=extra)


_DEFAULT_APPROVAL = Approval("yes", source="default")


def _api_only(spec: CommandSpec) -> None:
    if spec.http is None:
        raise UsageError(f"`{spec.name}` is handled by cargo-shell itself, not the API")
