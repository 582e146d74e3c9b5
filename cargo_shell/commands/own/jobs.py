"""``jobs list|wait|cancel``: the runs, batches and messages started from this machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.commands.result import Result
from cargo_shell.errors import CargoShellError, UsageError
from cargo_shell.executor.jobstore import JobRecord, JobStore

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context


def list_jobs(ctx: Context, *, active: bool | None, limit: int) -> dict[str, Any]:
    """Tracked jobs, newest first; unfinished ones of this target are refreshed from the API first."""
    store = JobStore(ctx.env.paths.jobs_db)
    if store.list(limit=1, active_only=True):
        _refresh(ctx)
    records = store.list(limit=limit, active_only=bool(active))
    return {"jobs": [_listed(r.to_json()) for r in records]}


def wait(ctx: Context, *, job_id: str) -> Result:
    record = _record(ctx, job_id)
    outcome = ctx.executor().attach(record.job_id, record.kind)
    return Result(outcome.data, outcome.spec.response_key, outcome.exit_status(strict=ctx.strict), outcome)


def cancel(ctx: Context, *, job_id: str) -> Result:
    """Cancel a tracked job with its kind's cancel command and argument template (``jobs.json``)."""
    record = _record(ctx, job_id)
    kind = ctx.registry.job_kind(record.kind)
    raw = kind.cancel_args(record.job_id, record.detail)  # says so when the kind cannot be cancelled
    outcome = ctx.executor().run(ctx.registry.get(str(kind.cancel_command)), raw)
    return Result(outcome.data, None, outcome.exit_status(strict=ctx.strict), outcome)


def _record(ctx: Context, job_id: str) -> JobRecord:
    record = JobStore(ctx.env.paths.jobs_db).get(job_id)
    if record is None:
        raise UsageError(f"No tracked job {job_id!r}", hint="See `cargo-shell jobs` for the tracked jobs.")
    profile = ctx.resolved().profile
    if record.profile != profile:
        raise UsageError(
            f"Job {record.job_id} was started with profile {record.profile!r}, not {profile!r}",
            hint=f"Re-run with --profile {record.profile}.",
        )
    return record


def _listed(job: dict[str, Any]) -> dict[str, Any]:
    """A job as listed: a long ``--data`` in its command line summarised (size, first items), not 40 KB."""
    from cargo_shell.value_summary import summarise_line

    if isinstance(job.get("commandLine"), str):
        job["commandLine"] = summarise_line(job["commandLine"])
    return job


def _refresh(ctx: Context) -> None:
    """Bring unfinished jobs of the current target up to date (bounded); a listing never fails for it."""
    try:
        ctx.executor().refresh_jobs()
    except CargoShellError as exc:
        ctx.env.warn(f"note: job statuses not refreshed from the API ({exc.message})")
