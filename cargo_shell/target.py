"""Open a CargoClient on the resolved target: the Cargo cloud or the embedded sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from cargo_shell.api.client import CargoClient
from cargo_shell.config import Resolved
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

        sandbox = Sandbox.open(paths.sandbox_dir)
        http = httpx.Client(transport=httpx.WSGITransport(app=sandbox.app))
        client = CargoClient(
            http,
            base_url=sandbox.base_url,
            token=sandbox.token,
            workspace_uuid=resolved.workspace_uuid or sandbox.workspace_uuid,
        )
        return Target(client, resolved, sandbox)
    http = httpx.Client(transport=transport) if transport is not None else httpx.Client()
    client = CargoClient(http, base_url=resolved.base_url, token=resolved.token, workspace_uuid=resolved.workspace_uuid)
    return Target(client, resolved)
