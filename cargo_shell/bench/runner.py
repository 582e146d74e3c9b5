"""One task run, start to verdict: sandbox copy, set-up, the agent's turns, verification, metrics.

The agent is the real one (:class:`cargo_shell.agent.loop.Agent`) over the real executor and the
sandbox copy; only the model differs between modes: the configured OpenAI-compatible endpoint, or
the task's oracle or decoy script. Confirmations go to the simulated user. The run's result is
plain JSON (written by the caller): status, checks, metrics, answers, and the error if any.

Statuses: ``pass`` (every check holds), ``fail`` (a check does not), ``budget`` (the time or token
budget ran out), ``error`` (the run could not be carried out: model unreachable, a broken script).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargo_shell.agent import events as ev
from cargo_shell.agent.model import ChatModel, ModelError
from cargo_shell.bench.checks import CheckError, CheckResult, Trace, evaluate, evaluate_all, inventory, run_checks
from cargo_shell.bench.metered import BudgetExceeded, MeteredModel
from cargo_shell.bench.refs import RefError, render, scope_resolver
from cargo_shell.bench.scripted import ScriptedModel
from cargo_shell.bench.task import Task
from cargo_shell.bench.user import SimulatedUser
from cargo_shell.bench.world import World, open_world
from cargo_shell.errors import CargoShellError
from cargo_shell.executor import Executor

MODES = ("model", "oracle", "decoy")


@dataclass
class Recorder:
    """Counts what the agent did, from its events."""

    model_calls: int = 0
    tool_calls: int = 0
    approvals: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    usage: list[tuple[str, int, int]] = field(default_factory=list)

    def __call__(self, event: ev.AgentEvent) -> None:
        if isinstance(event, ev.ModelCalled):
            self.model_calls += 1
            if event.usage is not None:
                self.usage.append((event.model, event.usage.prompt_tokens, event.usage.completion_tokens))
        elif isinstance(event, ev.ToolResult):
            self.tool_calls += 1
            self.statuses[event.status] = self.statuses.get(event.status, 0) + 1
        elif isinstance(event, ev.ConfirmationAsked):
            self.approvals.append(event.command)


def reader(executor: Executor) -> Any:
    """Read a command's data through ``executor``; anything but a read is refused."""
    from cargo_shell.registry import get_registry
    from cargo_shell.registry.effects import effective_effect

    def read(command: str, args: dict[str, Any]) -> Any:
        spec = get_registry().get(command)
        params = executor.validate(spec, args)
        from cargo_shell.executor.plan import arg_values

        if effective_effect(spec, arg_values(spec, params)).effect != "read":
            raise CheckError(f"the verifier only reads; `{command}` with these arguments is not a read")
        return executor.run(spec, params).data

    return read


def credits_used(read: Any) -> float:
    data = read("billing subscription get", {})
    return float((data.get("subscription") or {}).get("subscriptionCreditsUsedCount") or 0.0)


def run_setup(task: Task, world: World) -> None:
    """The task's set-up commands, approved, jobs awaited; later steps may use earlier results."""
    from cargo_shell.registry import get_registry

    executor = world.executor(assume_yes=True, audited=False)
    scope: dict[str, Any] = {}
    for i, step in enumerate(task.setup):
        spec = get_registry().get(step["command"])
        try:
            args = render(step.get("args") or {}, scope_resolver(scope))
            outcome = executor.run(spec, args, wait=True if spec.job is not None else None)
        except (RefError, CargoShellError) as exc:
            message = exc.message if isinstance(exc, CargoShellError) else str(exc)
            raise SetupError(f"set-up step {i + 1} ({step['command']}) failed: {message}") from None
        scope[str(step.get("id") or f"step{i + 1}")] = outcome.data


class SetupError(Exception):
    pass


def read_after(task: Task, scope: dict[str, Any], read: Any) -> list[CheckResult]:
    """The task's ``after`` values into ``scope``. One that cannot be read (the end state lacks it:
    no such agent, no deployed release) is a failed check, and so is every check that needs it."""
    failed: list[CheckResult] = []
    for name, spec in task.after.items():
        try:
            scope[name] = evaluate(spec, scope, read)
        except CheckError as exc:
            failed.append(CheckResult(False, f"the end state has {name}", str(exc)))
    return failed


