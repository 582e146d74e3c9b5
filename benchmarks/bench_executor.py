"""Executor benchmarks on the embedded sandbox (in-process WSGI transport).

1. Overhead per read call. For each read command, the same request (same URL, same
   headers, JSON body parsed) is sent four ways, interleaved over several rounds:
   - raw httpx:          ``httpx.Client.get(url_string, headers=...)`` + ``.json()``, what a
                         hand-written client does; the baseline of the ratio (target <= 1.1);
   - raw httpx, URL pre-parsed: the same with an ``httpx.URL`` parsed once, the floor for
                         any httpx client (CargoClient keeps parsed URLs, so this is the
                         strictest baseline);
   - CargoClient.send:   the core client (headers, error mapping, nulls dropped, request id);
   - Executor.run:       validate, guards, plan, policy decision, retry wrapper, request id,
                         client filters and one audit line written to disk.
   Each line is the median over rounds of the mean time per call.
2. Poll requests per finished job: batches and runs started with --wait-until-finished on
   a fake clock (the sandbox advances with it), counting the GETs the poller sends.

Run: python benchmarks/bench_executor.py [--calls 2000] [--rounds 7]
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


READS: tuple[tuple[str, dict[str, object]], ...] = (
    ("workspace folder list", {}),
    ("storage model list", {}),
    ("orchestration batch get", {"batch-uuid": "520c8456-5b2b-40a5-b71f-720ec32b15aa"}),
)


def bench_reads(box: Sandbox, tmp: Path, calls: int, rounds: int) -> None:
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
    http = httpx.Client(transport=httpx.WSGITransport(app=box.app))
    print(f"read calls: median of {rounds} rounds x {calls // rounds} calls, interleaved")
    for command, raw_args in READS:
        time_read(executor, http, command, raw_args, calls, rounds)


def time_read(
    executor: Executor, http: httpx.Client, command: str, raw_args: dict[str, object], calls: int, rounds: int
) -> None:
    client = executor.client
    headers = client.headers()  # the very headers CargoClient sends
    spec = get_registry().get(command)
    request = build_request(spec, executor.validate(spec, raw_args))
    url = client.url_for(request)
    parsed_url = httpx.URL(url)

    def raw(url: str | httpx.URL = url) -> None:
        response = http.get(url, headers=headers)
        response.raise_for_status()
        response.json()

    def raw_parsed() -> None:
        raw(parsed_url)

    def via_client() -> None:
        client.send(request)

    def via_executor() -> None:
        executor.run(spec, raw_args)

    variants = {"raw": raw, "raw_parsed": raw_parsed, "client": via_client, "executor": via_executor}
    for fn in variants.values():  # warm up
        for _ in range(50):
            fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):  # interleave to share any drift
        for name, fn in variants.items():
            start = time.perf_counter()
            for _ in range(calls // rounds):
                fn()
            times[name].append((time.perf_counter() - start) / (calls // rounds))
    us = {name: statistics.median(t) * 1e6 for name, t in times.items()}
    ex = us["executor"]
    print(f"{command} ({request.method} {request.path})")
    print(f"  raw httpx (URL string)      {us['raw']:7.1f} µs")
    print(f"  raw httpx (URL pre-parsed)  {us['raw_parsed']:7.1f} µs")
    print(f"  CargoClient.send            {us['client']:7.1f} µs")
    print(f"  Executor.run                {ex:7.1f} µs  (audit line included)")
    print(f"  Executor.run / raw httpx:              {ex / us['raw']:.3f}  (target <= 1.1)")
    print(f"  Executor.run / raw httpx, URL parsed:  {ex / us['raw_parsed']:.3f}")
    print(f"  executor's own work (run - client.send): {ex - us['client']:+.0f} µs")


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
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--reads-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        clock = FakeClock()
        box = Sandbox.open(tmp / "sandbox", clock=clock)
        try:
            bench_reads(box, tmp, args.calls, args.rounds)
            if not args.reads_only:
                bench_polls(box, clock, tmp, args.jobs)
        finally:
            box.close()


if __name__ == "__main__":
    main()
