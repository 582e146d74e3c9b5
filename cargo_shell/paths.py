"""Where cargo-shell keeps its files.

``CARGO_SHELL_HOME`` overrides everything (tests point it at a temporary directory);
otherwise the XDG base directories are used. The folders are decided by :func:`folders` with
``os.path`` alone, so the early prompt (``repl/early.py``) can find the config file before
pathlib, dataclasses or anything else is imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_FILE = "config.json"


def folders(environ: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    """(config, data, state) folders, as strings."""
    env = os.environ if environ is None else environ
    home = env.get("CARGO_SHELL_HOME")
    if home:
        root = os.path.expanduser(home)
        return os.path.join(root, "config"), os.path.join(root, "data"), os.path.join(root, "state")
    user_home = os.path.expanduser("~")

    def xdg(variable: str, *default: str) -> str:
        return os.path.join(env.get(variable) or os.path.join(user_home, *default), "cargo-shell")

    return (
        xdg("XDG_CONFIG_HOME", ".config"),
        xdg("XDG_DATA_HOME", ".local", "share"),
        xdg("XDG_STATE_HOME", ".local", "state"),
    )


def config_file(environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(folders(environ)[0], CONFIG_FILE)


class Paths:
    """The three folders and the files cargo-shell keeps in them."""

    __slots__ = ("config_dir", "data_dir", "state_dir")

    def __init__(self, config_dir: Path, data_dir: Path, state_dir: Path) -> None:
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.state_dir = state_dir

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Paths):
            return NotImplemented
        return (self.config_dir, self.data_dir, self.state_dir) == (other.config_dir, other.data_dir, other.state_dir)

    def __hash__(self) -> int:
        return hash((self.config_dir, self.data_dir, self.state_dir))

    def __repr__(self) -> str:
        return f"Paths({self.config_dir!r}, {self.data_dir!r}, {self.state_dir!r})"

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE

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


def resolve_paths(environ: Mapping[str, str] | None = None) -> Paths:
    from pathlib import Path

    config, data, state = folders(environ)
    return Paths(Path(config), Path(data), Path(state))
