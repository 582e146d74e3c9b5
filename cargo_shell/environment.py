"""The single seam for process I/O: streams, TTY flags, environment and file locations."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO

from cargo_shell.paths import Paths, resolve_paths


@dataclass
class Environment:
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin_isatty: bool | None = None
    stdout_isatty: bool | None = None

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)

    @property
    def paths(self) -> Paths:
        return resolve_paths(self.environ)

    @property
    def interactive(self) -> bool:
        return bool(self.stdin_isatty and self.stdout_isatty)

    @property
    def no_color(self) -> bool:
        return "NO_COLOR" in self.environ

    def binary_stdout(self) -> IO[bytes]:
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            raise RuntimeError("stdout has no binary buffer")
        self.stdout.flush()
        return buffer  # type: ignore[no-any-return]

    def warn(self, message: str) -> None:
        print(message, file=self.stderr)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
