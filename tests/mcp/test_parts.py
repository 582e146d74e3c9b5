"""The MCP front end's own parts, in process: the read-only policy, progress values, open questions."""

from __future__ import annotations

import pytest

from cargo_shell.executor import Policy, Rule
from cargo_shell.executor.events import JobFinished, JobProgress, JobStarted, StageFinished, StageStarted
from cargo_shell.mcp.progress import ProgressRelay
from cargo_shell.mcp.rounds import TTL_S, NeedsAnswer, OpenQuestions, asker
from tests.executor.test_policy import plan_for


@pytest.mark.parametrize("effect", ["write", "destructive", "cost"])
def test_read_only_denies_what_rules_flags_and_always_would_allow(effect: str) -> None:
    plan = plan_for(effect)
    policy = Policy([Rule(1, "allow", "*")], assume_yes=True, yes_destructive=True, read_only=True)
    policy.remember_always(plan.command)
    verdict = policy.decide(plan)
    assert (verdict.kind, verdict.source) == ("deny", "flag")
    assert "--read-only" in verdict.reason
    assert policy.decide(plan_for("read")).kind == "allow"


def test_progress_only_grows_across_the_stages_of_a_rollout() -> None:
    sent: list[tuple[float, float | None, str]] = []
    relay = ProgressRelay(lambda p, t, m: sent.append((p, t, m)))
    for index, size in ((1, 1), (2, 49)):
        relay(StageStarted(index, 2, size, 50))
        relay(JobStarted("batch", f"b{index}", "orchestration batch create", size))
        relay(JobProgress("batch", f"b{index}", "running", 1.0, 0, 0, size))  # nothing finished yet: not sent
        relay(JobProgress("batch", f"b{index}", "running", 2.0, size // 2, 0, size))
        relay(JobFinished("batch", f"b{index}", "success", 0, size, size))
        relay(StageFinished(index, 2, size, 0, "success"))
    values = [p for p, _, _ in sent]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert {t for _, t, _ in sent} == {50.0}  # the rollout's total, not a stage's
    assert sent[-1][0] == 50.0 and sent[-1][2] == "batch b2 ended success: 49 done (0 failed) of 49"
    messages = [m for _, _, m in sent]
    assert "rollout stage 1 of 2 ended success, 0 failed" in messages
    assert "rollout stage 2 of 2 ended success, 0 failed" not in messages  # the batch's end already reached the total
    assert not any("running: 0 done" in m for _, _, m in sent)
    assert [p for p, _, m in sent if "running" in m] == [24.0 + 1]  # stage 2 half done; stage 1's 0 of 1 not sent


def test_an_open_question_is_answered_once_and_not_after_its_time() -> None:
    now = [0.0]
    questions = OpenQuestions(clock=lambda: now[0])
    state = questions.open("RUN X")
    answer = questions.take(state, "accept", {"run": True})
    assert answer is not None and asker(answer)("RUN X", {}) == ("accept", {"run": True})
    assert questions.take(state, "accept", {"run": True}) is None  # used up
    with pytest.raises(NeedsAnswer):
        asker(questions.take(questions.open("RUN X"), "accept", {"run": True}))("RUN Y", {})  # another plan
    late = questions.open("RUN X")
    now[0] += TTL_S
    assert questions.take(late, "accept", {"run": True}) is None
