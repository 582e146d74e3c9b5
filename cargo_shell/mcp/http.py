"""Streamable HTTP on 127.0.0.1 only (uvicorn, already a dependency of the MCP SDK).

The socket is bound and listening before the URL is printed on stderr, so whoever reads that
line can connect at once (``--port 0`` picks a free port and the line says which). DNS-rebinding
protection stays on: only loopback Host and Origin headers are accepted.
"""

from __future__ import annotations

import errno
import socket
from typing import IO

import anyio
import uvicorn

from cargo_shell.errors import UsageError
from cargo_shell.mcp.server import McpFrontEnd

HOST = "127.0.0.1"
PATH = "/mcp"


def bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {HOST} is already in use", hint="Choose another --port, or --port 0 for any free port."
            ) from None
        raise UsageError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_http(front: McpFrontEnd, port: int, stderr: IO[str]) -> None:
    sock = bind(port)
    app = front.server.streamable_http_app(streamable_http_path=PATH, host=HOST)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    stderr.write(f"cargo-shell mcp: streamable HTTP on http://{HOST}:{sock.getsockname()[1]}{PATH}\n")
    stderr.flush()
    try:
        anyio.run(lambda: server.serve(sockets=[sock]))
    finally:
        sock.close()
