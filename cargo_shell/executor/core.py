"""The one path from any front end to the Cargo API.

``Executor.run(spec, params)`` goes ``validate → guard → plan → confirm → send (with
retries) → poll → outcome`` and writes the audit log as it goes (every decision; a ``sent``
line before a write leaves; the outcome when known). The CLI, the REPL and the agent all
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
from cargo_shell.api.preview import PreviewSink
from cargo_shell.api.request import ApiRequest, apply_client_filters, build_request
from cargo_shell.errors import (
    ApprovalRequired,
    CargoShellError,
    Declined,
    JobInterrupted,
    JobPending,
    UsageError,
)
from cargo_shell.executor import audit_trail, rollout, tracking
from cargo_shell.executor.audit import AuditLog, new_action_id
from cargo_shell.executor.confirm import Approval, Confirmer
from cargo_shell.executor.derived import add_derived_fields
from cargo_shell.executor.events import Event, EventSink, Notice
from cargo_shell.executor.guards import apply_guards
from cargo_shell.executor.jobstore import JobStore
from cargo_shell.executor.local_paths import PathRules, Proposer
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import (
    Plan,
    Touch,
    command_line,
    given_values,
    poll_interval_s,
    unsent_args,
    wants_wait,
)
from cargo_shell.executor.policy import Policy
from cargo_shell.executor.polling import WaitResult, dig
from cargo_shell.executor.retry import RetryConfig, Sender, creates_or_spends
from cargo_shell.registry import CommandSpec, get_registry
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
        self._sleep = sleep
        self._clock = clock
        self._events = events
        #: Extra sinks for the duration of one call (``run(events=...)``, :meth:`events_to`).
        self._call_sinks: tuple[EventSink, ...] = ()
        self._notice = notice
        self.sender = Sender(client, config=retry or RetryConfig(), sleep=sleep, clock=clock, emit=self.emit, rng=rng)
        self.lookups = Lookups(self.read)
        self._jobs_refreshed_at: float | None = None

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
        spec: CommandSpec,
        params: BaseModel | Mapping[str, Any],
        *,
        download_to: IO[bytes] | None = None,
        wait: bool | None = None,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        proposer: Proposer = "user",
        assume_yes: bool = False,
    ) -> Outcome:
        """Plan, authorize, send and (when asked) wait. Raises on refusal or failure.

        ``wait`` overrides the ``--wait-until-finished`` argument; ``confirmer`` overrides
        the executor's confirmer for this call (the agent passes its own); ``events`` also
        receives this call's events (the executor's own sink still gets them); ``proposer``
        is who proposed the action ("model" for the agent's tool calls); ``assume_yes`` is a
        ``--yes`` given for this call only (the shared policy is left as it is).
        """
        if events is None:
            return self._run(spec, params, download_to, wait, confirmer, proposer, assume_yes)
        with self.events_to(events):
            return self._run(spec, params, download_to, wait, confirmer, proposer, assume_yes)

    def _run(
        self,
        spec: CommandSpec,
        params: BaseModel | Mapping[str, Any],
        download_to: IO[bytes] | None,
        wait: bool | None,
        confirmer: Confirmer | None,
        proposer: Proposer = "user",
        assume_yes: bool = False,
    ) -> Outcome:
        if spec.http is None:
            raise UsageError(f"`{spec.name}` is handled by cargo-shell itself, not the API")
        plan = self.prepare(spec, params, proposer=proposer)
        plan.assume_yes = assume_yes
        for text in plan.notices:
            self.emit(Notice(text, "warning"))
        try:
            plan, approval = self.authorize(plan, confirmer)
        except (Declined, ApprovalRequired) as exc:
            self._audit_refusal(plan, exc)
            raise
        outcome = Outcome(
            plan.spec, plan.params, plan=plan, approval=approval, notices=list(plan.notices), action_id=new_action_id()
        )
        should_wait = plan.wait if wait is None else wait
        if plan.effect != "read":
            self._audit_sent(outcome)
        try:
            if plan.rollout:
                rollout.run_staged(self, plan, outcome, confirmer or self.confirmer)
            else:
                self._execute(plan, outcome, download_to, should_wait, confirmer or self.confirmer)
        except JobPending as exc:
            exc.outcome = outcome
            if outcome.stages:
                exc.pending["rollout"] = tracking.pending_report(outcome, exc.pending["reason"])["rollout"]
            self.audit_outcome(outcome, "wait-failed", error=exc.message)
            raise
        except CargoShellError as exc:
            self.audit_outcome(outcome, "error", error=exc.message)
            raise
        except KeyboardInterrupt as exc:
            name = getattr(exc, "name", None)  # Terminated: SIGTERM / SIGHUP
            accepted = outcome.job_id is not None and not isinstance(exc, JobInterrupted)
            error = tracking.interrupted(self, outcome, name) if accepted else None
            self.audit_outcome(outcome, "terminated" if name else "interrupted", error=name)
            if error is not None:
                raise error from exc
            raise
        self.audit_outcome(outcome, tracking.outcome_label(outcome))
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
        if spec.job is not None and self.jobs is not None:
            self.jobs.open()  # ready before the request leaves: recording the job is then one quick commit
        body_sink = (download_to or PreviewSink()) if spec.download_body else None
        resp = self.send(request, outcome, unsafe=unsafe, check=check, sink=body_sink)
        if isinstance(body_sink, PreviewSink):  # no file to write to (the agent, the shell): a bounded preview
            outcome.data = body_sink.summary(resp.data)
            return
        if body_sink is not None:
            body_sink.flush()
            outcome.data = {"downloadedFiles": 1, "bytes": resp.data["bytes"]}
            return
        if spec.job is not None:  # first of all: from here on a killed process still leaves the job tracked
            tracking.record_accepted(self, plan, outcome, resp.data)
        if plan.effect != "read":
            # a secret the API hands back (a token just created) is masked by value from now on;
            # what reads return is learned by the masker when it hides it on its way out
            outcome.revealed += KNOWN.learn(resp.data)
        outcome.data = add_derived_fields(spec, apply_client_filters(spec, params, resp.data, values=plan.values))
        if spec.download and download_to is not None:
            outcome.data = self._download(outcome.data, download_to)
        if spec.job is not None and outcome.job_id and outcome.job_kind:
            self.emit(tracking.started_event(plan, outcome))
            if wait:
                self.wait_for(outcome, confirmer)

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

    def check_command(self, spec: CommandSpec, values: dict[str, Any]) -> str | None:
        """A read command that shows whether an ambiguous create/spend took effect."""
        candidates = [" ".join((*spec.words[:-1], "list"))]
        if spec.job is not None:
            candidates.append(self.registry.job_kind(spec.job.kind).list_command)
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

    # -- jobs (see tracking.py) ---------------------------------------------------------------
    def wait_for(self, outcome: Outcome, confirmer: Confirmer | None = None) -> WaitResult:
        """Poll ``outcome``'s job to the end (or until the user detaches); updates ``outcome``."""
        return tracking.wait_for(self, outcome, confirmer)

    def attach(self, job_id: str, kind: str, *, confirmer: Confirmer | None = None) -> Outcome:
        """Re-attach to a tracked job (``cargo-shell jobs wait``) and poll it to the end."""
        return tracking.attach(self, job_id, kind, confirmer=confirmer)

    def refresh_jobs(self, *, limit: int = tracking.REFRESH_LIMIT, every_s: float = 0.0) -> int:
        """Refresh unfinished job records of this target from the API (bounded); returns how many changed.

        ``every_s``: do nothing if the last refresh of this executor is more recent (the shell's toolbar).
        """
        now = self.clock()
        if self._jobs_refreshed_at is not None and now - self._jobs_refreshed_at < every_s:
            return 0
        self._jobs_refreshed_at = now
        return tracking.refresh(self, limit=limit)

    # -- audit (see audit_trail.py) ------------------------------------------------------------
    def _audit_refusal(self, plan: Plan, exc: Declined | ApprovalRequired) -> None:
        audit_trail.refusal(self, plan, exc)

    def _audit_sent(self, outcome: Outcome) -> None:
        audit_trail.sent(self, outcome)

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
