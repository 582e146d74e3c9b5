"""Natural language → the agent loop, with the shell as the person's confirmer.

In the shell the agent waits for the runs and batches it starts (live progress; Ctrl-C
offers cancel / detach), and every command it runs is recorded for ``/save``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cargo_shell.agent.runner import ExecutorRunner

if TYPE_CHECKING:
    from cargo_shell.agent.conversation import Conversation
    from cargo_shell.agent.events import AgentEvent
    from cargo_shell.executor import Confirmer, Executor, Outcome, Plan
    from cargo_shell.registry import CommandSpec
    from cargo_shell.repl.app import Repl
    from cargo_shell.repl.transcript import Transcript


class RecordingRunner(ExecutorRunner):
    """The agent's runner: waits for jobs when asked to and records what ran."""

    def __init__(self, executor: Executor, transcript: Callable[[], Transcript], *, wait_for_jobs: bool) -> None:
        super().__init__(executor)
        self.transcript = transcript
        self.wait_for_jobs = wait_for_jobs

    def run(
        self,
        spec: CommandSpec,
        params: BaseModel,
        *,
        confirmer: Confirmer,
        on_event: Callable[[Any], None],
        plan: Plan | None = None,
    ) -> Outcome:
        wait = True if (self.wait_for_jobs and spec.job is not None) else None
        if plan is not None:
            outcome = self.executor.run(plan, confirmer=confirmer, wait=wait, events=on_event, proposer="model")
        else:
            outcome = self.executor.run(spec, params, confirmer=confirmer, wait=wait, events=on_event, proposer="model")
        self.transcript().record(outcome)
        return outcome


def make_agent(
    model: Any,
    executor: Executor,
    confirmer: Confirmer,
    *,
    emit: Callable[[Any], None],
    conversation: Conversation,
    transcript: Callable[[], Transcript],
    wait_for_jobs: bool,
    limits: Any = None,
) -> Any:
    from cargo_shell.agent.loop import Agent

    runner = RecordingRunner(executor, transcript, wait_for_jobs=wait_for_jobs)
    return Agent(model, runner, confirmer, emit=emit, conversation=conversation, limits=limits)


class Brain:
    """The shell's side of the conversation: the agent on the shell's executor, confirmer and screen."""

    def __init__(self, repl: Repl, model: Any = None) -> None:
        from cargo_shell.commands.providers import agent_limits, make_model
        from cargo_shell.render.events import EventRenderer

        self.repl = repl
        self.renderer = EventRenderer(repl.console, waiting=repl.waiting)
        self.agent = make_agent(
            model if model is not None else make_model(repl.ctx, repl.model_override),
            repl.executor(),
            repl.confirmer,
            emit=self._emit,
            conversation=repl.conversation,
            transcript=lambda: repl.transcript,
            wait_for_jobs=True,
            limits=agent_limits(repl.ctx),
        )

    def _emit(self, event: AgentEvent) -> None:
        self.renderer(event)
        if self.repl.event_hook is not None:
            self.repl.event_hook(event)

    def turn(self, text: str) -> None:
        self.repl.state.busy = "thinking…"
        self.repl.waiting.start()
        try:
            self.agent.ask(text)
        finally:
            self.repl.waiting.stop()
            self.renderer.flush()
            self.repl.state.busy = None
