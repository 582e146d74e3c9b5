"""One CLI call against a served API, as a whole process, next to a bare httpx script doing the same GET.

    python benchmarks/bench_cli_call.py [--runs 20]

Starts the real ``cargo-shell sandbox serve --port 0`` on loopback (a throw-away sandbox), then
alternates, ``--runs`` times each after one warm-up of each:

- ``cargo-shell storage model list`` (the installed entry point, or ``python -m cargo_shell``),
  pointed at the server by ``CARGO_API_URL``/``CARGO_API_TOKEN``/``CARGO_WORKSPACE_UUID``;
- ``python -c SCRIPT``: imports httpx, sends the same GET with the same headers, prints the JSON.

Prints, for each, the median and min/max of the process's CPU time (user + system, from the
kernel's accounting of the finished child) and of its wall time, and the ratios of the medians
(target: CPU ≤ 1.5×). Both print the same models, which is checked once before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from medians import print_medians

BARE = """
import json, sys
import httpx
base, token, workspace = sys.argv[1:4]
headers = {"authorization": "Bearer " + token, "selected-workspace-uuid": workspace}
with httpx.Client() as client:
    resp = client.get(base + "/v1/storage/models/list", headers=headers)
resp.raise_for_status()
print(json.dumps(resp.json(), indent=2))
"""


def start_server(home: Path) -> tuple[subprocess.Popen[str], str, str, str]:
    data = home / "sandbox"
    env = {**child_env(), "CARGO_SHELL_HOME": str(home)}
    cmd = [sys.executable, "-m", "cargo_shell", "sandbox", "serve", "--port", "0", "--data-dir", str(data)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()  # printed once the socket is bound
    if not base_url.startswith("http"):
        proc.kill()
        raise SystemExit(f"server did not start: {base_url!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    token = (data / "admin-token").read_text().strip()
    info = subprocess.run(
        [sys.executable, "-m", "cargo_shell", "sandbox", "info", "--data-dir", str(data)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    workspace = json.loads(info.stdout)["workspaceUuid"]
    return proc, base_url, token, workspace


def child_env() -> dict[str, str]:
    """The environment of the measured programs: no cargo-shell or model settings, and Python's
    bytecode cache on (as an installed program runs; a PYTHONDONTWRITEBYTECODE of the calling shell
    would make every run compile cargo-shell's sources again, while httpx's were compiled at install)."""
    drop = ("CARGO_", "OPENAI_", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, stdout) of one whole child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout


def report(name: str, samples: list[tuple[float, float]]) -> tuple[float, float]:
    cpu, wall = print_medians(
        name, 28, {"cpu": [s[0] * 1000 for s in samples], "wall": [s[1] * 1000 for s in samples]}, len(samples)
    )
    return cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    ns = parser.parse_args()
    exe = Path(sys.executable).parent / "cargo-shell"
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "cargo_shell"]
    with tempfile.TemporaryDirectory() as tmp:
        server_home, cli_home = Path(tmp) / "server", Path(tmp) / "cli"
        server_home.mkdir()
        cli_home.mkdir()
        proc, base_url, token, workspace = start_server(server_home)
        try:
            env = child_env()
            cli_env = {
                **env,
                "CARGO_SHELL_HOME": str(cli_home),
                "CARGO_API_URL": base_url,
                "CARGO_API_TOKEN": token,
                "CARGO_WORKSPACE_UUID": workspace,
            }
            ours = [*cli, "storage", "model", "list"]
            bare = [sys.executable, "-c", BARE, base_url, token, workspace]
            _, _, out_cli = timed(ours, cli_env)  # warm-up of each (.pyc files, OS caches)
            _, _, out_bare = timed(bare, env)
            names = sorted(m["name"] for m in json.loads(out_bare)["models"])
            if sorted(m["name"] for m in json.loads(out_cli)["models"]) != names:
                raise SystemExit("the two programs printed different models")
            cli_samples, bare_samples = [], []
            for _ in range(ns.runs):  # alternated, so a busy moment of the machine hits both
                cli_samples.append(timed(ours, cli_env)[:2])
                bare_samples.append(timed(bare, env)[:2])
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"same request: GET {base_url}/v1/storage/models/list ({len(names)} models)")
    a = report("cargo-shell storage model list", cli_samples)
    b = report("bare httpx script", bare_samples)
    print(f"ratio (medians)              cpu {a[0] / b[0]:.2f}   wall {a[1] / b[1]:.2f}   (target: cpu <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
