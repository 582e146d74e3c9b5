"""The bounded tool-calling loop.

``Agent.step()`` returns a tagged next step — :class:`FinalAnswer`, :class:`RunTools` or
:class:`NeedsApproval` — and ``Agent.perform(step)`` carries out a tool step; ``Agent.ask(text)``
drives both until an answer or a limit. The loop never prints: it emits events
(:mod:`cargo_shell.agent.events`). Every command goes through the executor as a proposal of the
model; approvals come only from the person's confirmer, never from model text or workspace data.

Limits per turn (:class:`~cargo_shell.agent.limits.AgentLimits`): model calls, tool calls per
reply and per turn (calls over a cap are answered "not run" so the model can summarise; a
model that keeps calling after the turn cap is stopped) and the time spent waiting for the
model. Everything the model sees is masked (:mod:`cargo_shell.secrets`); a secret the API
returns to an action (a token just created) is shown to the person once, as an event.

Errors: arguments the model can fix and API errors go back to the model as tool results;
anything else (a bug, a broken config, the model being unreachable, Ctrl-C) stops the turn and
reaches the user, after the conversation is closed off so it stays valid for the next turn.

What a call's answer says is :mod:`~cargo_shell.agent.results`'s; what is stored and sent to the
model is :mod:`~cargo_shell.agent.history`'s; this module decides only what runs next.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cargo_shell.agent import events as ev
from cargo_shell.agent.conversation import Conversation
from cargo_shell.agent.history import History
from cargo_shell.agent.limits import CALLS_PER_REPLY, CALLS_PER_TURN, TURN_TIMEOUT, AgentLimits
from cargo_shell.agent.model import ChatModel, ModelReply, TextDelta, ToolCall, Usage
from cargo_shell.agent.results import DECLINED, MODEL_ERRORS, Relay, error_result, model_text, quote_data, success
from cargo_shell.agent.runner import ActionRunner, PlanView
from cargo_shell.agent.tools import Decoded, HelpReply, InvalidCall, PreparedCall, Toolbox
from cargo_shell.agent.trimming import DEFAULT_BUDGET, DEFAULT_CONTEXT_CHARS
from cargo_shell.executor.confirm import Confirmer
from cargo_shell.secrets import Masker, remember

#: Names other modules and tests import from here.
__all__ = ["DECLINED", "Agent", "FinalAnswer", "NeedsApproval", "NotRun", "RunTools", "Step", "quote_data"]

DEFAULT_MAX_TURNS = 12


@dataclass(frozen=True)
class FinalAnswer:
    text: str
    reason: ev.FinalReason = "answer"


@dataclass(frozen=True)
class NotRun:
    """A call over a cap: answered "not run" with ``message``, so the model can wrap up."""

    call: ToolCall
    message: str


Queued = Decoded | NotRun


@dataclass(frozen=True)
class RunTools:
    """Calls that need no decision from the person (reads, help, invalid arguments, capped calls)."""

    calls: tuple[Queued, ...]


@dataclass(frozen=True)
class NeedsApproval:
    """The next call writes, destroys or spends: the executor will ask the person first."""

    call: PreparedCall
    plan: PlanView


Step = FinalAnswer | RunTools | NeedsApproval


class Agent:
    def __init__(
        self,
        model: ChatModel,
        runner: ActionRunner,
        confirmer: Confirmer,
        *,
        toolbox: Toolbox | None = None,
        masker: Masker | None = None,
        emit: ev.AgentSink = ev.ignore,
        conversation: Conversation | None = None,
        max_turns: int = DEFAULT_MAX_TURNS,
        result_budget: int = DEFAULT_BUDGET,
        context_budget: int = DEFAULT_CONTEXT_CHARS,
        limits: AgentLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.runner = runner
        self.confirmer = confirmer
        self.toolbox = toolbox or Toolbox()
        # The secrets the runner and the model know (Cargo token, model API key) join the
        # process's registry, so the masker hides them by value.
        remember(*getattr(runner, "known_secrets", ()), *getattr(model, "known_secrets", ()))
        self.masker = masker or Masker()
        self.emit = emit
        self.conversation = conversation or Conversation()
        self.history = History(self.conversation, self.masker)
        self.max_turns = max_turns
        self.result_budget = result_budget
        self.context_budget = context_budget
        self.limits = limits or AgentLimits()
        self.clock = clock
        self._tools = self.toolbox.schemas()
        self._queue: deque[Queued] = deque()
        #: Plans of this turn's calls, by call id (ids are made unique per conversation: History.own_ids).
        self._plans: dict[str, PlanView] = {}
        self._turns = 0
        self._calls = 0  # tool calls run (or started) in this turn
        self._model_seconds = 0.0  # time spent waiting for the model in this turn
        self._told_turn_cap = False
        self._stop: FinalAnswer | None = None

    # -- driving ---------------------------------------------------------------------------------

    def ask(self, text: str) -> FinalAnswer:
        """Run one user message to a final answer (or the turn limit)."""
        self.history.add_user(text)
        self._turns = self._calls = 0
        self._model_seconds = 0.0
        self._told_turn_cap = False
        self._stop = None
        self._queue.clear()
        self._plans.clear()
        try:
            while True:
                step = self.step()
                if isinstance(step, FinalAnswer):
                    self.emit(ev.Final(step.text, step.reason))
                    return step
                self.perform(step)
        except BaseException:
            self.history.close_pending("not run: the turn was stopped before this call")
            self._queue.clear()
            raise

    def step(self) -> Step:
        if self._queue:
            head = self._queue[0]
            if isinstance(head, PreparedCall):
                plan = self._preview(head)
                if plan.verdict == "ask":
                    self._queue.popleft()
                    return NeedsApproval(head, plan)
            batch: list[Queued] = []
            while self._queue and not self._needs_person(self._queue[0]):
                batch.append(self._queue.popleft())
            return RunTools(tuple(batch))
        if self._stop is not None:
            return self._stop
        if self._turns >= self.max_turns:
            text = (
                f"I stopped after {self.max_turns} model calls without reaching an answer. "
                "Tell me how to continue, or ask a narrower question."
            )
            return FinalAnswer(text, "max_turns")
        budget = self.limits.model_seconds - self._model_seconds
        if budget <= 0:
            text = (
                f"I stopped: this request used up the {self.limits.model_seconds:g} s allowed for waiting on the "
                f"language model. Ask a narrower question, or allow longer with {TURN_TIMEOUT.describe()}."
            )
            return FinalAnswer(text, "timeout")
        reply = self._call_model(budget)
        if not reply.tool_calls:
            return FinalAnswer(reply.text)
        told = self._told_turn_cap
        for index, call in enumerate(reply.tool_calls):
            over = self._over_cap(index, len(reply.tool_calls))
            if over is not None:
                self._queue.append(NotRun(call, over))
                self._told_turn_cap |= self._calls >= self.limits.calls_per_turn
                continue
            self._calls += 1
            decoded = self.toolbox.decode(call)
            if isinstance(decoded, PreparedCall):
                plan = self._preview(decoded)
                self.emit(
                    ev.ToolCallPlanned(
                        call.id,
                        call.name,
                        decoded.spec.name,
                        self.masker.data(decoded.args),
                        plan.effect,
                        plan.command_line,
                        plan.effect_reasons,
                    )
                )
            self._queue.append(decoded)
        if told:  # told about the turn's cap and still calling tools: answer the calls, then stop
            self._stop = FinalAnswer(
                f"I stopped: the limit of {self.limits.calls_per_turn} tool calls for one request was reached. "
                f"Ask me to continue, or raise the limit with {CALLS_PER_TURN.describe()}.",
                "max_tool_calls",
            )
        return self.step()

    def perform(self, step: RunTools | NeedsApproval) -> None:
        if isinstance(step, NeedsApproval):
            self._run_prepared(step.call)
            return
        for decoded in step.calls:
            if isinstance(decoded, NotRun):
                payload = {"status": "not_run", "message": decoded.message}
                self._answer(decoded.call, None, "not_run", payload, payload)
            elif isinstance(decoded, HelpReply):
                self._answer(decoded.call, None, "help", decoded.content, decoded.content, raw=True)
            elif isinstance(decoded, InvalidCall):
                payload = {"status": "invalid_arguments", "message": decoded.message}
                self._answer(decoded.call, None, "invalid", payload, payload)
            else:
                self._run_prepared(decoded)

    # -- internals -------------------------------------------------------------------------------

    def _over_cap(self, index: int, asked: int) -> str | None:
        """Why the ``index``-th call of a reply asking for ``asked`` calls is not run, or None."""
        limits = self.limits
        if index >= limits.calls_per_reply:
            return (
                f"not run: this reply asked for {asked} tool calls and at most {limits.calls_per_reply} run per reply "
                f"({CALLS_PER_REPLY.key}). Work with the results you have, or ask for fewer at a time."
            )
        if self._calls >= limits.calls_per_turn:
            return (
                f"not run: the limit of {limits.calls_per_turn} tool calls for one request was reached "
                f"({CALLS_PER_TURN.key}). Answer the user now with what you have and say what is left to do."
            )
        return None

    def _needs_person(self, decoded: Queued) -> bool:
        if not isinstance(decoded, PreparedCall):
            return False
        return self._preview(decoded).verdict == "ask"

    def _preview(self, prepared: PreparedCall) -> PlanView:
        """The plan of a call, built once (it may look names up)."""
        key = prepared.call.id
        if key not in self._plans:
            self._plans[key] = self.runner.preview(prepared.spec, prepared.params)
        return self._plans[key]

    def _call_model(self, budget: float) -> ModelReply:
        self._turns += 1
        reply = ModelReply()
        started = self.clock()
        try:
            for item in self.model.stream(self.history.for_model(self.context_budget), self._tools, timeout=budget):
                if isinstance(item, TextDelta):
                    reply.text += item.text
                    self.emit(ev.TextDelta(item.text))
                elif isinstance(item, ToolCall):
                    reply.tool_calls.append(item)
                elif isinstance(item, Usage):
                    reply.usage = item
        finally:
            self._model_seconds += self.clock() - started
        self.history.add_reply(self.model.name, reply)
        self.emit(ev.ModelCalled(self.model.name, reply.usage))
        return reply

    def _run_prepared(self, prepared: PreparedCall) -> None:
        call, spec = prepared.call, prepared.spec
        relay = Relay(self.confirmer, self.emit, call.id)
        try:
            outcome = self.runner.run(
                spec,
                prepared.params,
                confirmer=relay,
                on_event=lambda e: self.emit(ev.ExecutorEvent(call.id, e)),
                plan=self._preview(prepared).plan,
            )
        except MODEL_ERRORS as exc:
            failed, full, reply = error_result(spec.name, exc, declined_by_user=relay.declined)
            self._answer(call, spec.name, failed, full, reply)
            return
        effect = outcome.plan.effect if outcome.plan is not None else outcome.spec.effect
        if outcome.revealed and effect != "read":
            # e.g. the value of a token just created: masked for the model, shown once to the person
            self.emit(ev.SecretRevealed(call.id, spec.name, tuple(outcome.revealed)))
        status, payload = success(spec, prepared.params, outcome)
        self._answer(call, spec.name, status, outcome.data, payload)

    def _answer(
        self,
        call: ToolCall,
        command: str | None,
        status: ev.ResultStatus,
        full: Any,
        payload: Any,
        *,
        raw: bool = False,
    ) -> None:
        content, trimmed = model_text(payload, self.masker, budget=self.result_budget, raw=raw)
        self.history.add_result(call.id, content)
        self.emit(ev.ToolResult(call.id, call.name, command, status, full, content, trimmed))
