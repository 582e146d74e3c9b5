"""Local files a command reads: judged so the assistant cannot reach past the user.

An argument of type ``file`` in the registry is a local path cargo-shell opens (uploads). When
the *model* proposes one, it is its own approval class: it runs without asking only when the
path, once ``~``, ``..`` and symlinks are resolved, is inside the working directory, is not
hidden and is not a known credential location. Anything else is shown to the person with the
reason, even under ``--yes``. Paths the user typed are theirs and are not judged.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

#: Who proposed an action: the person (CLI, a command typed in the shell, their own script) or the model.
Proposer = Literal["user", "model"]

#: Under the home directory: where credentials and keyrings live.
CREDENTIAL_DIRS = (
    ".ssh",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".gnupg",
    ".kube",
    ".docker",
    ".password-store",
    ".local/share/keyrings",
    "Library/Keychains",
)
#: File names that usually hold secrets, wherever they are.
CREDENTIAL_NAMES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "credentials",
    "credentials.json",
    ".netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
)


@dataclass(frozen=True)
class LocalFile:
    """One local path an action would open; ``concern`` says why a person must look at it."""

    arg: str
    given: str
    resolved: str
    concern: str | None = None

    def label(self) -> str:
        shown = self.given if self.given == self.resolved else f"{self.given} → {self.resolved}"
        return f"--{self.arg} {shown}" + (f" ({self.concern})" if self.concern else "")

    def to_json(self) -> dict[str, Any]:
        return {"arg": self.arg, "path": self.given, "resolved": self.resolved, "concern": self.concern}


@dataclass(frozen=True)
class PathRules:
    """Where the model may point without asking.

    ``workdir`` defaults to the process's current directory and ``home`` to the user's, both
    read when a path is judged; ``protected`` adds folders that are never auto-approved
    (cargo-shell's own config, data and state).
    """

    workdir: Path | None = None
    home: Path | None = None
    protected: tuple[Path, ...] = ()

    def judge(self, arg: str, value: str) -> LocalFile:
        workdir = Path(os.path.realpath(self.workdir or Path.cwd()))
        home = Path(os.path.realpath(self.home or Path.home()))
        given = Path(value).expanduser()
        absolute = given if given.is_absolute() else workdir / given
        resolved = Path(os.path.realpath(absolute))
        return LocalFile(
            arg, value, str(resolved), self._concern(Path(os.path.normpath(absolute)), resolved, workdir, home)
        )

    def _concern(self, literal: Path, resolved: Path, workdir: Path, home: Path) -> str | None:
        for folder in self.protected:
            if _under(resolved, Path(os.path.realpath(folder))):
                return "cargo-shell's own files"
        for name in CREDENTIAL_DIRS:
            if _under(resolved, home / name):
                return f"a credential location (~/{name})"
        for pattern in CREDENTIAL_NAMES:
            if fnmatch.fnmatch(resolved.name, pattern) or fnmatch.fnmatch(literal.name, pattern):
                return f"a file that usually holds secrets ({pattern})"
        if not _under(resolved, workdir):
            return f"outside the working directory {workdir}"
        for path in (literal, resolved):
            if _under(path, workdir) and any(part.startswith(".") for part in path.relative_to(workdir).parts):
                return "a hidden file or folder"
        return None


def _under(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)
