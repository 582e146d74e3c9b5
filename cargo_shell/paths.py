"""Where cargo-shell keeps its files.

``CARGO_SHELL_HOME`` overrides everything (tests point it at a temporary directory);
otherwise the XDG base directories are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.json"

    @property
    def sandbox_dir(self) -> Path:
        return self.data_dir / "sandbox"

    @property
    def jobs_db(self) -> Path:
        return self.state_dir / "jobs.db"

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "audit.jsonl"

    @property
    def history_file(self) -> Path:
        return self.state_dir / "history"

    @property
    def conversations_dir(self) -> Path:
        return self.state_dir / "conversations"


def resolve_paths(environ: dict[str, str] | None = None) -> Paths:
    env = os.environ if environ is None else environ
    home = env.get("CARGO_SHELL_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "state")
    user_home = Path.home()
    config = Path(env.get("XDG_CONFIG_HOME") or user_home / ".config") / "cargo-shell"
    data = Path(env.get("XDG_DATA_HOME") or user_home / ".local" / "share") / "cargo-shell"
    state = Path(env.get("XDG_STATE_HOME") or user_home / ".local" / "state") / "cargo-shell"
    return Paths(config, data, state)
