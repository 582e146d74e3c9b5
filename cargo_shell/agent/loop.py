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
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cargo_shell.agent import events as ev
from cargo_shell.agent.conversation import Conversation
from cargo_shell.agent.limits import CALLS_PER_REPLY, CALLS_PER_TURN, TURN_TIMEOUT, AgentLimits
from cargo_shell.agent.model import ChatModel, Message, ModelReply, TextDelta, ToolCall, Usage
from cargo_shell.agent.prompts import system_prompt
from cargo_shell.agent.results import MODEL_ERRORS, error_result, model_text, outcome_payload, quote_data
from cargo_shell.agent.runner import ActionRunner, PlanView
from cargo_shell.agent.tools import Decoded, HelpReply, InvalidCall, PreparedCall, Toolbox
from cargo_shell.agent.trimming import DEFAULT_BUDGET, DEFAULT_CONTEXT_CHARS, fit_context
from cargo_shell.errors import (
    ApprovalRequired,
)
from cargo_shell.executor.confirm import Approval, Confirmer, InterruptAware, InterruptChoice
from cargo_shell.executor.plan import Plan
from cargo_shell.secrets import Masker, remember

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


class _Relay:
    """The confirmer the executor sees: relays the person's answer and reports it as events."""

    def __init__(self, user: Confirmer, emit: ev.AgentSink, call_id: str) -> None:
        self.user = user
        self.emit = emit
        self.call_id = call_id
        self.answers: list[str] = []

    def confirm(self, plan: Plan) -> Approval:
        self.emit(ev.ConfirmationAsked(self.call_id, plan.command, plan.effect, plan.render()))
        try:
            approval = self.user.confirm(plan)
        except ApprovalRequired:  # nobody there to answer (no terminal): that is the decision
            self.emit(ev.ConfirmationAnswered(self.call_id, plan.command, "approval_required"))
            raise
        self.answers.append(approval.decision)
        self.emit(ev.ConfirmationAnswered(self.call_id, plan.command, approval.decision))
        return approval

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice:
        if isinstance(self.user, InterruptAware):
            return self.user.on_interrupt(kind, job_id)
        return "detach"


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
        self.max_turns = max_turns
        self.result_budget = result_budget
        self.context_budget = context_budget
        self.limits = limits or AgentLimits()
        self.clock = clock
        self._tools = self.toolbox.schemas()
        self._queue: deque[Queued] = deque()
        #: Plans of this turn's calls, by call id (ids are made unique per conversation: _own_ids).
        self._plans: dict[str, PlanView] = {}
        self._turns = 0
        self._fresh_ids = 0
        self._calls = 0  # tool calls run (or started) in this turn
        self._model_seconds = 0.0  # time spent waiting for the model in this turn
        self._told_turn_cap = False
        self._stop: FinalAnswer | None = None

    # -- driving ---------------------------------------------------------------------------------

    def ask(self, text: str) -> FinalAnswer:
        """Run one user message to a final answer (or the turn limit)."""
        self.conversation.add({"role": "user", "content": self.masker.text(text)})
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
            self._close_pending("not run: the turn was stopped before this call")
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

    def _messages(self) -> list[Message]:
        # Stored messages are masked when added; masking again here also hides values learned
        # since (a token the API returned after the user had pasted it).
        history = self.masker.data(self.conversation.messages)
        messages = [{"role": "system", "content": system_prompt()}, *history]
        return fit_context(messages, self.context_budget)

    def _call_model(self, budget: float) -> ModelReply:
        self._turns += 1
        reply = ModelReply()
        started = self.clock()
        try:
            for item in self.model.stream(self._messages(), self._tools, timeout=budget):
                if isinstance(item, TextDelta):
                    reply.text += item.text
                    self.emit(ev.TextDelta(item.text))
                elif isinstance(item, ToolCall):
                    reply.tool_calls.append(item)
                elif isinstance(item, Usage):
                    reply.usage = item
        finally:
            self._model_seconds += self.clock() - started
        reply.tool_calls = self._own_ids(reply.tool_calls)
        self.conversation.record_usage(self.model.name, reply.usage)
        self.emit(ev.ModelCalled(self.model.name, reply.usage))
        message = reply.to_message()
        if message["content"]:
            message["content"] = self.masker.text(message["content"])
        for part in message.get("tool_calls", []):
            part["function"]["arguments"] = self._mask_arguments(part["function"]["arguments"])
        self.conversation.add(message)
        return reply

    def _own_ids(self, calls: list[ToolCall]) -> list[ToolCall]:
        """Every call gets an id no other call of the conversation has.

        Models reuse ids across replies and some gateways send empty ones; a call keyed by such
        an id would show, approve or answer another call's command. A missing or taken id is
        replaced (in the history too, so tool results still pair with their calls).
        """
        taken = {
            part.get("id")
            for message in self.conversation.messages
            if message.get("role") == "assistant"
            for part in message.get("tool_calls") or ()
        }
        out: list[ToolCall] = []
        for call in calls:
            if call.id and call.id not in taken:
                fixed = call
            else:
                fresh = self._next_id(taken)
                fixed = ToolCall(fresh, call.name, call.arguments)
            taken.add(fixed.id)
            out.append(fixed)
        return out

    def _next_id(self, taken: set[Any]) -> str:
        while True:
            self._fresh_ids += 1
            candidate = f"call_cs{self._fresh_ids}"
            if candidate not in taken:
                return candidate

    def _mask_arguments(self, text: str) -> str:
        try:
            value = json.loads(text)
        except ValueError:
            return self.masker.text(text)
        return json.dumps(self.masker.data(value), ensure_ascii=False)

    def _run_prepared(self, prepared: PreparedCall) -> None:
        call, spec = prepared.call, prepared.spec
        relay = _Relay(self.confirmer, self.emit, call.id)
        try:
            outcome = self.runner.run(
                spec, prepared.params, confirmer=relay, on_event=lambda e: self.emit(ev.ExecutorEvent(call.id, e))
            )
        except MODEL_ERRORS as exc:
            failed, full, reply = error_result(spec.name, exc, declined_by_user=relay.answers[-1:] == ["no"])
            self._answer(call, spec.name, failed, full, reply)
            return
        effect = outcome.plan.effect if outcome.plan is not None else outcome.spec.effect
        if outcome.revealed and effect != "read":
            # e.g. the value of a token just created: masked for the model, shown once to the person
            self.emit(ev.SecretRevealed(call.id, spec.name, tuple(outcome.revealed)))
        status, payload = outcome_payload(spec, prepared.params, outcome)
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
        self.conversation.add({"role": "tool", "tool_call_id": call.id, "content": content})
        self.emit(ev.ToolResult(call.id, call.name, command, status, full, content, trimmed))

    def _close_pending(self, reason: str) -> None:
        """Give every tool call of the last assistant message a result, so the history stays valid."""
        messages = self.conversation.messages
        last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "assistant"), None)
        if last is not None:
            answered = {m.get("tool_call_id") for m in messages[last + 1 :] if m.get("role") == "tool"}
            for part in messages[last].get("tool_calls") or ():
                if part["id"] not in answered:
                    content = quote_data({"status": "not_run", "message": reason})
                    self.conversation.add({"role": "tool", "tool_call_id": part["id"], "content": content})
        self._queue.clear()
