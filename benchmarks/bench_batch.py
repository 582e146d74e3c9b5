"""Benchmark: a 10,000-record batch on a native-node tool ("Score lead"), real clock.

Prints the wall time from batch create to a terminal batch, the time spent creating the
batch and the run throughput. Target: <= 10 s (the engine spreads a batch over at most
5 simulated seconds, so roughly half of the budget is deliberate pacing).

    python benchmarks/bench_batch.py [records]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from cargo_shell.sandbox.runtime import Sandbox


def main(count: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox.open(Path(tmp) / "sandbox")
        headers = {"authorization": f"Bearer {box.token}", "selected-workspace-uuid": box.workspace_uuid}
        transport = httpx.WSGITransport(app=box.app)
        with httpx.Client(transport=transport, base_url=box.base_url, headers=headers, timeout=60) as api:
            tool = next(t for t in api.get("/v1/orchestration/tools/list").json()["tools"] if t["name"] == "Score lead")
            records = [
                {"id": f"r{i}", "domain": f"company{i}.com", "employees": (i * 37) % 5000, "industry": "Software"}
                for i in range(count)
            ]
            started = time.perf_counter()
            created = api.post(
                "/v1/orchestration/batches",
                json={"workflowUuid": tool["workflowUuid"], "data": {"kind": "records", "records": records}},
            )
            created.raise_for_status()
            uuid = created.json()["batch"]["uuid"]
            create_s = time.perf_counter() - started
            while True:
                batch = api.get(f"/v1/orchestration/batches/{uuid}").json()["batch"]
                if batch["status"] in ("success", "error", "cancelled"):
                    break
                time.sleep(0.2)
            total_s = time.perf_counter() - started
        box.close()
    print(f"records:            {count}")
    executed, failed = batch["executedRunsCount"], batch["failedRunsCount"]
    print(f"status:             {batch['status']} (executed {executed}, failed {failed})")
    print(f"create request:     {create_s:.2f} s")
    print(f"create -> terminal: {total_s:.2f} s  (target <= 10 s)")
    print(f"throughput:         {count / total_s:,.0f} runs/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
