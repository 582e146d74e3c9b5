"""The layer table of the README's Layout section, checked on the real imports (AST, lazy ones too).

An import may go down the table or stay in its layer, never up; ``sandbox/`` stands beside the
stack and only the target opening, the command layer and ``bench/`` import it; no two packages
import each other (outside the sandbox); no module is over 400 lines. Every exception is listed
here with its reason, and an exception that no longer happens fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import cargo_shell

ROOT = Path(cargo_shell.__file__).parent

#: Top to bottom. A unit is a top-level package or module of ``cargo_shell`` ("cargo_shell": its __init__).
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("front ends", frozenset({"cli", "repl", "bench", "mcp", "shell_entry", "__main__"})),
    ("render", frozenset({"render"})),
    ("commands", frozenset({"commands", "target"})),
    ("agent", frozenset({"agent"})),
    ("executor", frozenset({"executor"})),
    ("api", frozenset({"api"})),
    ("registry", frozenset({"registry", "validation"})),
    (
        "base",
        frozenset(
            {
                "cargo_shell",
                "errors",
                "paths",
                "environment",
                "constants",
                "config",
                "secrets",
                "private_files",
                "terminal_echo",
                "signals",
                "crash_log",
                "value_summary",
            }
        ),
    ),
)
SANDBOX = "sandbox"
#: Who may import the sandbox (besides itself): the target opening, the command layer, the bench.
SANDBOX_USERS = frozenset({"target", "commands", "bench"})

#: Reviewed upward imports: (importing module, imported module) → why it stays for now.
UPWARD_EXCEPTIONS: Mapping[tuple[str, str], str] = {}
#: Reviewed package pairs that import each other, outside the sandbox → why.
CYCLE_EXCEPTIONS: Mapping[frozenset[str], str] = {}
#: Reviewed modules over 400 lines → why.
LONG_MODULES: Mapping[str, str] = {}
MAX_LINES = 400


def unit_of(module: str) -> str:
    """The layer unit of a dotted ``cargo_shell`` module name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, importer: str) -> set[str]:
    """Every ``cargo_shell`` module ``source`` imports, wherever the import is (top, function, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "cargo_shell")
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, (
                f"{importer}: relative import (the package imports absolutely, so this scan sees all)"
            )
            base = node.module or ""
            if base.split(".")[0] != "cargo_shell":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if _is_module(sub) else base)
    return found


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (ROOT / rel).is_dir() or (ROOT / rel).with_suffix(".py").is_file()


def all_imports() -> dict[str, set[str]]:
    return {
        module_name(path): imports_of(path.read_text(encoding="utf-8"), module_name(path))
        for path in sorted(ROOT.rglob("*.py"))
    }


def layer_index() -> dict[str, int]:
    return {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}


def upward_imports(edges: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """(importer, imported) pairs that go up the table, or touch the sandbox from where they may not."""
    index = layer_index()
    bad: set[tuple[str, str]] = set()
    for importer, targets in edges.items():
        a = unit_of(importer)
        for target in targets:
            b = unit_of(target)
            if a == b:
                continue
            if b == SANDBOX:
                if a not in SANDBOX_USERS:
                    bad.add((importer, target))
            elif a == SANDBOX:
                if index[b] != len(LAYERS) - 1:  # the sandbox stands on the base only
                    bad.add((importer, target))
            elif index[b] < index[a]:
                bad.add((importer, target))
    return bad


def package_cycles(edges: Mapping[str, Iterable[str]]) -> set[frozenset[str]]:
    """The groups of units (outside the sandbox) that import each other, directly or round a loop."""
    graph: dict[str, set[str]] = {}
    for importer, targets in edges.items():
        a = unit_of(importer)
        for target in targets:
            b = unit_of(target)
            if a != b and SANDBOX not in (a, b):
                graph.setdefault(a, set()).add(b)
    reach = {u: _reachable(graph, u) for u in graph}
    groups = {frozenset({u, *(v for v in reach[u] if u in reach.get(v, set()))}) for u in graph if u in reach[u]}
    return {g for g in groups if len(g) > 1}


def _reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_unit_has_a_place_in_the_table() -> None:
    index = layer_index()
    units = {unit_of(m) for m in all_imports()} | {unit_of(t) for ts in all_imports().values() for t in ts}
    assert units - set(index) - {SANDBOX} == set(), "place the new package in LAYERS (and the README's table)"


def test_imports_go_down_the_layers() -> None:
    found = upward_imports(all_imports())
    assert found - set(UPWARD_EXCEPTIONS) == set(), "an import runs up the layers"
    assert set(UPWARD_EXCEPTIONS) - found == set(), "a listed exception is gone: remove it from UPWARD_EXCEPTIONS"


def test_no_import_cycles_between_packages() -> None:
    found = package_cycles(all_imports())
    assert found - set(CYCLE_EXCEPTIONS) == set(), "packages import each other"
    assert set(CYCLE_EXCEPTIONS) - found == set(), "a listed cycle is gone: remove it from CYCLE_EXCEPTIONS"


def test_no_module_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted(ROOT.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) - set(LONG_MODULES) == set(), f"split these: {long}"
    assert set(LONG_MODULES) - set(long) == set(), "a listed module is short now: remove it from LONG_MODULES"


def test_the_checks_catch_what_they_forbid() -> None:
    edges = {
        "cargo_shell.executor.x": {"cargo_shell.agent.y", "cargo_shell.api.z"},
        "cargo_shell.agent.y": {"cargo_shell.executor.x", "cargo_shell.sandbox.app", "cargo_shell.render.r"},
        "cargo_shell.render.r": {"cargo_shell.agent.y"},
        "cargo_shell.sandbox.app": {"cargo_shell.registry.spec", "cargo_shell.errors"},
        "cargo_shell.commands.c": {"cargo_shell.sandbox.runtime", "cargo_shell.agent.y"},
    }
    assert upward_imports(edges) == {
        ("cargo_shell.executor.x", "cargo_shell.agent.y"),
        ("cargo_shell.agent.y", "cargo_shell.render.r"),
        ("cargo_shell.agent.y", "cargo_shell.sandbox.app"),
        ("cargo_shell.sandbox.app", "cargo_shell.registry.spec"),
    }
    assert package_cycles(edges) == {frozenset({"executor", "agent", "render"})}
    lazy = "def f():\n    from cargo_shell.value_summary import describe\n"
    typed = "if TYPE_CHECKING:\n    from cargo_shell.executor import Executor, plan\n"
    assert imports_of(lazy, "cargo_shell.executor.plan") == {"cargo_shell.value_summary"}
    assert imports_of(typed, "cargo_shell.agent.loop") == {"cargo_shell.executor", "cargo_shell.executor.plan"}
