"""Retries against the sandbox's fault injection: reads always get through, writes never double."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cargo_shell.errors import (
    AmbiguousNetworkError,
    ApiError,
    ConnectError,
    RequestError,
    ServerError,
)
from cargo_shell.executor import Policy, RequestSent, RetryConfig, RetryScheduled, WriteOutcomeUnknown
from cargo_shell.executor.retry import backoff_delay, classify, creates_or_spends
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox

from .conftest import FakeClock, MakeExecutor

FAULTS = "429=0.06,503=0.05,500=0.04,502=0.03,500after=0.05,reset=0.03,resetafter=0.03,retry-after=1,seed={seed}"


def test_every_read_succeeds_under_faults(box: Sandbox, make_executor: MakeExecutor, clock: FakeClock) -> None:
    box.app.faults = FaultSpec.parse(FAULTS.format(seed=11))
    events: list[object] = []
    executor = make_executor(events=events.append)
    spec = get_registry().get("workspace folder list")
    for _ in range(1000):
        assert "folders" in executor.run(spec, {}).data
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    assert len(retries) > 150  # faults really happened (about 29% of first attempts)
    assert any(e.delay_s == 1.0 for e in retries)  # Retry-After honoured on 429/503
    assert sum(clock.sleeps) > 0  # and no real time was spent sleeping


def test_creates_under_faults_are_never_duplicated_nor_lost(box: Sandbox, make_executor: MakeExecutor) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    spec = get_registry().get("workspace folder create")
    box.app.faults = FaultSpec.parse(FAULTS.format(seed=5))
    succeeded, unknown, refused = [], [], []
    for i in range(500):
        name = f"fault-{i}"
        try:
            executor.run(spec, {"name": name, "emoji-slug": "rocket", "kind": "play"})
            succeeded.append(name)
        except WriteOutcomeUnknown as exc:
            assert exc.check_command and exc.check_command.startswith("cargo-shell workspace folder list")
            unknown.append(name)
        except ApiError:
            refused.append(name)
    box.app.faults = None
    names = Counter(f["name"] for f in executor.run(get_registry().get("workspace folder list"), {}).data["folders"])
    assert all(n <= 1 for n in names.values()), "a create was sent twice"
    assert all(names[n] == 1 for n in succeeded), "a reported success is missing"
    assert all(names[n] == 0 for n in refused), "a refused create was applied"
    assert len(succeeded) + len(unknown) + len(refused) == 500  # every create has a reported outcome
    assert unknown and sum(names[n] for n in unknown) > 0  # some ambiguous ones did land: the user must check
    assert len(succeeded) > 350


def test_ambiguous_create_is_reported_with_a_check_command(box: Sandbox, make_executor: MakeExecutor) -> None:
    sent: list[RequestSent] = []
    executor = make_executor(
        policy=Policy(assume_yes=True), events=lambda e: sent.append(e) if isinstance(e, RequestSent) else None
    )
    wf = "f25816c8-a008-480f-9a3f-b8b0595f5548"
    listing = get_registry().get("orchestration batch list")
    before = len(executor.run(listing, {"workflow-uuids": [wf]}).data["batches"])
    box.app.faults = FaultSpec.parse("resetafter=1")
    with pytest.raises(WriteOutcomeUnknown) as err:
        executor.run(
            get_registry().get("orchestration batch create"),
            {"workflow-uuid": wf, "data": {"kind": "records", "records": [{"domain": "a.example"}]}},
        )
    assert err.value.to_json()["checkCommand"] == (
        f"cargo-shell orchestration batch list --workflow-uuids {wf} --limit 10"
    )
    # the create went out once, never retried; the other requests are reads of lists (some lists are POSTs)
    writes = [(e.method, e.path) for e in sent if e.method != "GET" and not e.path.endswith("/list")]
    assert writes == [("POST", "/v1/orchestration/batches")]
    box.app.faults = None
    after = len(executor.run(listing, {"workflow-uuids": [wf]}).data["batches"])
    assert after == before + 1  # it did land, once


@pytest.mark.parametrize(
    ("error", "unsafe", "verdict"),
    [
        (ConnectError("x"), True, "retry"),
        (AmbiguousNetworkError("x"), True, "ambiguous"),
        (AmbiguousNetworkError("x"), False, "retry"),
        (ServerError("x", status=429), True, "retry"),
        (ServerError("x", status=503), True, "retry"),
        (ServerError("x", status=500), True, "ambiguous"),
        (ServerError("x", status=504), True, "ambiguous"),
        (ServerError("x", status=502), False, "retry"),
        (RequestError("x", status=408), False, "retry"),
        (RequestError("x", status=408), True, "ambiguous"),
        (RequestError("x", status=400), False, "fail"),
        (RequestError("x", status=404), True, "fail"),
    ],
)
def test_classification(error: ApiError, unsafe: bool, verdict: str) -> None:
    assert classify(error, unsafe=unsafe) == verdict


def test_which_commands_create_or_spend() -> None:
    reg = get_registry()
    unsafe = {s.name for s in reg if creates_or_spends(s)}
    assert {"orchestration batch create", "orchestration run create", "ai message create"} <= unsafe
    assert {"orchestration action execute", "workspace folder create"} <= unsafe
    assert "orchestration run list" not in unsafe  # a POST that only reads
    assert "orchestration batch cancel" not in unsafe  # idempotent


def test_backoff_is_bounded_jittered_and_honours_retry_after() -> None:
    cfg = RetryConfig(base_delay_s=0.5, max_delay_s=8)
    rng = random.Random(1)
    delays = [backoff_delay(n, cfg, rng, None) for n in range(1, 10)]
    assert all(0.25 <= d <= 8 for d in delays)
    assert delays[5] > delays[0]
    assert backoff_delay(1, cfg, rng, 3.0) == 3.0
    assert backoff_delay(1, cfg, rng, 120.0) == 8


def test_retries_stop_at_the_attempt_bound(box: Sandbox, make_executor: MakeExecutor) -> None:
    box.app.faults = FaultSpec.parse("503=1")
    executor = make_executor(retry=RetryConfig(max_attempts=3, base_delay_s=0.1))
    with pytest.raises(ServerError):
        executor.run(get_registry().get("workspace folder list"), {})
    assert executor.sender.attempts == 3


def test_retries_stop_at_the_time_budget(box: Sandbox, make_executor: MakeExecutor) -> None:
    box.app.faults = FaultSpec.parse("500=1")
    executor = make_executor(retry=RetryConfig(max_attempts=50, base_delay_s=1, max_delay_s=4, max_total_s=10))
    with pytest.raises(ServerError):
        executor.run(get_registry().get("workspace folder list"), {})
    assert 3 <= executor.sender.attempts < 10


def test_not_implemented_is_never_retried() -> None:
    from cargo_shell.errors import RequestError, ServerError
    from cargo_shell.executor.retry import classify

    for status in (501, 505):
        exc = ServerError("no", status=status)
        assert classify(exc, unsafe=False) == "fail"
        assert classify(exc, unsafe=True) == "fail"
    assert classify(ServerError("x", status=502), unsafe=False) == "retry"
    assert classify(ServerError("x", status=502), unsafe=True) == "ambiguous"
    assert classify(RequestError("x", status=429), unsafe=True) == "retry"
