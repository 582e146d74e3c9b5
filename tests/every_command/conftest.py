"""One seeded sandbox per test module (each case creates what it changes or removes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.every_command.world import World, open_world


@pytest.fixture(scope="module")
def world(seeded_sandbox_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from open_world(seeded_sandbox_template, tmp_path_factory.mktemp("every-command"))
