"""Ctrl-C while waiting for an agent's answer offers "cancel", and cancelling stops the answer for real."""

from __future__ import annotations

from cargo_shell.executor import Approval, Policy
from cargo_shell.registry import get_registry

from .conftest import Answers, FakeClock, MakeExecutor, first
from .test_polling import interrupt_on

MESSAGE = get_registry().get("ai message create")


def test_ctrl_c_cancel_cancels_the_answer_being_generated(make_executor: MakeExecutor, clock: FakeClock) -> None:
    setup = make_executor(policy=Policy(assume_yes=True))
    agent = first(setup, "ai agent list", "agents", name="Lead researcher")
    chat = setup.run(get_registry().get("ai chat create"), {"trigger": {"type": "draft"}, "agent-uuid": agent["uuid"]})
    confirmer = Answers(Approval("yes"), interrupt="cancel")
    executor = make_executor(confirmer=confirmer, sleep=interrupt_on(clock, 1))
    parts = [{"type": "text", "text": "Which accounts first?"}]
    outcome = executor.run(
        MESSAGE, {"chat-uuid": chat.data["chat"]["uuid"], "parts": parts, "wait-until-finished": True}
    )
    assert outcome.cancelled and outcome.job_status == "cancelled"
    clock.advance(60)  # well past the moment the sandbox agent answers
    answer = setup.run(get_registry().get("ai message get"), {"message-uuid": outcome.job_id}).data["message"]
    assert answer["status"] == "cancelled" and answer["parts"] == []
