"""What an executed action returns to its front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import ExitStatus
from cargo_shell.executor.confirm import Approval
from cargo_shell.executor.plan import Plan
from cargo_shell.registry.spec import CommandSpec

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass
class Outcome:
    """The result of :meth:`Executor.run`.

    ``data`` is what the CLI prints (for an awaited job: the final job response).
    ``job`` is the job object (run/batch/message) when one was started; ``job_status`` its
    last known status. ``partial_failure`` is set for a batch that ended ``success`` with
    failed runs (and for a staged rollout with failures). ``detached`` means the user stopped
    waiting; the job keeps running and is tracked in the job store. ``revealed`` lists the
    secret values the API returned to this action that the process did not know before, as
    (JSON path, value): a token just created, shown to the person once and masked everywhere.

    ``action_id`` ties the action's audit lines and job records together. For a staged rollout,
    ``stages`` lists every planned stage (``sent`` or not, job id, status, runs, failures,
    credits) and ``data`` summarises the whole rollout; when it stopped before the end,
    ``ran_command_line`` is the command of what was really sent (``command_line`` gives it, or the
    plan's), so a saved script replays what ran.
    """

    spec: CommandSpec
    params: BaseModel
    data: Any = None
    request_ids: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    job: dict[str, Any] | None = None
    plan: Plan | None = None
    approval: Approval | None = None
    job_id: str | None = None
    job_kind: str | None = None
    job_status: str | None = None
    detached: bool = False
    cancelled: bool = False
    partial_failure: bool = False
    credits: float | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    revealed: list[tuple[str, str]] = field(default_factory=list)
    action_id: str = ""
    ran_command_line: str | None = None
    #: (index, count) when this outcome is one stage of a staged rollout.
    stage: tuple[int, int] | None = None

    @property
    def command_line(self) -> str:
        """The command line of what really ran (for scripts and history)."""
        if self.ran_command_line is not None:
            return self.ran_command_line
        if self.plan is not None:
            return self.plan.command_line
        return "cargo-shell " + " ".join(self.spec.words)

    @property
    def job_failed(self) -> bool:
        return self.job_status == "error"

    def exit_status(self, *, strict: bool = False) -> ExitStatus:
        if self.job_failed:
            return ExitStatus.ERROR
        if self.detached:
            return ExitStatus.JOB_PENDING
        if self.cancelled:
            return ExitStatus.INTERRUPTED
        if self.partial_failure and strict:
            return ExitStatus.PARTIAL_FAILURE
        return ExitStatus.OK
