"""``sandbox serve|info|reset``: the local Cargo-compatible sandbox API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import UsageError

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context


def _folder(ctx: Context, data_dir: str | None) -> Path:
    return Path(data_dir).expanduser() if data_dir else ctx.env.paths.sandbox_dir


def serve(
    ctx: Context,
    *,
    host: str,
    port: int,
    data_dir: str | None,
    token: str | None,
    reset: bool | None,
    faults: str | None,
) -> int:
    """Serve until stopped; the lines it prints (the base URL first) go to the context's stdout."""
    from cargo_shell.sandbox.faults import FaultSpec
    from cargo_shell.sandbox.serve import ServeError
    from cargo_shell.sandbox.serve import serve as run_server

    try:
        injected = FaultSpec.parse(faults) if faults else None
    except ValueError as exc:
        example = "Example: --faults 429=0.1,500=0.05,reset=0.02,latency=20ms"
        raise UsageError(f"--faults: {exc}", hint=example) from None
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port number", hint="Use 1-65535, or 0 for any free port.")
    folder = _folder(ctx, data_dir)
    if reset:
        reset_sandbox(ctx, folder)  # marks the workspace's unfinished jobs gone too
    try:
        run_server(
            host=host,
            port=port,
            data_dir=folder,
            token=token,
            faults=injected,
            stdout=ctx.env.stdout,  # type: ignore[arg-type]  # any text stream will do
        )
    except ServeError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    return 0


def info(ctx: Context, *, data_dir: str | None) -> dict[str, Any]:
    """The URL of a live ``sandbox serve`` of this folder (else in-process), its workspace and token."""
    from cargo_shell.sandbox.runtime import Sandbox
    from cargo_shell.sandbox.served import live_servers

    folder = _folder(ctx, data_dir)
    box = Sandbox.open(folder)
    try:
        identity = box.info()
    finally:
        box.close()
    servers = live_servers(folder)
    out: dict[str, Any] = {
        "mode": "served" if servers else "in-process",
        "baseUrl": servers[0]["baseUrl"] if servers else None,
        "workspaceUuid": identity["workspaceUuid"],
        "token": identity["token"],
        "dataDir": str(folder),
        "servers": servers,
    }
    if not servers:
        out["hint"] = (
            "No `cargo-shell sandbox serve` is running for this sandbox: cargo-shell commands use it in-process."
            " Run `cargo-shell sandbox serve` (or `--port 0` for any free port) to reach it over HTTP."
        )
    return out


def reset(ctx: Context, *, data_dir: str | None) -> dict[str, Any]:
    return reset_sandbox(ctx, _folder(ctx, data_dir))


def reset_sandbox(ctx: Context, folder: Path) -> dict[str, Any]:
    """Re-seed the sandbox in place (open shells and servers see it at their next request) and mark
    gone the unfinished jobs recorded in its workspace: their batches and runs went with it."""
    from cargo_shell.executor.jobstore import JobStore
    from cargo_shell.sandbox.runtime import Sandbox

    box = Sandbox.open(folder, reset=True)
    try:
        workspace = box.workspace_uuid
    finally:
        box.close()
    store = JobStore(ctx.env.paths.jobs_db)
    try:
        gone = store.mark_workspace_gone(workspace)
    finally:
        store.close()
    return {"reset": True, "workspaceUuid": workspace, "jobsGone": gone}
