"""Task runs in parallel: one child process per run, at most ``jobs`` at a time.

Why processes rather than threads: the oracle and decoy runs are CPU-bound Python and SQLite
(threads would take turns on one core), every run then gets its own process state (a run cannot
leak a cache, a connection or a changed setting into another), and a run that overruns its time
budget is stopped for sure by killing its process, which a thread cannot be. Children come from a
fork server that has already imported the benchmark (``forkserver``; ``spawn`` where that does not
exist), so a run starts in milliseconds, not after a second of imports, and never inherits a
thread from this process mid-way.

A child writes its result file itself; the parent writes one for a child that was killed at its
deadline or died without writing (``budget`` / ``error``), so every started run ends with a file.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Seconds a child may run past its time budget (set-up, verification) before it is killed.
GRACE_SECONDS = 60.0
CONVERSATION_SUFFIX = ".conversation.json"


@dataclass(frozen=True)
class RunSpec:
    """Everything a child needs (picklable): the task's data, where to work and write, the model."""

    task_raw: dict[str, Any]
    task_source: str
    repeat: int
    mode: str
    template: str
    home: str
    result_file: str
    settings: Any = None
    seconds: float | None = None
    tokens: int | None = None
    max_turns: int | None = None
    prices: tuple[float, float] | None = None
    keep: bool = False
    grace: float = GRACE_SECONDS

    @property
    def task_id(self) -> str:
        return str(self.task_raw["id"])

    def budget_seconds(self) -> float:
        from cargo_shell.bench.task import DEFAULT_SECONDS

        if self.seconds is not None:
            return self.seconds
        return float((self.task_raw.get("budget") or {}).get("seconds", DEFAULT_SECONDS))


def write_json(path: Path, data: Any) -> None:
    """Write atomically (a reader never sees half a file), owner-readable only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, default=str)
    os.replace(tmp, path)


def child_main(spec: RunSpec) -> None:
    """The child's whole life: parse the task, run it, write the result."""
    from cargo_shell.bench.runner import run_task
    from cargo_shell.bench.task import parse_task

    home = Path(spec.home)
    try:
        task = parse_task(spec.task_raw, source=spec.task_source)
        result = run_task(
            task,
            mode=spec.mode,
            template=Path(spec.template),
            home=home,
            settings=spec.settings,
            seconds=spec.seconds,
            tokens=spec.tokens,
            max_turns=spec.max_turns,
            prices=spec.prices,
        )
    except KeyboardInterrupt:
        return  # stopped by Ctrl-C: no result, so a resumed benchmark runs it again
    except Exception as exc:  # the parent must always get a file
        result = {"task": spec.task_id, "mode": spec.mode, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    result["repeat"] = spec.repeat
    conversation = result.pop("conversation", None)
    if conversation:
        write_json(conversation_file(Path(spec.result_file)), conversation)
    write_json(Path(spec.result_file), result)
    if not spec.keep:
        remove_work(home)


def remove_work(home: Path) -> None:
    """Delete a run's sandbox copy, and its task's folder once no other run of it is left there."""
    shutil.rmtree(home, ignore_errors=True)
    with contextlib.suppress(OSError):
        home.parent.rmdir()
        home.parent.parent.rmdir()


def conversation_file(result_file: Path) -> Path:
    """Where a run's conversation (masked, as the model saw it) is kept, next to its result."""
    return result_file.with_name(result_file.stem + CONVERSATION_SUFFIX)


def _context(*, model: bool) -> Any:
    """The fork server (preloading the benchmark, and the OpenAI SDK for model runs), or spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        preload = ["cargo_shell.bench.warm", "cargo_shell.bench.pool"]
        ctx.set_forkserver_preload([*preload, "cargo_shell.bench.warm_model"] if model else preload)
        return ctx
    return multiprocessing.get_context("spawn")


def _stopped(spec: RunSpec, status: str, error: str, started: float) -> dict[str, Any]:
    return {
        "task": spec.task_id,
        "mode": spec.mode,
        "repeat": spec.repeat,
        "status": status,
        "error": error,
        "checks": [],
        "answers": [],
        "metrics": {"wallSeconds": round(time.monotonic() - started, 3)},
    }


def run_all(
    specs: Sequence[RunSpec],
    *,
    jobs: int,
    on_done: Callable[[RunSpec, dict[str, Any]], None],
    target: Callable[[RunSpec], None] = child_main,
) -> None:
    """Run every spec, ``jobs`` at a time; ``on_done`` gets each result as its run ends.

    Ctrl-C stops the children still running (their runs have no result file, so a resumed
    benchmark runs them again) and is re-raised.
    """
    ctx = _context(model=any(spec.mode == "model" for spec in specs))
    waiting = list(specs)
    running: dict[Any, tuple[Any, RunSpec, float]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                spec = waiting.pop(0)
                Path(spec.result_file).unlink(missing_ok=True)
                conversation_file(Path(spec.result_file)).unlink(missing_ok=True)
                process = ctx.Process(target=target, args=(spec,), name=f"bench-{spec.task_id}-{spec.repeat}")
                process.start()
                running[process.sentinel] = (process, spec, time.monotonic())
            now = time.monotonic()
            deadlines = {s: started + spec.budget_seconds() + spec.grace for s, (_, spec, started) in running.items()}
            timeout = max(0.0, min(deadlines.values()) - now)
            ready = multiprocessing.connection.wait(list(running), timeout=timeout)
            now = time.monotonic()
            for sentinel in list(running):
                process, spec, started = running[sentinel]
                if sentinel in ready:
                    process.join()
                    del running[sentinel]
                    on_done(spec, _collect(spec, process.exitcode, started))
                elif now >= deadlines[sentinel]:
                    process.kill()
                    process.join()
                    del running[sentinel]
                    limit = spec.budget_seconds()
                    result = _stopped(
                        spec, "budget", f"stopped: the run went past its time budget ({limit:g} s)", started
                    )
                    write_json(Path(spec.result_file), result)
                    if not spec.keep:
                        remove_work(Path(spec.home))
                    on_done(spec, result)
    except BaseException:
        for process, spec, _ in running.values():
            process.kill()
            process.join()
            Path(spec.result_file).unlink(missing_ok=True)
        raise


def _collect(spec: RunSpec, exitcode: int | None, started: float) -> dict[str, Any]:
    path = Path(spec.result_file)
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        result = _stopped(spec, "error", f"the run's process ended (exit code {exitcode}) without a result", started)
        write_json(path, result)
        return result
