"""The registry data the executor reads, held to its consumers and to the official client.

Job kinds (``jobs.json``): their commands exist and take the arguments named; the cancel template's
placeholders are fields of the job object as the official client types it; every command that
starts a job names a known kind.
"""

from __future__ import annotations

from typing import Any

import pytest

from cargo_shell.registry import get_registry
from cargo_shell.registry.jobs import JOB_ID, JobKind, placeholders
from tests.client_facts.compare import operations_of
from tests.client_facts.facts import load_facts

REGISTRY = get_registry()
KINDS = REGISTRY.job_kinds


def _arg_names(command: str) -> set[str]:
    return {a.name for a in REGISTRY.get(command).args}


@pytest.mark.parametrize("kind", sorted(KINDS.values(), key=lambda k: k.kind), ids=lambda k: k.kind)
def test_each_job_kind_names_commands_and_arguments_that_exist(kind: JobKind) -> None:
    assert kind.get_command in REGISTRY and REGISTRY.get(kind.get_command).effect == "read"
    assert kind.get_id_arg in _arg_names(kind.get_command)
    assert kind.list_command in REGISTRY and REGISTRY.get(kind.list_command).effect == "read"
    assert kind.terminal and 0 < kind.interval_s <= kind.slow_interval_s and kind.slow_after_s > 0
    if kind.cancel_command is None:
        assert not kind.cancel_template
        return
    assert kind.cancel_command in REGISTRY
    assert set(kind.cancel_template) <= _arg_names(kind.cancel_command)
    assert JOB_ID in placeholders(kind.cancel_template), "a cancel that does not name the job cancels something else"


@pytest.mark.parametrize("kind", sorted(KINDS.values(), key=lambda k: k.kind), ids=lambda k: k.kind)
def test_cancel_placeholders_are_fields_of_the_job_the_client_returns(kind: JobKind) -> None:
    facts = load_facts()
    [op] = operations_of(facts, REGISTRY.get(kind.get_command))
    assert op is not None and op.result is not None
    job = facts.resolve(op.result["properties"][kind.response_key])
    assert set(kind.job_fields) <= set(job["properties"]), f"{kind.kind}: {kind.job_fields} vs the client's job"


def test_every_command_that_starts_a_job_names_a_known_kind() -> None:
    starting = [s for s in REGISTRY if s.job is not None]
    assert starting
    for spec in starting:
        assert spec.job is not None and spec.job.kind in KINDS, spec.name


def test_cancel_arguments_come_from_the_template() -> None:
    run, batch = KINDS["run"], KINDS["batch"]
    assert batch.cancel_args("b-1", {"workflowUuid": "w-9"}) == {"batch-uuid": "b-1"}
    args: dict[str, Any] = run.cancel_args("r-1", {"workflowUuid": "w-9", "actionId": "a"})
    assert args == {"workflow-uuid": "w-9", "uuids": ["r-1"]}
    assert run.job_fields == ("workflowUuid",)


def test_a_cancel_missing_a_job_field_says_which() -> None:
    from cargo_shell.errors import UsageError

    with pytest.raises(UsageError, match="workflowUuid is not known"):
        KINDS["run"].cancel_args("r-1", {})
    with pytest.raises(UsageError, match="cannot be cancelled"):
        KINDS["message"].cancel_args("m-1", {})
