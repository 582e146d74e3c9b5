"""Benchmark: how often a CLI killed (-9) just after the server accepted its batch loses track of it.

A sandbox is served on loopback in its own process; each round starts `cargo-shell orchestration
batch create --wait-until-finished` against it, waits until the batch row is committed in the
server's database, sleeps a delay spread evenly over 0..10 ms, and kills the CLI with SIGKILL.
It prints, per round, whether the job store kept the batch, and counts the rounds with an audit
``sent`` line. A kill before the response reached the CLI cannot be recorded as a job (its id is
not known yet); the ``sent`` line, with the command that checks what happened, covers it.

    python benchmarks/bench_kill_window.py [rounds]
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cargo_shell.sandbox.runtime import Sandbox

TOOL_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"
DATA = json.dumps({"kind": "records", "records": [{"domain": "k.example"}]})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _count(db: sqlite3.Connection) -> int:
    try:
        return int(db.execute("SELECT COUNT(*) FROM wf_batches").fetchone()[0])
    except sqlite3.OperationalError:
        return -1


def main(rounds: int = 18) -> None:
    env = dict(os.environ, CARGO_SHELL_NO_KEYRING="1")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "served"
        box = Sandbox.open(data_dir)
        token = box.token
        box.close()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "cargo_shell", "sandbox", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=dict(env, CARGO_SHELL_HOME=str(Path(tmp) / "server-home")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:  # until the server accepts connections
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            db = sqlite3.connect(f"file:{data_dir / 'sandbox.db'}?mode=ro", uri=True)
            kept = sent = 0
            for index in range(rounds):
                delay = 0.010 * index / max(rounds - 1, 1)
                home = Path(tmp) / f"cli-{index}"
                before = _count(db)
                argv = [
                    sys.executable, "-m", "cargo_shell", "--base-url", f"http://127.0.0.1:{port}", "--token", token,
                    "--yes", "orchestration", "batch", "create", "--workflow-uuid", TOOL_WF, "--data", DATA,
                    "--wait-until-finished",
                ]  # fmt: skip
                child = subprocess.Popen(
                    argv,
                    env=dict(env, CARGO_SHELL_HOME=str(home)),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                while _count(db) <= before and child.poll() is None:
                    pass
                time.sleep(delay)
                child.send_signal(signal.SIGKILL)
                child.wait()
                jobs = home / "state" / "jobs.db"
                try:
                    rows = (
                        sqlite3.connect(jobs).execute("SELECT COUNT(*) FROM jobs").fetchone()[0] if jobs.exists() else 0
                    )
                except sqlite3.OperationalError:
                    rows = 0
                audit = home / "state" / "audit.jsonl"
                sent += audit.exists() and '"phase":"sent"' in audit.read_text()
                kept += rows > 0
                print(f"kill {delay * 1000:4.1f} ms after the commit: {'kept' if rows else 'lost'}")
        finally:
            server.terminate()
            server.wait()
    print(f"{rounds} rounds: {kept} kept in the job store, {rounds - kept} lost; {sent} with an audit sent line")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 18)
