"""The sandbox's domain modules are a static list: a module that fails to import fails the sandbox."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cargo_shell.sandbox import modules

BROKEN = textwrap.dedent(
    """
    import importlib.abc, importlib.util, sys

    class Broken(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        # found, then failing while it executes (as a bad import inside the module would)

        def find_spec(self, name, path=None, target=None):
            return importlib.util.spec_from_loader(name, self) if name == {name!r} else None

        def exec_module(self, module):
            raise ImportError("simulated import failure of " + module.__name__)

    sys.meta_path.insert(0, Broken())
    from cargo_shell.sandbox.app import build_router
    try:
        build_router()
    except ImportError as exc:
        print("refused:", exc)
    else:
        print("served without it")
    """
)


#: the modules the old loader skipped when they failed to import
OPTIONAL_BEFORE = [
    "cargo_shell.sandbox.domains.orchestration",
    "cargo_shell.sandbox.domains.ai",
    "cargo_shell.sandbox.engine",
]


@pytest.mark.parametrize("name", OPTIONAL_BEFORE)
def test_a_domain_that_fails_to_import_is_an_error_not_a_missing_part(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BROKEN.format(name=name)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == f"refused: simulated import failure of {name}", done.stdout + done.stderr


def test_the_lists_are_one_entry_per_line_in_alphabetic_order() -> None:
    names = [fn.__module__.rsplit(".", 1)[1] for fn in modules.ROUTES]
    assert names == sorted(names) and len(set(names)) == len(names)
    seeds = [fn.__module__.rsplit(".", 1)[1] for fn in modules.SEEDS]
    assert seeds == sorted(seeds) and len(set(seeds)) == len(seeds)


def test_demo_objects_keep_the_uuids_docs_and_tests_name(seeded_sandbox_template: Path) -> None:
    """The orchestration and ai demo data share one generator, as before domains added hooks, so
    their objects keep their UUIDs; every later hook has its own and shifts nobody's."""
    db = sqlite3.connect(seeded_sandbox_template / "sandbox.db")
    try:
        plays = db.execute("SELECT workflow_uuid FROM wf_plays WHERE name = 'Score new companies'").fetchall()
        tools = db.execute("SELECT workflow_uuid FROM wf_tools WHERE name = 'Score lead'").fetchall()
    finally:
        db.close()
    assert plays == [("9e12955c-7cdb-40d0-be50-cc9f01d9fa3c",)]
    assert tools == [("b4e52f36-6f15-4876-acf4-74eefa4418f8",)]
