"""Serve the sandbox over loopback HTTP (``cargo-shell sandbox serve``).

Plain ``wsgiref`` with one thread per connection. A ``reset`` fault closes the
connection without writing a response (the peer sees a reset / empty reply).
"""

from __future__ import annotations

import logging
import socket
import struct
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, TextIO
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from cargo_shell.sandbox.faults import ConnectionDropped, FaultSpec
from cargo_shell.sandbox.runtime import Sandbox

log = logging.getLogger("cargo_shell.sandbox.serve")


class _ServerHandler(ServerHandler):
    dropped = False

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], ConnectionDropped):
            self.dropped = True  # write nothing: the connection is cut below
            return
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        log.error("sandbox request failed", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if handler.dropped:
            # linger 0: close() sends a reset instead of an orderly shutdown
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class SandboxServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def shutdown_request(self, request: Any) -> None:
        linger = request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
        if struct.unpack("ii", linger)[0]:
            request.close()  # no FIN first: reset the connection
            return
        super().shutdown_request(request)


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    token: str | None = None,
    reset: bool = False,
    faults: FaultSpec | str | None = None,
) -> tuple[SandboxServer, Sandbox]:
    """Bind the socket and open the sandbox whose base URL is the bound address."""
    if data_dir is None:
        from cargo_shell.paths import resolve_paths

        data_dir = resolve_paths().sandbox_dir
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
    server = SandboxServer((host, port), _RequestHandler)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    box = Sandbox.open(data_dir, token=token, reset=reset, faults=spec, base_url=f"http://{shown}:{bound_port}")
    server.set_app(box.app)
    return server, box


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    data_dir: Path | None = None,
    token: str | None = None,
    reset: bool = False,
    faults: FaultSpec | str | None = None,
    *,
    stdout: TextIO | None = None,
) -> None:
    """Serve until interrupted; the first stdout line is the base URL."""
    out = stdout or sys.stdout
    server, box = make_server(host, port, data_dir, token, reset, faults)
    print(box.base_url, file=out, flush=True)
    print(f"workspace {box.workspace_uuid}; admin token stored in {box.data_dir}", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        box.close()
