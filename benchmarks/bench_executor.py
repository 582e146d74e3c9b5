"""Executor benchmarks on the embedded sandbox (in-process WSGI transport).

1. Overhead per read call: ``Executor.run`` (plan, policy, retries wrapper, audit line)
   against a raw ``httpx.Client.get`` of the same endpoint. Target: ratio <= 1.1.
2. Poll requests per finished job: batches and runs started with --wait-until-finished on
   a fake clock (the sandbox advances with it), counting the GETs the poller sends.

Run: python benchmarks/bench_executor.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from cargo_shell.api.client import CargoClient
from cargo_shell.api.request import build_request
from cargo_shell.executor import AuditLog, Executor, JobStore, Policy, RequestSent, RunContext
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.runtime import Sandbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 1736935200.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def bench_reads(box: Sandbox, tmp: Path, calls: int) -> None:
    http = httpx.Client(transport=httpx.WSGITransport(app=box.app))
    headers = {"authorization": f"Bearer {box.token}", "selected-workspace-uuid": box.workspace_uuid}
    url = f"{box.base_url}/v1/workspaceManagement/folders/list"
    client = CargoClient(
        httpx.Client(transport=httpx.WSGITransport(app=box.app)),
        base_url=box.base_url,
        token=box.token,
        workspace_uuid=box.workspace_uuid,
    )
    executor = Executor(
        client,
        policy=Policy(),
        jobs=JobStore(tmp / "jobs.db"),
        audit=AuditLog(tmp / "audit.jsonl", profile="default", workspace_uuid=box.workspace_uuid),
        context=RunContext("default", box.workspace_uuid, box.base_url),
    )
    spec = get_registry().get("workspace folder list")

    def raw() -> None:
        r = http.get(url, headers=headers)
        r.raise_for_status()
        r.json()

    def via_executor() -> None:
        executor.run(spec, {})

    request = build_request(spec, executor.validate(spec, {}))

    def via_client() -> None:
        client.send(request)

    variants = (("raw", raw), ("client", via_client), ("executor", via_executor))
    for _, fn in variants:  # warm up
        for _ in range(50):
            fn()
    rounds: dict[str, list[float]] = {name: [] for name, _ in variants}
    for _ in range(5):  # interleave to share any drift
        for name, fn in variants:
            start = time.perf_counter()
            for _ in range(calls // 5):
                fn()
            rounds[name].append((time.perf_counter() - start) / (calls // 5))
    raw_us = statistics.median(rounds["raw"]) * 1e6
    ex_us = statistics.median(rounds["executor"]) * 1e6
    client_us = statistics.median(rounds["client"]) * 1e6
    print(f"read call, raw httpx:       {raw_us:8.1f} µs")
    print(f"read call, CargoClient.send:{client_us:8.1f} µs  (core client, one request, no executor)")
    print(f"read call, Executor.run:    {ex_us:8.1f} µs  (audit line included)")
    print(f"Executor vs raw httpx:     ratio {ex_us / raw_us:.3f} (+{ex_us - raw_us:.0f} µs; target <= 1.1)")
    print(f"Executor vs CargoClient:   ratio {ex_us / client_us:.3f} (+{ex_us - client_us:.0f} µs executor's own work)")


def bench_polls(box: Sandbox, clock: FakeClock, tmp: Path, jobs: int) -> None:
    sent: list[RequestSent] = []
    client = CargoClient(
        httpx.Client(transport=httpx.WSGITransport(app=box.app)),
        base_url=box.base_url,
        token=box.token,
        workspace_uuid=box.workspace_uuid,
    )
    executor = Executor(
        client,
        policy=Policy(assume_yes=True),
        events=lambda e: sent.append(e) if isinstance(e, RequestSent) else None,
        sleep=clock.sleep,
        clock=clock,
        rollout_over=10**9,
    )
    reg = get_registry()
    cases = {
        "batch (segment of 11 records, play)": (
            "orchestration batch create",
            {"workflow-uuid": "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c",
             "data": {"kind": "segment", "segmentUuid": "3a53ebe1-0bbf-4d74-b4db-9931e932a1d2"}},
        ),
        "batch (200 inline records, tool)": (
            "orchestration batch create",
            {"workflow-uuid": "b4e52f36-6f15-4876-acf4-74eefa4418f8",
             "data": {"kind": "records", "records": [{"domain": f"c{i}.example", "employees": i} for i in range(200)]}},
        ),
        "run (one record, tool)": (
            "orchestration run create",
            {"workflow-uuid": "b4e52f36-6f15-4876-acf4-74eefa4418f8", "data": {"domain": "a.example", "employees": 50}},
        ),
    }  # fmt: skip
    for label, (command, raw) in cases.items():
        polls, waited = [], []
        for _ in range(jobs):
            sent.clear()
            start = clock.now
            outcome = executor.run(reg.get(command), {**raw, "wait-until-finished": True})
            get_path = (
                outcome.job_kind and f"/v1/orchestration/{outcome.job_kind}es/"
                if outcome.job_kind == "batch"
                else "/v1/orchestration/runs/"
            )
            polls.append(sum(1 for e in sent if e.method == "GET" and e.path.startswith(str(get_path))))
            waited.append(clock.now - start)
        print(
            f"{label:38s} polls/job: mean {statistics.mean(polls):.1f}, max {max(polls)}; "
            f"simulated wait {statistics.mean(waited):.0f} s; final status {outcome.job_status}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        clock = FakeClock()
        box = Sandbox.open(tmp / "sandbox", clock=clock)
        try:
            bench_reads(box, tmp, args.calls)
            bench_polls(box, clock, tmp, args.jobs)
        finally:
            box.close()


if __name__ == "__main__":
    main()
