"""Benchmark tests share one cargo-shell home, so the benchmark's seeded template is made once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def bench_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-home")


@pytest.fixture(autouse=True)
def _shared_home(bench_home: Path, shell_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the suite's own per-test home is set: point it at the shared benchmark home."""
    monkeypatch.setenv("CARGO_SHELL_HOME", str(bench_home))