def make_model(mode: str, task: Task, settings: Any) -> ChatModel:
    if mode in ("oracle", "decoy"):
        return ScriptedModel(task.script(mode), name=mode)
    from cargo_shell.agent.openai_model import OpenAIChatModel

    return OpenAIChatModel(settings)


def run_task(
    task: Task,
    *,
    mode: str,
    template: Path,
    home: Path,
    settings: Any = None,
    seconds: float | None = None,
    tokens: int | None = None,
    max_turns: int | None = None,
    prices: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Carry out one run of ``task`` in ``home`` and return its result (never raises)."""
    from cargo_shell.agent.limits import AgentLimits
    from cargo_shell.agent.loop import DEFAULT_MAX_TURNS, Agent
    from cargo_shell.agent.runner import ExecutorRunner

    started = time.monotonic()
    result: dict[str, Any] = {"task": task.id, "mode": mode, "status": "error", "checks": [], "answers": []}
    recorder = Recorder()
    user = SimulatedUser(task.user)
    trace = Trace()
    world: World | None = None
    metered: MeteredModel | None = None
    conversation: list[Any] = []
    try:
        world = open_world(template, home)
        run_setup(task, world)
        read = reader(world.executor(audited=False))
        scope: dict[str, Any] = {}
        evaluate_all(task.before, scope, read)
        needs_inventory = any(c["check"] == "nothing_removed" for c in task.checks)
        inventory_before = inventory(read) if needs_inventory else None
        credits_before = credits_used(read)
        metered = MeteredModel(
            make_model(mode, task, settings),
            clock=world.clock,
            seconds=seconds if seconds is not None else task.seconds,
            tokens=tokens if tokens is not None else task.tokens,
        )
        agent = Agent(
            metered,
            ExecutorRunner(world.executor()),
            user,
            emit=recorder,
            max_turns=max_turns or task.max_turns or DEFAULT_MAX_TURNS,
            limits=AgentLimits(model_seconds=metered.seconds),  # the run's budget, not the shell's per-turn one
        )
        conversation = agent.conversation.messages
        stop: tuple[str, str] | None = None
        for turn in task.turns:
            try:
                answer = agent.ask(turn)
            except BudgetExceeded as exc:
                stop = ("budget", exc.message)
                break
            except ModelError as exc:
                stop = ("error", exc.message)
                break
            trace.answers.append(answer.text)
            if answer.reason == "timeout":  # the agent's own clock agrees: the budget is spent
                stop = ("budget", answer.text)
                break
        left = getattr(metered.inner, "leftover", 0)
        if stop is None and left:
            stop = ("error", f"the {mode} script has {left} step(s) the agent never asked for")
        trace.approvals = list(recorder.approvals)
        trace.credits_spent = round(credits_used(read) - credits_before, 4)
        scope.update(trace.scope())
        checks = read_after(task, scope, read) + run_checks(
            list(task.checks), scope, read, inventory_before=inventory_before
        )
        result["checks"] = [c.to_json() for c in checks]
        if stop is not None:
            result["status"], result["error"] = stop
        else:
            result["status"] = "pass" if checks and all(c.ok for c in checks) else "fail"
    except SetupError as exc:
        result["error"] = str(exc)
    except CheckError as exc:
        result["error"] = f"verification could not read its values: {exc}"
    except Exception as exc:  # a bug must not take the whole benchmark down: it is this run's error
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc(limit=20)
    finally:
        if world is not None:
            world.close()
    result["answers"] = trace.answers
    result["unexpectedConfirmations"] = user.unexpected
    result["metrics"] = _metrics(recorder, metered, trace, time.monotonic() - started, prices)
    result["conversation"] = conversation
    return result


def _metrics(
    recorder: Recorder, metered: MeteredModel | None, trace: Trace, wall: float, prices: tuple[float, float] | None
) -> dict[str, Any]:
    from cargo_shell.bench.prices import cost_of_calls

    prompt = sum(p for _, p, _ in recorder.usage)
    completion = sum(c for _, _, c in recorder.usage)
    return {
        "modelTurns": recorder.model_calls,
        "toolCalls": recorder.tool_calls,
        "approvals": len(recorder.approvals),
        "tokensIn": prompt,
        "tokensOut": completion,
        "usageUnreported": metered.unreported if metered is not None else 0,
        "costUsd": cost_of_calls(recorder.usage, prices),
        "credits": trace.credits_spent,
        "wallSeconds": round(wall, 3),
        "toolStatuses": dict(recorder.statuses),
    }
