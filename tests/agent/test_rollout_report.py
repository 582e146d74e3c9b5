"""The model hears about a staged rollout as a whole: every stage, the totals, failures and credits."""

from __future__ import annotations

import json
from typing import Any

from tests.agent.conftest import MakeAgent
from tests.agent.fakes import Message, call, calls, last_result, say

PLAY_WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"  # play "Score new companies", one connector node
GOLD = "0710d992-8783-4f8b-9022-8fe1eba60683"  # segment of 126 companies: staged 1 → 50 → 126


def test_a_staged_rollout_reaches_the_model_whole(make_agent: MakeAgent) -> None:
    seen: dict[str, Any] = {}

    def report(msgs: list[Message]) -> list[Any]:
        result = last_result(msgs)
        seen.update(result)
        rollout = result["result"]
        return say(
            f"{rollout['sentRecords']}/{rollout['totalRecords']} records in {len(rollout['stages'])} stages, "
            f"{rollout['failedRuns']} of {rollout['runs']} runs failed, {rollout['credits']:g} credits"
        )

    args = {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": GOLD}, "wait-until-finished": True}
    h = make_agent([calls(call("orchestration", "orchestration batch create", args)), report], answers=["yes"])
    answer = h.agent.ask("Score every company of the gold segment")

    rollout, job = seen["result"], seen["job"]
    assert job["status"] == "success" and job["uuid"] == rollout["jobIds"][-1]  # not null
    assert [s["records"] for s in rollout["stages"]] == [1, 49, 76]
    assert rollout["runs"] == 126 and rollout["credits"] == job["credits_used"]
    assert answer.text.startswith(f"126/126 records in 3 stages, {rollout['failedRuns']} of 126 runs failed")
    view = json.loads(h.results()[-1].model_view)
    assert "batch" not in view["result"]  # no last stage posing as the whole
