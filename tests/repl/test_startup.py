"""Start-up stays light: what the first prompt needs is imported, the rest loads on first use.

The speed itself is measured by ``benchmarks/bench_startup.py``; these tests guard the structure
that makes it fast (no heavy import on the way to the prompt) and the stand-in completer that
works before the real one is built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent, Completer
from prompt_toolkit.document import Document

from cargo_shell.registry import get_registry
from cargo_shell.repl.completer import OnTabCompleter, ShellCompleter

#: Modules the first prompt must not wait for (the executor pulls in httpx and pydantic).
HEAVY = ("rich", "pydantic", "httpx", "argparse", "cargo_shell.executor", "cargo_shell.registry.spec")

PROBE = """
import json, sys
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from cargo_shell import cli
from cargo_shell.commands.context import Context
from cargo_shell.environment import Environment
from cargo_shell.repl.app import Repl
with create_pipe_input() as pipe:
    repl = Repl(Context(Environment()), input=pipe, output=DummyOutput())
    repl.session()
heavy = json.loads(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
"""


def test_the_shell_reaches_its_prompt_without_heavy_imports(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.json").write_text(json.dumps({"onboarded": True, "profiles": {}}))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env={"CARGO_SHELL_HOME": str(tmp_path), "PATH": "", "HOME": str(tmp_path)},
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == []


class _Counting:
    """Builds the real completer, counting how often it is asked to."""

    def __init__(self) -> None:
        self.real = ShellCompleter(get_registry(), {"help": "help"})
        self.built = 0

    def __call__(self) -> Completer:
        self.built += 1
        return self.real


def test_stand_in_completer_waits_for_tab_then_builds_the_real_one() -> None:
    build = _Counting()
    stand_in = OnTabCompleter(build)
    doc = Document("stor")
    assert list(stand_in.get_completions(doc, CompleteEvent(text_inserted=True))) == []
    assert build.built == 0  # typing does not load the registry
    offered = [c.text for c in stand_in.get_completions(doc, CompleteEvent(completion_requested=True))]
    assert offered == ["storage"]
    assert build.built == 1


def test_importing_the_command_line_paints_nothing(tmp_path: Path) -> None:
    """The early prompt is painted by ``cli.main``, never as a side effect of an import."""
    import pexpect

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.json").write_text(json.dumps({"onboarded": True, "profiles": {}}))
    code = "import sys; sys.argv = ['cargo-shell']; import cargo_shell.cli; print('imported')"
    child = pexpect.spawn(
        sys.executable, ["-c", code], env={"CARGO_SHELL_HOME": str(tmp_path), "PATH": "", "HOME": str(tmp_path)},
        encoding="utf-8", timeout=60,
    )  # fmt: skip
    child.expect("imported")
    assert "cargo-shell — type a command" not in child.before and "cargo›" not in child.before
    child.expect(pexpect.EOF)
