"""Run `cargo-shell bench` in this process (the runs themselves are child processes)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cargo_shell.cli import main
from cargo_shell.environment import Environment


@dataclass
class Ran:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def bench(*args: str) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    status = main(["bench", *args], env=Environment(stdout=out, stderr=err, stdin=io.StringIO()))
    return Ran(status, out.getvalue(), err.getvalue())


def runs(results: Path) -> dict[str, dict[str, Any]]:
    """Every run file in a results directory, by ``task#repeat``."""
    out = {}
    for path in sorted((results / "runs").glob("*/*.json")):
        if path.name.endswith(".conversation.json"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        out[f"{data['task']}#{data['repeat']}"] = data
    return out
