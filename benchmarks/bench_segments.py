"""Benchmark: segment fetch and download on a 1,000,000-row model.

Three phases, each in a fresh process so memory numbers are not polluted by the others:

1. setup: create a ``big`` model (custom extractor) and bulk-load N rows into its table;
2. fetch: a 3-condition filter (string ``is``, number ``greaterThan``, boolean ``isTrue``)
   with ``fetchingLimit`` 100 and the total count, timed over several runs (target <= 1 s);
3. download: the segment download URL of all N records streamed over a real loopback
   socket; prints the peak RSS of the process serving it (target <= 150 MB).

    python benchmarks/bench_segments.py [rows]
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from cargo_shell.sandbox.runtime import Sandbox

COUNTRIES = ("US", "FR", "DE", "GB", "ES", "IT", "NL", "SE", "JP", "BR")
FILTER = {
    "conjonction": "and",
    "groups": [
        {
            "conjonction": "and",
            "conditions": [
                {"kind": "string", "columnSlug": "country", "operator": "is", "values": ["FR", "DE"]},
                {"kind": "number", "columnSlug": "employees", "operator": "greaterThan", "value": 500},
                {"kind": "boolean", "columnSlug": "is_customer", "operator": "isTrue"},
            ],
        }
    ],
}


def _client(box: Sandbox, base_url: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {box.token}", "selected-workspace-uuid": box.workspace_uuid}
    if base_url:
        return httpx.Client(base_url=base_url, headers=headers, timeout=600)
    return httpx.Client(transport=httpx.WSGITransport(app=box.app), base_url=box.base_url, headers=headers, timeout=600)


def setup(data_dir: Path, rows: int) -> None:
    box = Sandbox.open(data_dir)
    with _client(box) as api:
        crm = next(d for d in api.get("/v1/storage/datasets/list").json()["datasets"] if d["slug"] == "crm")
        columns = [
            {"slug": "name", "type": "string", "label": "Name"},
            {"slug": "country", "type": "string", "label": "Country"},
            {"slug": "employees", "type": "number", "label": "Employees"},
            {"slug": "is_customer", "type": "boolean", "label": "Customer"},
            {"slug": "created", "type": "date", "label": "Created"},
        ]
        body = {
            "slug": "big",
            "name": "Big",
            "datasetUuid": crm["uuid"],
            "extractorSlug": "custom",
            "config": {"columns": columns, "titleColumnSlug": "name"},
        }
        model = api.post("/v1/storage/models", json=body).json()["model"]
    conn = box.app.db.dataset_conn(model["datasetUuid"])
    rng = random.Random(1)
    started = time.perf_counter()
    conn.execute("BEGIN")
    batch = []
    for i in range(rows):
        rid = f"r{i:07d}"
        batch.append(
            (
                rid,
                f"Company {i}",
                "2025-01-01T00:00:00.000Z",
                f"Company {i}",
                rng.choice(COUNTRIES),
                rng.randint(1, 5000),
                int(rng.random() < 0.3),
                "2024-06-01T00:00:00.000Z",
            )
        )
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO models_big VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO models_big VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.execute("COMMIT")
    print(f"setup: {rows:,} rows loaded in {time.perf_counter() - started:.1f} s")
    box.close()


def fetch(data_dir: Path) -> None:
    box = Sandbox.open(data_dir)
    with _client(box) as api:
        model = next(m for m in api.get("/v1/storage/models/list").json()["models"] if m["slug"] == "big")
        for label, sort in (
            ("by _id", None),
            ("sorted by employees desc", [{"columnSlug": "employees", "kind": "desc"}]),
        ):
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                response = api.post(
                    "/v1/segmentation/segments/fetch",
                    json={"modelUuid": model["uuid"], "filter": FILTER, "fetchingLimit": 100, "sort": sort},
                )
                timings.append(time.perf_counter() - started)
                body = response.json()
            print(
                f"fetch ({label}): count={body['count']:,} page={len(body['records'])} "
                f"best={min(timings):.3f} s median={sorted(timings)[2]:.3f} s (target <= 1 s)"
            )
    box.close()


def download(data_dir: Path) -> None:
    from cargo_shell.sandbox.serve import make_server

    server, box = make_server("127.0.0.1", 0, data_dir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with _client(box, box.base_url) as api:
        model = next(m for m in api.get("/v1/storage/models/list").json()["models"] if m["slug"] == "big")
        everyone = {"conjonction": "and", "groups": []}
        started = time.perf_counter()
        (url,) = api.post(
            "/v1/segmentation/segments/download", json={"modelUuid": model["uuid"], "filter": everyone}
        ).json()["urls"]
        size = lines = 0
        with api.stream("GET", url) as stream:
            for chunk in stream.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"download: {lines - 1:,} records, {size / 1e6:.0f} MB CSV in {elapsed:.1f} s; "
        f"peak RSS {peak_mb:.0f} MB (target <= 150 MB)"
    )
    server.shutdown()
    server.server_close()
    box.close()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] in ("setup", "fetch", "download"):
        phase, data_dir = sys.argv[1], Path(sys.argv[2])
        if phase == "setup":
            setup(data_dir, int(sys.argv[3]))
        else:
            {"fetch": fetch, "download": download}[phase](data_dir)
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "sandbox"
        for phase in (["setup", str(data_dir), str(rows)], ["fetch", str(data_dir)], ["download", str(data_dir)]):
            subprocess.run([sys.executable, __file__, *phase], check=True)


if __name__ == "__main__":
    main()
