"""Local commands around the executor: ``jobs``, ``log`` and ``policy``."""

from __future__ import annotations

import argparse
import json
from typing import Any, NoReturn

from cargo_shell.errors import ExitStatus, UsageError
from cargo_shell.executor.audit import AuditLog
from cargo_shell.executor.jobstore import JobStore
from cargo_shell.executor.policy import PolicyStore
from cargo_shell.registry.spec import EFFECTS
from cargo_shell.render.output import write_result
from cargo_shell.session import Context


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.")


def _parse(parser: _Parser, ctx: Context, argv: list[str]) -> argparse.Namespace | None:
    if any(a in ("-h", "--help") for a in argv[:2]) or (argv[:1] == ["help"]):
        ctx.env.stdout.write(parser.format_help())
        return None
    return parser.parse_args(argv)


def _default_verb(argv: list[str], verb: str) -> list[str]:
    """``jobs --limit 5`` means ``jobs list --limit 5``: flags (or nothing) with no verb take ``verb``."""
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        return [verb, *argv]
    return argv


def jobs(ctx: Context, argv: list[str]) -> int:
    p = _Parser(prog="cargo-shell jobs", description="Runs, batches and messages started from this machine.")
    sub = p.add_subparsers(dest="action")
    ls = sub.add_parser("list", help="list tracked jobs (the default)")
    ls.add_argument("--active", action="store_true", help="only jobs not known to be finished")
    ls.add_argument("--limit", type=int, default=20)
    wait = sub.add_parser("wait", help="re-attach to a job and wait for it to finish")
    wait.add_argument("job_id", help="job UUID (a unique prefix is enough)")
    cancel = sub.add_parser("cancel", help="cancel a tracked run or batch")
    cancel.add_argument("job_id")
    ns = _parse(p, ctx, _default_verb(argv, "list"))
    if ns is None:
        return ExitStatus.OK
    store = JobStore(ctx.env.paths.jobs_db)
    if ns.action in (None, "list"):
        limit = getattr(ns, "limit", 20)
        if store.list(limit=1, active_only=True):
            _refresh(ctx)
        records = store.list(limit=limit, active_only=bool(getattr(ns, "active", False)))
        write_result(ctx.env, {"jobs": [_listed(r.to_json()) for r in records]}, output=ctx.output_format(), key="jobs")
        return ExitStatus.OK
    record = store.get(ns.job_id)
    if record is None:
        raise UsageError(f"No tracked job {ns.job_id!r}", hint="See `cargo-shell jobs` for the tracked jobs.")
    profile = ctx.resolved().profile
    if record.profile != profile:
        raise UsageError(
            f"Job {record.job_id} was started with profile {record.profile!r}, not {profile!r}",
            hint=f"Re-run with --profile {record.profile}.",
        )
    executor = ctx.executor()
    if ns.action == "cancel":
        kind = ctx.registry.job_kind(record.kind)
        raw = kind.cancel_args(record.job_id, record.detail)
        outcome = executor.run(ctx.registry.get(str(kind.cancel_command)), raw)
        write_result(ctx.env, outcome.data)
        return outcome.exit_status(strict=ctx.strict)
    outcome = executor.attach(record.job_id, record.kind)
    write_result(ctx.env, outcome.data, output=ctx.output_format(), key=outcome.spec.response_key)
    return outcome.exit_status(strict=ctx.strict)


def _listed(job: dict[str, Any]) -> dict[str, Any]:
    """A job as listed: a long ``--data`` in its command line summarised (size, first items), not 40 KB."""
    from cargo_shell.render.summary import summarise_line

    if isinstance(job.get("commandLine"), str):
        job["commandLine"] = summarise_line(job["commandLine"])
    return job


def _refresh(ctx: Context) -> None:
    """Bring unfinished jobs of the current target up to date (bounded); a listing never fails for it."""
    from cargo_shell.errors import CargoShellError

    try:
        ctx.executor().refresh_jobs()
    except CargoShellError as exc:
        ctx.env.warn(f"note: job statuses not refreshed from the API ({exc.message})")


def log(ctx: Context, argv: list[str]) -> int:
    p = _Parser(
        prog="cargo-shell log",
        description="Show the audit log: one entry per action (its decision, what was sent, its outcome), newest last.",
    )
    p.add_argument("--limit", type=int, default=20, help="how many entries (default 20; 0 = all)")
    p.add_argument("--command", help="only entries whose command starts with this")
    p.add_argument("--effect", choices=EFFECTS)
    p.add_argument("--lines", action="store_true", help="the raw lines (decision, sent, stage, outcome) as written")
    ns = _parse(p, ctx, argv)
    if ns is None:
        return ExitStatus.OK
    audit = AuditLog(ctx.env.paths.audit_log, profile="", workspace_uuid=None)
    entries = audit.read() if ns.lines else audit.actions()
    if ns.command:
        entries = [e for e in entries if str(e.get("command", "")).startswith(ns.command)]
    if ns.effect:
        entries = [e for e in entries if e.get("effect") == ns.effect]
    if ns.limit:
        entries = entries[-ns.limit :]
    write_result(ctx.env, {"entries": entries}, output=ctx.output_format(), key="entries")
    return ExitStatus.OK


def policy(ctx: Context, argv: list[str]) -> int:
    p = _Parser(
        prog="cargo-shell policy",
        description="Confirmation rules (list is the default). Deny rules win over allow rules; --yes never "
        "overrides a deny.",
    )
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="show the rules")
    for action, verb in (("allow", "allows"), ("deny", "denies")):
        sp = sub.add_parser(action, help=f"add a rule that {verb} matching actions")
        sp.add_argument("command", nargs="?", default="*", help="command glob, e.g. 'billing *' (default *)")
        sp.add_argument("--effect", choices=EFFECTS)
        sp.add_argument("--profile", dest="rule_profile", help="only in this profile (default: every profile)")
        sp.add_argument("--arg", action="append", default=[], metavar="FLAG=GLOB", help="match an argument value")
        sp.add_argument("--note", default="")
    rm = sub.add_parser("remove", help="delete a rule by id")
    rm.add_argument("rule_id", type=int)
    ns = _parse(p, ctx, _default_verb(argv, "list"))
    if ns is None:
        return ExitStatus.OK
    store = PolicyStore(ctx.env.paths.config_dir)
    if ns.action == "list":
        rules = store.load()
        write_result(
            ctx.env,
            {"file": str(store.path), "rules": [r.to_json() for r in rules]},
            output=ctx.output_format(),
            key="rules",
        )
        return ExitStatus.OK
    if ns.action == "remove":
        if not store.remove(ns.rule_id):
            raise UsageError(f"No rule #{ns.rule_id}", hint="See `cargo-shell policy list`.")
        write_result(ctx.env, {"removed": ns.rule_id})
        return ExitStatus.OK
    args: dict[str, str] = {}
    for item in ns.arg:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--arg {item!r}: expected FLAG=GLOB, e.g. --arg workflow-uuid=<uuid>")
        args[name.strip().lstrip("-")] = value.strip()
    if ns.command != "*" and not any(
        _glob_matches(ns.command, spec.name) for spec in ctx.registry if spec.http is not None
    ):
        raise UsageError(f"The pattern {ns.command!r} matches no command", hint="Example: 'orchestration batch *'.")
    try:
        rule = store.add(
            ns.action, command=ns.command, effect=ns.effect, profile=ns.rule_profile, args=args, note=ns.note
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ctx.env.stdout.write(json.dumps({"added": rule.to_json()}, indent=2) + "\n")
    return ExitStatus.OK


def _glob_matches(pattern: str, name: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)
