"""``cargo-shell mcp [--read-only] [--http --port N]``: start the MCP server on this profile and target.

The executor is the context's own (profile policy, job store, audit log, front end ``mcp``), with
the MCP confirmer given per call and the cancellable sleep given at construction.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from cargo_shell.errors import ExitStatus, UsageError
from cargo_shell.session import Context

DEFAULT_PORT = 8765


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cargo-shell mcp",
        description="Serve the seven skill tools over the Model Context Protocol (stdio by default). "
        "Reads run; writes, destructive and credit-spending calls are confirmed by the person through "
        "the client's elicitation, or refused with the plan.",
        allow_abbrev=False,
    )
    p.add_argument("--read-only", action="store_true", help="refuse every call that is not a read")
    p.add_argument("--http", action="store_true", help="streamable HTTP on 127.0.0.1 instead of stdio")
    p.add_argument("--port", type=int, help=f"port for --http (default {DEFAULT_PORT}; 0: any free port)")
    return p


def mcp_command(ctx: Context, argv: list[str]) -> int:
    p = parser()
    if any(a in ("-h", "--help") for a in argv):
        ctx.env.stdout.write(p.format_help())
        return ExitStatus.OK
    ns = p.parse_args(argv)
    if ns.port is not None and not ns.http:
        raise UsageError("--port is for --http", hint=f"cargo-shell mcp --http --port {DEFAULT_PORT}")
    port = DEFAULT_PORT if ns.port is None else ns.port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {ns.port} is not a port number", hint="Use 1-65535, or 0 for any free port.")
    front = build(ctx, read_only=ns.read_only)
    if ns.http:
        from cargo_shell.mcp.http import serve_http

        serve_http(front, port, ctx.env.stderr)
    else:
        import anyio
        from mcp.server.stdio import stdio_server

        async def run_stdio() -> None:
            async with stdio_server() as (read, write):
                await front.server.run(read, write, front.server.create_initialization_options())

        anyio.run(run_stdio)
    return ExitStatus.OK


def build(ctx: Context, *, read_only: bool) -> Any:
    from cargo_shell.cli import internal_error
    from cargo_shell.mcp.bridge import ToolBridge
    from cargo_shell.mcp.cancel import CancellableSleep
    from cargo_shell.mcp.server import McpFrontEnd

    sleep = CancellableSleep()
    executor = ctx.make_executor(confirmer=None, events=_ignore, front_end="mcp", sleep=sleep)
    executor.policy.read_only = read_only
    return McpFrontEnd(ToolBridge(executor), sleep, on_crash=lambda exc: internal_error(ctx, exc))


def _ignore(_event: Any) -> None:
    pass
