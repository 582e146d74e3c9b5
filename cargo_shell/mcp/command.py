"""``cargo-shell mcp [--read-only] [--http [--port N]]``: the MCP server on this profile and target.

The handler of the registry entry ``mcp`` (``registry/commands/cargo-shell.json``). The executor is
the session's own (profile policy, job store, audit log), made for the front end ``mcp`` with the
cancellable sleep; each call brings its own MCP confirmer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.errors import UsageError

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context
    from cargo_shell.mcp.server import McpFrontEnd

DEFAULT_PORT = 8765


def mcp_command(ctx: Context, *, read_only: bool | None, http: bool | None, port: int | None) -> int:
    if port is not None and not http:
        raise UsageError("--port is for --http", hint=f"cargo-shell mcp --http --port {DEFAULT_PORT}")
    port = DEFAULT_PORT if port is None else port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port number", hint="Use 1-65535, or 0 for any free port.")
    front = build(ctx, read_only=bool(read_only))
    if http:
        from cargo_shell.mcp.http import serve_http

        serve_http(front, port, ctx.env.stderr)
        return 0
    import anyio
    from mcp.server.stdio import stdio_server

    async def run_stdio() -> None:
        async with stdio_server() as (read, write):
            await front.server.run(read, write, front.server.create_initialization_options())

    anyio.run(run_stdio)
    return 0


def build(ctx: Context, *, read_only: bool) -> McpFrontEnd:
    from cargo_shell.crash_log import internal_error
    from cargo_shell.mcp.bridge import ToolBridge
    from cargo_shell.mcp.cancel import CancellableSleep
    from cargo_shell.mcp.server import McpFrontEnd

    sleep = CancellableSleep()
    ctx.use_front_end("mcp", events=_ignore, sleep=sleep)
    executor = ctx.executor()
    executor.policy.read_only = read_only
    return McpFrontEnd(ToolBridge(executor), sleep, on_crash=lambda exc: internal_error(ctx.env, exc, debug=ctx.debug))


def _ignore(_event: Any) -> None:
    pass
