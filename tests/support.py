"""Test doubles shared by every test package: a fake clock and a copy of the seeded sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

from cargo_shell.sandbox.runtime import Sandbox

START = 1736935200.0  # 2025-01-15T10:00:00Z


class FakeClock:
    """Time that moves only when someone sleeps or advances it; shared by sandbox and executor."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def seed_template(root: Path) -> Path:
    """Seed a sandbox once; tests copy it (seeding is deterministic, copying is fast)."""
    path = root / "sandbox"
    Sandbox.open(path, clock=FakeClock()).close()
    return path


def open_copy(template: Path, tmp_path: Path, clock: FakeClock) -> Sandbox:
    data_dir = tmp_path / "sandbox"
    shutil.copytree(template, data_dir)
    return Sandbox.open(data_dir, clock=clock)
