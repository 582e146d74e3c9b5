"""`cargo-shell bench`: the command-line face of :mod:`cargo_shell.bench` (parse, run, render).

stdout carries the result (the table, or with ``--output json`` the summary JSON); progress, one
line per finished run, and the paths of the result files go to stderr. Exit status: 0 when the
benchmark went as it should (every oracle passes, every decoy is rejected, no model run ended in
an error), 1 otherwise, 130 on Ctrl-C (finished runs are kept: run the same command to resume).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from cargo_shell.errors import ConfigError, ExitStatus, UsageError

if TYPE_CHECKING:
    from cargo_shell.bench.pool import RunSpec
    from cargo_shell.session import Context

DEFAULT_JOBS = 4
DEFAULT_RETRIES = 6


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"cargo-shell bench: {message}", hint="See `cargo-shell bench --help`.")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cargo-shell bench",
        description="Measure how well a language model works Cargo through cargo-shell: tasks in plain words, "
        "each run against its own copy of the sandbox, judged by the sandbox's end state and the answer.",
        allow_abbrev=False,
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--oracle", action="store_true", help="run each task's oracle script instead of a model")
    which.add_argument("--decoy", action="store_true", help="run each task's decoy script (all must fail)")
    p.add_argument("-k", dest="pattern", metavar="PATTERN", help="only tasks whose id, skill or category matches")
    p.add_argument("--list", action="store_true", help="list the tasks and exit")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (default: OPENAI_BASE_URL or the shell's setting)")
    p.add_argument("--model", help="model name (default: CARGO_SHELL_MODEL or the shell's setting)")
    p.add_argument("--repeat", type=int, default=1, metavar="K", help="runs per task; pass^K = all K runs pass")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N", help="runs in parallel (default 4)")
    p.add_argument("--time-budget", type=float, metavar="SECONDS", help="per run (default: the task's, 300)")
    p.add_argument("--token-budget", type=int, metavar="TOKENS", help="per run (default: the task's, 200000)")
    p.add_argument("--max-turns", type=int, metavar="N", help="model calls per prompt (default 12)")
    p.add_argument("--retries", type=int, default=DEFAULT_RETRIES, help="model request retries (429, 5xx)")
    p.add_argument("--no-stream", action="store_true", help="ask for whole replies instead of streams")
    p.add_argument("--prices", metavar="IN,OUT", help="USD per million input,output tokens for the cost estimate")
    p.add_argument("--results", metavar="DIR", help="results directory (default: one per model in the state dir)")
    p.add_argument("--fresh", action="store_true", help="discard earlier runs in the results directory")
    p.add_argument("--tasks", metavar="DIR", help="read tasks from this folder instead of the built-in ones")
    p.add_argument("--keep", action="store_true", help="keep each run's sandbox copy (under DIR/work)")
    return p


def bench_command(ctx: Context, argv: list[str]) -> int:
    p = parser()
    if any(a in ("-h", "--help") for a in argv):
        ctx.env.stdout.write(p.format_help())
        return int(ExitStatus.OK)
    ns = p.parse_args(argv)
    from cargo_shell.bench.suite import BenchOptions, run_bench, select

    options = BenchOptions(
        mode="oracle" if ns.oracle else "decoy" if ns.decoy else "model",
        pattern=ns.pattern,
        tasks_folder=_folder(ns.tasks),
        repeat=ns.repeat,
        jobs=ns.jobs,
        results=Path(ns.results).expanduser() if ns.results else None,
        fresh=ns.fresh,
        seconds=ns.time_budget,
        tokens=ns.token_budget,
        max_turns=ns.max_turns,
        prices=_prices(ns.prices),
        keep=ns.keep,
    )
    _check_numbers(ns)
    if ns.list:
        return _list(ctx, select(options), json_output=ctx.globals.get("output") == "json")
    if options.mode == "model":
        options.settings = _settings(ctx, ns)
    progress = _progress_printer(ctx)
    try:
        summary = run_bench(
            options, state_dir=ctx.env.paths.state_dir, cache_dir=ctx.env.paths.data_dir, progress=progress
        )
    except KeyboardInterrupt:
        ctx.env.warn("Interrupted; finished runs are kept. Run the same command again to resume.")
        return int(ExitStatus.INTERRUPTED)
    if ctx.globals.get("output") == "json":
        ctx.env.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    else:
        from cargo_shell.bench.report_table import summary_table
        from cargo_shell.repl.render.console import make_console

        # piped into a file, the table keeps every column
        make_console(ctx.env, width=None if ctx.env.stdout_isatty else 140).print(summary_table(summary))
    ctx.env.warn(f"results: {summary['files']['results']}\nreport:  {summary['files']['report']}")
    return int(ExitStatus.OK if summary["verdict"]["ok"] else ExitStatus.ERROR)


def _folder(text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    if not path.is_dir():
        raise UsageError(f"--tasks {text}: no such folder")
    return path


def _prices(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    from cargo_shell.bench.prices import parse_prices

    try:
        return parse_prices(text)
    except ValueError as exc:
        raise UsageError(f"--prices {text}: {exc}") from None


def _check_numbers(ns: argparse.Namespace) -> None:
    for flag, value in (("--repeat", ns.repeat), ("--jobs", ns.jobs), ("--max-turns", ns.max_turns)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be at least 1")
    for flag, number in (("--time-budget", ns.time_budget), ("--token-budget", ns.token_budget)):
        if number is not None and number <= 0:
            raise UsageError(f"{flag} must be positive")
    if ns.retries < 0:
        raise UsageError("--retries cannot be negative")


def _settings(ctx: Context, ns: argparse.Namespace) -> Any:
    """The shell's model settings (environment, profile, stored key), with this command's flags on top."""
    from cargo_shell.repl.llm import model_settings

    settings = model_settings(ctx)
    changes: dict[str, Any] = {"max_retries": ns.retries}
    if ns.base_url:
        changes["base_url"] = ns.base_url
    if ns.model:
        changes["model"] = ns.model
    if ns.no_stream:
        changes["stream"] = False
    settings = dataclasses.replace(settings, **changes)
    if settings.api_key is None and settings.base_url is None:
        raise ConfigError(
            "No language model is configured for the benchmark",
            hint="Pass --base-url (and --model) for an OpenAI-compatible server, set OPENAI_API_KEY for OpenAI, "
            "or run the scripted tasks: cargo-shell bench --oracle",
        )
    return settings


def _progress_printer(ctx: Context) -> Any:
    def show(done: int, total: int, spec: RunSpec, result: dict[str, Any]) -> None:
        status = str(result.get("status"))
        wall = (result.get("metrics") or {}).get("wallSeconds")
        note = f"  {result['error']}" if result.get("error") else ""
        width = len(str(total))
        took = f"{wall:6.1f}s" if isinstance(wall, int | float) else "      "
        ctx.env.warn(f"[{done:>{width}}/{total}] {status:<6} {spec.task_id} #{spec.repeat + 1} {took}{note[:160]}")

    return show


def _list(ctx: Context, tasks: list[Any], *, json_output: bool) -> int:
    if json_output:
        rows = [
            {"id": t.id, "title": t.title, "skill": t.skill, "categories": list(t.categories), "gotcha": t.gotcha}
            for t in tasks
        ]
        ctx.env.stdout.write(json.dumps({"tasks": rows}, ensure_ascii=False, indent=1) + "\n")
        return int(ExitStatus.OK)
    width = max(len(t.id) for t in tasks)
    for t in tasks:
        extra = f"  [{t.gotcha}]" if t.gotcha else ""
        ctx.env.stdout.write(f"{t.id:<{width}}  {t.skill:<13} {', '.join(t.categories)}{extra}\n")
    ctx.env.stdout.write(f"{len(tasks)} tasks\n")
    return int(ExitStatus.OK)
