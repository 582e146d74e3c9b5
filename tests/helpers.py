"""run_cli: drive the real entry point in-process and capture what a user would see."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from typing import Any

import httpx

from cargo_shell import cli
from cargo_shell.environment import Environment


class _Text(io.TextIOWrapper):
    """A text stream with a binary buffer, like sys.stdout, that is not a TTY."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", write_through=True)

    def value(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined,no-any-return]


@dataclass
class CliResult:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(
    *argv: str,
    stdin: str = "",
    env_overrides: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    tty: bool = False,
) -> CliResult:
    out, err = _Text(), io.StringIO()
    environ = dict(os.environ)
    environ.update(env_overrides or {})
    env = Environment(
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        environ=environ,
        stdin_isatty=tty,
        stdout_isatty=tty,
    )
    status = cli.main(list(argv), env, transport=transport)
    return CliResult(status, out.value(), err.getvalue())
