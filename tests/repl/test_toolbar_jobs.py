"""The toolbar's job count follows the API: a batch that finished while nobody waited is not "running"."""

from __future__ import annotations

from cargo_shell.registry import get_registry
from tests.repl.conftest import RunRepl, World

TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"


def test_a_batch_that_finished_elsewhere_is_not_counted_as_running(run_repl: RunRepl, world: World) -> None:
    executor = world.ctx.make_executor()
    executor.policy.assume_yes = True
    spec = get_registry().get("orchestration batch create")
    started = executor.run(
        spec, {"workflow-uuid": TOOL_WF, "data": {"kind": "records", "records": [{"domain": "a.b"}]}}
    )
    assert executor.jobs is not None and executor.jobs.list(active_only=True)  # tracked, not finished
    world.clock.advance(120)  # it ends on the server; no one is polling it
    driven = run_repl("whoami\r")
    assert driven.repl.state.running_jobs == 0
    record = executor.jobs.get(started.job_id or "")
    assert record is not None and record.status == "success"
