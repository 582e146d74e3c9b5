"""Shared fixtures: every test gets its own CARGO_SHELL_HOME and a clean environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_CARGO_ENV = (
    "CARGO_API_URL",
    "CARGO_API_TOKEN",
    "CARGO_WORKSPACE_UUID",
    "CARGO_SHELL_PROFILE",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "CARGO_SHELL_MODEL",
    "NO_COLOR",
)


@pytest.fixture(autouse=True)
def shell_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cargo-shell-home"
    monkeypatch.setenv("CARGO_SHELL_HOME", str(home))
    monkeypatch.setenv("CARGO_SHELL_NO_KEYRING", "1")
    for key in _CARGO_ENV:
        monkeypatch.delenv(key, raising=False)
    return home


@pytest.fixture(autouse=True)
def known_secrets() -> Any:
    """The process's registry of known secret values, empty for each test (it is per process)."""
    from cargo_shell.secrets import KNOWN

    KNOWN.clear()
    yield KNOWN
    KNOWN.clear()


@pytest.fixture
def clock() -> Any:
    """A fake clock (tests.support.FakeClock) shared by a test's sandbox and executor."""
    from tests.support import FakeClock

    return FakeClock()


@pytest.fixture(scope="session")
def seeded_sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded sandbox per test session; fixtures hand each test its own copy."""
    from tests.support import seed_template

    return seed_template(tmp_path_factory.mktemp("seeded"))


def reference_dir() -> Path | None:
    """The shared Cargo reference catalogue beside the project (or in $CARGO_SHELL_REFERENCE), when present."""
    import os

    here = Path(__file__).resolve().parent.parent
    candidate = Path(os.environ.get("CARGO_SHELL_REFERENCE") or here.parent / "shared" / "reference")
    return candidate if (candidate / "cargo-commands.yaml").exists() else None
