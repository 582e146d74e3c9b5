"""Open a CargoClient on the resolved target: the Cargo cloud or the embedded sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from cargo_shell.api.client import CargoClient, check_header_settings
from cargo_shell.config import Resolved
from cargo_shell.errors import UsageError
from cargo_shell.paths import Paths

if TYPE_CHECKING:
    from cargo_shell.sandbox.runtime import Sandbox

SANDBOX_NOTICE = (
    "Using the local sandbox (demo workspace, no Cargo account needed). "
    "To work on your Cargo workspace: cargo-shell login --token <API token>"
)


@dataclass
class Target:
    client: CargoClient
    resolved: Resolved
    sandbox: Sandbox | None = None

    def close(self) -> None:
        self.client.close()
        if self.sandbox is not None:
            self.sandbox.close()


def open_target(resolved: Resolved, paths: Paths, *, transport: Any = None) -> Target:
    """``transport`` lets tests plug an httpx transport in front of a cloud target."""
    if resolved.target == "sandbox":
        from cargo_shell.sandbox.runtime import Sandbox

        check_header_settings({"workspace_uuid": resolved.workspace_uuid}, _origins(resolved))  # before opening
        sandbox = Sandbox.open(paths.sandbox_dir)
        http = httpx.Client(transport=httpx.WSGITransport(app=sandbox.app))
        client = CargoClient(
            http,
            base_url=sandbox.base_url,
            token=sandbox.token,
            workspace_uuid=resolved.workspace_uuid or sandbox.workspace_uuid,
            origins=_origins(resolved),
        )
        return Target(client, resolved, sandbox)
    if not resolved.token:
        raise _no_token(resolved)
    http = httpx.Client(transport=transport) if transport is not None else httpx.Client()
    client = CargoClient(
        http,
        base_url=resolved.base_url,
        token=resolved.token,
        workspace_uuid=resolved.workspace_uuid,
        origins=_origins(resolved),
    )
    return Target(client, resolved)


_FLAGS = {"token": "--token", "workspace_uuid": "--workspace-uuid", "base_url": "--base-url"}
_ENV = {"token": "CARGO_API_TOKEN", "workspace_uuid": "CARGO_WORKSPACE_UUID", "base_url": "CARGO_API_URL"}


def _origins(resolved: Resolved) -> dict[str, str]:
    keys = ("token", "workspace_uuid", "base_url")
    return {key: describe_origin(key, resolved) for key in keys if resolved.sources.get(key) in _KNOWN_SOURCES}


_KNOWN_SOURCES = ("flag", "env", "profile", "default")


def describe_origin(key: str, resolved: Resolved) -> str:
    """Where a connection setting came from, in words (for messages that must not show the value)."""
    source = resolved.sources.get(key)
    if source == "flag":
        return f"the {_FLAGS[key]} flag"
    if source == "env":
        return f"the environment variable {_ENV[key]}"
    if source == "profile":
        stored = "the token stored for" if key == "token" else "the config file's"
        return f"{stored} profile {resolved.profile!r}"
    return "the defaults"


def _no_token(resolved: Resolved) -> UsageError:
    """A named server without a token: say so, instead of sending and reading "Unauthorized"."""
    return UsageError(
        f"No API token for {resolved.base_url} (the URL comes from {describe_origin('base_url', resolved)}); "
        "nothing was sent.",
        hint=(
            "Give a token with --token or CARGO_API_TOKEN, or store one for this URL: "
            f"cargo-shell login --token <API token> --base-url {resolved.base_url}. "
            "For a local `cargo-shell sandbox serve`, `cargo-shell sandbox info` prints its token. "
            "Without --base-url and CARGO_API_URL, cargo-shell uses the embedded sandbox."
        ),
    )
