"""Sending a staged rollout: one batch per stage, each awaited, stopped by failures; its summary.

Which batches are staged, their stages and estimates are decided when planning (:mod:`staging`);
the rollout drives the pipeline only through :class:`BatchPort` (plan one batch, send it and wait).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from cargo_shell.errors import CargoShellError
from cargo_shell.executor.events import Event, Notice, StageFinished, StageStarted
from cargo_shell.executor.jobs import pending_report
from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.plan import Plan, arg_values, command_line
from cargo_shell.executor.polling import job_counts
from cargo_shell.executor.retry import WriteOutcomeUnknown
from cargo_shell.executor.staging import SPLIT_KEYS, batch_data_arg
from cargo_shell.registry.spec import CommandSpec

if TYPE_CHECKING:
    from cargo_shell.executor.confirm import Confirmer
    from cargo_shell.executor.outcome import Outcome


class BatchPort(Protocol):
    """What planning and sending a staged rollout need from the pipeline (the ``Executor`` is one).

    The rollout never touches the pipeline's internals: it reads names through ``lookups``, plans
    one stage's batch with ``plan_batch`` and sends it, awaited to its end, with ``send_batch``.
    """

    @property
    def lookups(self) -> Lookups: ...

    @property
    def rollout_over(self) -> int:
        """Batches of more records than this (on connector workflows) are staged."""
        ...

    @property
    def rollout_max_error_rate(self) -> float:
        """A stage whose share of failed runs passes this stops the rollout."""
        ...

    def emit(self, event: Event) -> None: ...

    def plan_batch(self, spec: CommandSpec, raw: Mapping[str, Any]) -> Plan:
        """The plan of one stage's batch (validated; never itself staged)."""
        ...

    def send_batch(self, plan: Plan, outcome: Outcome, confirmer: Confirmer | None) -> None:
        """Send one planned batch and wait for its job to end; ``outcome`` records what happened."""
        ...


def run_staged(port: BatchPort, plan: Plan, outcome: Outcome, confirmer: Confirmer | None) -> None:
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
    key = SPLIT_KEYS[data["kind"]]
    items = list(data[key])
    bounds = list(zip([0, *plan.rollout], plan.rollout, strict=False))
    outcome.stages = [{"stage": i, "records": b - a, "sent": False} for i, (a, b) in enumerate(bounds, start=1)]
    run = _Rollout(port, plan, outcome, values, arg.name, data, key, items)
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
        port: BatchPort,
        plan: Plan,
        outcome: Outcome,
        values: dict[str, Any],
        split_arg: str,
        data: dict[str, Any],
        key: str,
        items: list[Any],
    ) -> None:
        self.port, self.plan, self.outcome = port, plan, outcome
        self.values, self.split_arg, self.data, self.key, self.items = values, split_arg, data, key, items
        self.sent = 0
        self.stop_reason: str | None = None
        self.broken = False

    def stage(self, index: int, chunk: list[Any], upto: int, confirmer: Confirmer | None) -> bool:
        """Send and await one stage; False when the rollout stops here."""
        port, spec, outcome = self.port, self.plan.spec, self.outcome
        count = len(outcome.stages)
        info = outcome.stages[index - 1]
        port.emit(StageStarted(index, count, len(chunk), len(self.items)))
        stage_plan = port.plan_batch(spec, {**self.values, self.split_arg: {**self.data, self.key: chunk}})
        stage = type(outcome)(
            spec, stage_plan.params, plan=stage_plan, approval=outcome.approval, action_id=outcome.action_id,
            stage=(index, count),
        )  # fmt: skip
        try:
            port.send_batch(stage_plan, stage, confirmer)
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
        port.emit(StageFinished(index, count, len(chunk), failed, stage.job_status or "unknown"))
        if stage.detached:
            outcome.detached = True
            return False
        rate = failed / max(int(info.get("runs") or 0) or len(chunk), 1)
        if stage.job_status != "success" or rate > port.rollout_max_error_rate:
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
            summary["jobPending"] = pending_report(outcome, "detached")
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
        self.port.emit(Notice(text, "warning"))


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
