"""`cargo-shell bench`: the command-line face of :mod:`cargo_shell.bench` (parse, run, render).

stdout carries the result (the table, or with ``--output json`` the summary JSON); progress, one
line per finished run, and the paths of the result files go to stderr. Exit status: 0 when the
benchmark went as it should (every oracle passes, every decoy is rejected, no model run ended in
an error), 1 otherwise, 130 on Ctrl-C (finished runs are kept: run the same command to resume).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import ConfigError, ExitStatus, UsageError

if TYPE_CHECKING:
    from cargo_shell.bench.pool import RunSpec
    from cargo_shell.commands.context import Context


def bench_command(
    ctx: Context,
    *,
    oracle: bool | None,
    decoy: bool | None,
    only: str | None,
    list: bool | None,
    base_url: str | None,
    model: str | None,
    repeat: int,
    jobs: int,
    time_budget: float | None,
    token_budget: int | None,
    max_turns: int | None,
    retries: int,
    no_stream: bool | None,
    prices: str | None,
    results: str | None,
    fresh: bool | None,
    tasks: str | None,
    keep: bool | None,
) -> int:
    """`cargo-shell bench` (arguments declared in the registry, ``registry/commands/cargo-shell.json``)."""
    if oracle and decoy:
        raise UsageError("--oracle and --decoy cannot be combined", hint="Run one, then the other.")
    for flag, number in (("--time-budget", time_budget), ("--token-budget", token_budget)):
        if number is not None and number <= 0:
            raise UsageError(f"{flag} must be positive")
    from cargo_shell.bench.suite import BenchOptions, run_bench, select

    options = BenchOptions(
        mode="oracle" if oracle else "decoy" if decoy else "model",
        pattern=only,
        tasks_folder=_folder(tasks),
        repeat=repeat,
        jobs=jobs,
        results=Path(results).expanduser() if results else None,
        fresh=bool(fresh),
        seconds=time_budget,
        tokens=token_budget,
        max_turns=max_turns,
        prices=_prices(prices),
        keep=bool(keep),
    )
    if list:
        return _list(ctx, select(options), json_output=ctx.globals.get("output") == "json")
    if options.mode == "model":
        options.settings = _settings(ctx, base_url=base_url, model=model, retries=retries, stream=not no_stream)
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
        from cargo_shell.render.console import make_console

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


def _settings(ctx: Context, *, base_url: str | None, model: str | None, retries: int, stream: bool) -> Any:
    """The shell's model settings (environment, profile, stored key), with this command's flags on top."""
    from cargo_shell.commands.providers import model_settings

    settings = model_settings(ctx)
    changes: dict[str, Any] = {"max_retries": retries}
    if base_url:
        changes["base_url"] = base_url
    if model:
        changes["model"] = model
    if not stream:
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
