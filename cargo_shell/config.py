"""Profiles, credentials and the layered resolution of connection settings.

Precedence, highest first: (1) command-line flags, (2) environment variables
(``CARGO_API_URL``, ``CARGO_API_TOKEN``, ``CARGO_WORKSPACE_UUID``, ``CARGO_SHELL_PROFILE``),
(3) the profile in the config file, (4) built-in defaults. With no token from any source
the target is the embedded sandbox.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cargo_shell.constants import DEFAULT_BASE_URL
from cargo_shell.errors import ConfigError
from cargo_shell.paths import Paths
from cargo_shell.private_files import write_private

Source = Literal["flag", "env", "profile", "default", "sandbox"]


@dataclass
class Resolved:
    """Connection settings plus where each value came from (for ``config show``)."""

    profile: str
    target: Literal["sandbox", "cloud"]
    base_url: str
    token: str | None
    workspace_uuid: str | None
    sources: dict[str, Source] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Cannot read {path.name}: {exc}", hint=f"Fix or delete the file at {path} and try again."
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name} must hold a JSON object", hint=f"Fix or delete {path}.")
    return data


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write a file readable by its owner only (created 0600, never world-readable)."""
    write_private(path, json.dumps(data, indent=2) + "\n")


class ConfigStore:
    """``config.json`` (profiles, non-secret) and the credential store (tokens)."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths

    def load(self) -> dict[str, Any]:
        data = _read_json(self.paths.config_file)
        data.setdefault("profiles", {})
        return data

    def save(self, data: dict[str, Any]) -> None:
        write_private_json(self.paths.config_file, data)

    def current_profile(self) -> str:
        return str(self.load().get("current_profile") or "default")

    def profile(self, name: str) -> dict[str, Any]:
        prof = self.load()["profiles"].get(name, {})
        return prof if isinstance(prof, dict) else {}

    def set_profile(self, name: str, values: dict[str, Any], *, make_current: bool = True) -> None:
        data = self.load()
        prof = {k: v for k, v in {**data["profiles"].get(name, {}), **values}.items() if v is not None}
        data["profiles"][name] = prof
        if make_current:
            data["current_profile"] = name
        self.save(data)

    def remove_profile(self, name: str) -> None:
        data = self.load()
        data["profiles"].pop(name, None)
        if data.get("current_profile") == name:
            data.pop("current_profile")
        self.save(data)

    # -- secrets ---------------------------------------------------------------------------
    def get_token(self, profile: str) -> str | None:
        token = _keyring_get(profile)
        if token:
            return token
        value = _read_json(self.paths.credentials_file).get(profile)
        return str(value) if value else None

    def set_token(self, profile: str, token: str) -> str:
        """Store the token; returns where it went ("keyring" or "file")."""
        if _keyring_set(profile, token):
            return "keyring"
        creds = _read_json(self.paths.credentials_file)
        creds[profile] = token
        write_private_json(self.paths.credentials_file, creds)
        return "file"

    def delete_token(self, profile: str) -> None:
        _keyring_delete(profile)
        creds = _read_json(self.paths.credentials_file)
        if creds.pop(profile, None) is not None:
            write_private_json(self.paths.credentials_file, creds)


def resolve(
    store: ConfigStore,
    environ: dict[str, str] | os._Environ[str],
    *,
    profile: str | None = None,
    base_url: str | None = None,
    token: str | None = None,
    workspace_uuid: str | None = None,
) -> Resolved:
    sources: dict[str, Source] = {}
    if profile:
        name, sources["profile"] = profile, "flag"
    elif environ.get("CARGO_SHELL_PROFILE"):
        name, sources["profile"] = environ["CARGO_SHELL_PROFILE"], "env"
    else:
        name, sources["profile"] = store.current_profile(), "profile"
    prof = store.profile(name)

    def pick(key: str, flag: str | None, env_key: str, stored: Any) -> Any:
        if flag:
            sources[key] = "flag"
            return flag
        if environ.get(env_key):
            sources[key] = "env"
            return environ[env_key]
        if stored:
            sources[key] = "profile"
            return stored
        return None

    tok = pick("token", token, "CARGO_API_TOKEN", None) or None
    if tok is None:
        stored_token = store.get_token(name)
        if stored_token:
            tok, sources["token"] = stored_token, "profile"
    url = pick("base_url", base_url, "CARGO_API_URL", prof.get("base_url"))
    ws = pick("workspace_uuid", workspace_uuid, "CARGO_WORKSPACE_UUID", prof.get("workspace_uuid"))
    if tok is None and sources.get("base_url") not in ("flag", "env"):
        # no token anywhere: the embedded sandbox, unless a server was named explicitly
        for key in ("token", "base_url", "workspace_uuid"):
            if sources.get(key) != "flag" and sources.get(key) != "env":
                sources[key] = "sandbox"
        ws = ws if sources["workspace_uuid"] != "sandbox" else None
        return Resolved(name, "sandbox", "embedded", None, ws, sources, prof.get("settings", {}))
    if url is None:
        url, sources["base_url"] = DEFAULT_BASE_URL, "default"
    sources.setdefault("workspace_uuid", "default")
    sources.setdefault("token", "default")
    return Resolved(name, "cloud", url, tok, ws, sources, prof.get("settings", {}))


# -- optional OS keyring (used only when the `keyring` package is installed and usable) ------
def _keyring() -> Any:
    if os.environ.get("CARGO_SHELL_NO_KEYRING"):
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:
        return None
    return keyring


def _keyring_get(profile: str) -> str | None:
    kr = _keyring()
    if kr is None:
        return None
    try:
        value = kr.get_password("cargo-shell", profile)
    except Exception:
        return None
    return str(value) if value else None


def _keyring_set(profile: str, token: str) -> bool:
    kr = _keyring()
    if kr is None:
        return False
    try:
        kr.set_password("cargo-shell", profile, token)
    except Exception:
        return False
    return True


def _keyring_delete(profile: str) -> None:
    kr = _keyring()
    if kr is not None:
        with contextlib.suppress(Exception):
            kr.delete_password("cargo-shell", profile)
