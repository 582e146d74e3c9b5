"""Every task is solvable and every verifier can fail: all oracles pass, all decoys are rejected.

Each mode runs all tasks through `cargo-shell bench` itself: child processes (three at a time),
each on its own copy of the seeded template, with the real agent loop, executor and sandbox.
"""

from __future__ import annotations

from pathlib import Path

from cargo_shell.bench.task import load_tasks
from tests.bench.helpers import bench, runs


def test_every_oracle_passes(tmp_path: Path) -> None:
    ran = bench("--oracle", "--jobs", "3", "--results", str(tmp_path), "--output", "json")
    done = runs(tmp_path)
    not_passed = {key: (r["status"], r.get("error"), r["checks"]) for key, r in done.items() if r["status"] != "pass"}
    assert not not_passed
    assert len(done) == len(load_tasks())
    summary = ran.json()
    assert summary["verdict"] == {"ok": True, "text": "every oracle passes", "tasks": []}
    assert summary["totals"]["passRate"] == 1.0 and summary["totals"]["passK"] == 1.0
    assert ran.status == 0


def test_every_decoy_is_rejected(tmp_path: Path) -> None:
    ran = bench("--decoy", "--jobs", "3", "--results", str(tmp_path), "--output", "json")
    done = runs(tmp_path)
    not_rejected = {key: (r["status"], r.get("error")) for key, r in done.items() if r["status"] != "fail"}
    assert not not_rejected
    assert len(done) == len(load_tasks())
    for key, run in done.items():
        assert any(not c["ok"] for c in run["checks"]), key  # rejected by a check, not by an accident
    assert ran.json()["verdict"]["ok"] is True
    assert ran.status == 0
