"""Run a selection of tasks ``repeat`` times, in parallel, into a resumable results directory.

:func:`run_bench` is the whole benchmark as a function of :class:`BenchOptions`: it returns the
summary (the same data as ``results.json``) and writes the HTML report. It prints nothing; the
``cargo-shell bench`` command renders what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cargo_shell import __version__
from cargo_shell.bench.pool import GRACE_SECONDS, RunSpec, run_all, write_json
from cargo_shell.bench.results import ResultsDir, summarize
from cargo_shell.bench.task import Task, load_tasks
from cargo_shell.bench.world import ensure_template
from cargo_shell.errors import UsageError

OPENAI_URL = "https://api.openai.com/v1"
#: The request that checks the model is there before any run starts.
PING = "Reply with the single word: ready"
Progress = Callable[[int, int, RunSpec, dict[str, Any]], None]


@dataclass
class BenchOptions:
    mode: str = "model"
    pattern: str | None = None
    tasks_folder: Path | None = None
    repeat: int = 1
    jobs: int = 4
    results: Path | None = None
    fresh: bool = False
    settings: Any = None
    seconds: float | None = None
    tokens: int | None = None
    max_turns: int | None = None
    prices: tuple[float, float] | None = None
    keep: bool = False
    grace: float = GRACE_SECONDS

    def label(self) -> str:
        if self.mode != "model":
            return self.mode
        from urllib.parse import urlparse

        host = urlparse(self.base_url() or OPENAI_URL).netloc or "endpoint"
        return _slug(f"{self.model_name()}@{host}")

    def model_name(self) -> str:
        return str(self.settings.model) if self.settings is not None and self.mode == "model" else self.mode

    def base_url(self) -> str | None:
        if self.mode != "model":
            return None
        return str(getattr(self.settings, "base_url", None) or OPENAI_URL)

    def identity(self) -> dict[str, Any]:
        return {"mode": self.mode, "model": self.model_name(), "baseUrl": self.base_url()}


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_.@" else "-" for ch in text).strip("-") or "bench"


def default_results(state_dir: Path, options: BenchOptions) -> Path:
    return state_dir / "bench" / options.label()


def select(options: BenchOptions) -> list[Task]:
    tasks = load_tasks(options.pattern, folder=options.tasks_folder)
    if not tasks:
        raise UsageError(
            f"No task matches {options.pattern!r}",
            hint="`cargo-shell bench --list` shows every task with its skill and categories.",
        )
    return tasks


def check_model(settings: Any) -> None:
    """One tiny request before any run: a wrong address, model name or key fails now, in seconds,
    instead of as an error in every run."""
    from cargo_shell.agent.model import ModelError
    from cargo_shell.agent.openai_model import OpenAIChatModel

    try:
        for _item in OpenAIChatModel(settings).stream([{"role": "user", "content": PING}], [], timeout=60.0):
            pass
    except ModelError as exc:
        raise ModelError(
            f"{exc.message}. No task was run.",
            hint="Check --base-url, --model and the key (OPENAI_API_KEY), or try: cargo-shell bench --oracle",
        ) from None


def run_bench(
    options: BenchOptions, *, state_dir: Path, cache_dir: Path, progress: Progress | None = None
) -> dict[str, Any]:
    if options.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    tasks = select(options)
    results = ResultsDir(options.results or default_results(state_dir, options))
    identity = options.identity()
    results.prepare(identity, fresh=options.fresh)
    template = ensure_template(cache_dir / "bench-template")
    todo = [
        RunSpec(
            task_raw=task.raw,
            task_source=f"{task.id}.json",
            repeat=i,
            mode=options.mode,
            template=str(template),
            home=str(results.work_dir(task.id, i)),
            result_file=str(results.result_file(task.id, i)),
            settings=options.settings if options.mode == "model" else None,
            seconds=options.seconds,
            tokens=options.tokens,
            max_turns=options.max_turns,
            prices=options.prices,
            keep=options.keep,
            grace=options.grace,
        )
        for i in range(options.repeat)
        for task in tasks
        if not results.done(task.id, i)
    ]
    if todo and options.mode == "model":
        check_model(options.settings)
    started = time.time()
    done = 0

    def on_done(spec: RunSpec, result: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(todo), spec, result)

    if todo:
        run_all(todo, jobs=options.jobs, on_done=on_done)
    meta = {
        **identity,
        "cargoShellVersion": __version__,
        "resultsDir": str(results.root),
        "ranNow": len(todo),
        "resumed": options.repeat * len(tasks) - len(todo),
        "elapsedSeconds": round(time.time() - started, 3),
        "jobs": options.jobs,
        "finishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    summary = summarize(tasks, results.load(tasks, options.repeat), repeat=options.repeat, meta=meta)
    write_json(results.summary_file, summary)
    from cargo_shell.bench.report_html import render_html

    results.report_file.write_text(render_html(summary), encoding="utf-8")
    summary["files"] = {"results": str(results.summary_file), "report": str(results.report_file)}
    return summary
