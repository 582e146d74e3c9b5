"""Benchmark: `cargo-shell sandbox serve` as a server left running.

Starts the real command (``python -m cargo_shell sandbox serve --port 0``) in a child process
whose open-file limit is lowered to 1024 (``ulimit -n 1024``), then:

1. sequential: 1,500 requests one after the other, each on a new connection; counts statuses
   (target: all 200);
2. concurrent: 32 clients at once, each making 40 requests on new connections; counts
   connection resets / empty replies and prints latency percentiles (target: no reset,
   p99 < 250 ms);
3. soak: 60 s of mixed reads and writes from 8 clients; prints the server's RSS and open
   files at the start and the end (target: flat).

    python benchmarks/bench_serve.py [--soak SECONDS] [--fd-limit N]

Clients use the standard library's ``http.client`` so their own overhead stays small. Run it with
``PYTHONPATH`` pointing at another checkout to measure that checkout's server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Server:
    proc: subprocess.Popen[str]
    host: str
    port: int
    headers: dict[str, str]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


def start_server(data_dir: Path, fd_limit: int) -> Server:
    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    env = {**os.environ, "CARGO_SHELL_HOME": str(data_dir.parent / "home")}
    cmd = [sys.executable, "-m", "cargo_shell", "sandbox", "serve", "--port", "0", "--data-dir", str(data_dir)]
    log = (data_dir.parent / "server.log").open("a")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env, preexec_fn=lower_limit)
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()  # the first line is the base URL, printed once bound
    if not base_url.startswith("http"):
        proc.kill()
        raise SystemExit(f"server did not start: {base_url!r}")
    parts = urlsplit(base_url)
    token = (data_dir / "admin-token").read_text().strip()
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining stdout
    return Server(proc, parts.hostname or "127.0.0.1", int(parts.port or 80), {"authorization": f"Bearer {token}"})


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str, seconds: float) -> None:
        with self.lock:
            self.statuses[outcome] += 1
            self.latencies.append(seconds)


def request(server: Server, method: str, path: str, body: object = None, timeout: float = 30) -> tuple[str, bytes]:
    """One request on a new connection; the outcome is the status, or the kind of connection failure."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {**server.headers, "connection": "close"}
        if payload is not None:
            headers["content-type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return str(response.status), response.read()
    except ConnectionResetError:
        return "reset", b""
    except http.client.RemoteDisconnected:
        return "empty reply", b""
    except TimeoutError:
        return "timeout", b""
    except OSError as exc:
        return type(exc).__name__, b""
    finally:
        conn.close()


def timed(server: Server, tally: Tally, method: str, path: str, body: object = None) -> bytes:
    started = time.perf_counter()
    outcome, data = request(server, method, path, body)
    tally.add(outcome, time.perf_counter() - started)
    return data


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")


def sequential(server: Server, count: int) -> None:
    tally = Tally()
    first_failure = None
    for i in range(count):
        timed(server, tally, "GET", READS[i % len(READS)])
        if first_failure is None and set(tally.statuses) - {"200"}:
            first_failure = i + 1
    where = f"; first non-200 at request {first_failure}" if first_failure else ""
    print(f"sequential: {count} requests -> {dict(tally.statuses)}{where} (target: all 200)")
    print(f"            server open files {server.open_files()}, RSS {server.rss_mb():.0f} MB")


READS = ("/v1/storage/models/list", "/v1/workspaceManagement/folders/list", "/v1/orchestration/tools/list")


def concurrent(server: Server, clients: int, per_client: int, model_uuid: str) -> None:
    """Light reads, so that what is measured is connection handling rather than the domains' work."""
    tally = Tally()
    barrier = threading.Barrier(clients)

    def client(n: int) -> None:
        barrier.wait()
        for i in range(per_client):
            timed(server, tally, "GET", READS[(n + i) % len(READS)])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = tally.latencies
    failures = sum(n for k, n in tally.statuses.items() if not k.isdigit())
    print(
        f"concurrent: {clients} clients x {per_client} -> {dict(tally.statuses)}; "
        f"{failures} resets/empty replies (target 0); {len(lat) / elapsed:.0f} req/s"
    )
    print(
        f"            latency p50 {percentile(lat, 50) * 1000:.0f} ms, p95 {percentile(lat, 95) * 1000:.0f} ms,"
        f" p99 {percentile(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms (target p99 < 250 ms)"
    )


def soak(server: Server, seconds: float, clients: int, model_uuid: str, folder_kind: str = "tool") -> None:
    tally = Tally()
    stop = time.monotonic() + seconds
    samples: list[tuple[float, float, int]] = []

    def client(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            i += 1
            step = (n + i) % 5
            if step == 0:
                data = timed(
                    server, tally, "POST", "/v1/workspaceManagement/folders",
                    {"name": f"soak {n} {i}", "emojiSlug": "folder", "kind": folder_kind},
                )  # fmt: skip
                try:
                    uuid = json.loads(data)["folder"]["uuid"]
                except (ValueError, KeyError, TypeError):
                    continue
                timed(server, tally, "DELETE", f"/v1/workspaceManagement/folders/{uuid}")
            elif step == 1:
                timed(server, tally, "POST", "/v1/storage/records/list", {"modelUuid": model_uuid, "limit": 50})
            elif step == 2:
                sql = "SELECT COUNT(*) AS n FROM datasets_crm.models_contacts"
                timed(server, tally, "POST", "/v1/systemOfRecordIntegration/clients/query", {"query": sql})
            else:
                timed(server, tally, "GET", "/v1/storage/models/list")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    begin = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if server.proc.poll() is not None:
            break
        samples.append((time.monotonic() - begin, server.rss_mb(), server.open_files()))
        time.sleep(5)
    for t in threads:
        t.join()
    ok = tally.statuses.get("200", 0) + tally.statuses.get("204", 0)
    print(f"soak: {seconds:.0f} s, {clients} clients, {len(tally.latencies)} requests -> {dict(tally.statuses)}")
    share = ok / max(1, len(tally.latencies)) * 100
    print(f"      {share:.2f} % 2xx; p99 {percentile(tally.latencies, 99) * 1000:.0f} ms")
    if samples:
        (_t0, rss0, fds0), (t1, rss1, fds1) = samples[0], samples[-1]
        peak = max(s[1] for s in samples)
        print(
            f"      server RSS start {rss0:.0f} MB, end {rss1:.0f} MB at {t1:.0f} s, peak {peak:.0f} MB;"
            f" open files start {fds0}, end {fds1} (target: flat)"
        )
        print("      RSS MB / open files every 5 s: " + " ".join(f"{rss:.0f}/{fds}" for _t, rss, fds in samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--soak", type=float, default=60.0, help="seconds of mixed load")
    parser.add_argument("--fd-limit", type=int, default=1024)
    args = parser.parse_args()
    phases = (
        lambda server, model: sequential(server, args.sequential),
        lambda server, model: concurrent(server, args.clients, args.per_client, model),
        lambda server, model: soak(server, args.soak, 8, model),
    )
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "sandbox"
        for phase in phases:  # a fresh server for each phase, so one phase's damage does not spill over
            started = time.perf_counter()
            server = start_server(data_dir, args.fd_limit)
            up = time.perf_counter() - started
            print(f"-- server pid {server.proc.pid} (RLIMIT_NOFILE {args.fd_limit}) up in {up:.1f} s")
            try:
                _status, data = request(server, "GET", "/v1/storage/models/list")
                model_uuid = next(m["uuid"] for m in json.loads(data)["models"] if m["slug"] == "contacts")
                phase(server, model_uuid)
            finally:
                server.proc.terminate()
                try:
                    server.proc.wait(10)
                except subprocess.TimeoutExpired:
                    server.proc.kill()
                    server.proc.wait()
                logged = (data_dir.parent / "server.log").read_text().splitlines()
                (data_dir.parent / "server.log").unlink()
                print(f"   server stderr: {len(logged)} lines" + (f", first: {logged[0][:120]}" if logged else ""))


if __name__ == "__main__":
    main()
