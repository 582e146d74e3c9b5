"""Write a command's result to stdout: JSON by default, a table on request on a terminal."""

from __future__ import annotations

import json
from typing import Any

from cargo_shell.environment import Environment


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def write_result(env: Environment, data: Any, *, output: str = "json", key: str | None = None) -> None:
    if output == "table" and env.stdout_isatty:
        from rich.console import Console

        from cargo_shell.render.tables import build_table, find_rows

        rows = find_rows(data, key)
        console = Console(file=env.stdout, no_color=env.no_color, highlight=not env.no_color)
        if rows is not None:
            console.print(build_table(rows, width=console.width))
            return
        from rich.json import JSON

        console.print(JSON(dumps(data)))
        return
    if data is None:
        data = {}
    env.stdout.write(dumps(data) + "\n")
    env.stdout.flush()


def write_error(env: Environment, body: dict[str, Any]) -> None:
    env.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
    env.stdout.flush()
