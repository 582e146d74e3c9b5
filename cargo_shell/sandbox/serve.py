"""Serve the sandbox over loopback HTTP (``cargo-shell sandbox serve``) with waitress.

waitress reads and writes every socket on one I/O thread and runs the app on a fixed pool of
worker threads, so the sandbox keeps one SQLite connection per worker (``Database`` holds them
thread-locally) however many requests it answers. What it adds here:

* a ``reset`` fault closes the socket with ``SO_LINGER`` 0 and no response (the peer sees a reset);
* an over-long request line is answered 414 (waitress alone answers 431 for any oversized head);
* errors waitress answers itself (400, 413, 414, 431, 500) use the platform's JSON error shape.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from waitress import wasyncore
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error

from cargo_shell.sandbox.faults import ConnectionDropped, FaultSpec
from cargo_shell.sandbox.runtime import Sandbox

log = logging.getLogger("cargo_shell.sandbox.serve")

#: After an error answer, how long and how much of the client's remaining input is read and dropped.
DRAIN_SECONDS = 2.0
DRAIN_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one server accepts; the defaults suit a sandbox left running on a laptop."""

    threads: int = 8
    backlog: int = 1024
    connection_limit: int = 256
    #: idle keep-alive connections are closed after this many seconds
    idle_timeout_s: int = 60
    max_request_line: int = 64 * 1024
    max_request_head: int = 128 * 1024
    #: above the domains' own 50 MiB upload limit, so theirs is the error users see first
    max_request_body: int = 64 * 1024 * 1024


class ServeError(Exception):
    """The server could not start; ``message`` says why and ``hint`` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class RequestLineTooLong(Error):  # type: ignore[misc]
    code = 414
    reason = "URI Too Long"


_ERROR_REASONS = {
    400: "malformedRequest",
    413: "requestTooLarge",
    414: "requestLineTooLong",
    431: "requestHeadersTooLarge",
    500: "internalError",
    501: "notImplemented",
}


class _Parser(HTTPRequestParser):  # type: ignore[misc]
    """waitress's parser, plus a limit on the request line alone (answered 414)."""

    max_request_line = Limits.max_request_line

    def received(self, data: bytes) -> int:
        completed = bool(getattr(self, "completed", False))
        if self.body_rcv is None and not completed and b"\n" not in self.header_plus:
            head = self.header_plus + data
            end = head.find(b"\n")
            if end > self.max_request_line or (end < 0 and len(head) > self.max_request_line):
                self.parse_header(b"GET / HTTP/1.0\r\n")
                self.error = RequestLineTooLong(f"the request line is longer than {self.max_request_line} bytes")
                self.completed = True
                return len(data)
        consumed: int = super().received(data)
        return consumed


class _ErrorTask(ErrorTask):  # type: ignore[misc]
    """Errors found before the app runs, in the sandbox's ``{"errorMessage", "reason"}`` shape."""

    def execute(self) -> None:
        self.channel.linger_on_close = True  # the client may still be sending what was refused
        error = self.request.error
        message = f"{error.reason}: {error.body}" if error.code != 500 else "Internal sandbox error"
        body = json.dumps({"errorMessage": message, "reason": _ERROR_REASONS.get(error.code, "badRequest")}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json; charset=utf-8"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Task(WSGITask):  # type: ignore[misc]
    def execute(self) -> None:
        try:
            super().execute()
        except ConnectionDropped:
            if self.wrote_header:
                raise
            # linger 0: closing sends a reset instead of an orderly FIN; nothing was written
            self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise ClientDisconnected("sandbox fault: connection reset") from None


class _Channel(HTTPChannel):  # type: ignore[misc]
    """waitress's channel with a lingering close after an error answer.

    Closing a socket whose input was not read makes the kernel send a reset, and a reset can
    destroy the answer before the client reads it (a 414 the client never sees). So after an
    error answer the channel shuts down its sending side and reads and discards what the client
    still sends, for a bounded time and size, before closing.
    """

    task_class = _Task
    error_task_class = _ErrorTask
    parser_class = _Parser
    linger_on_close = False
    draining = False
    drain_until = 0.0
    drained = 0

    def handle_close(self) -> None:
        if self.linger_on_close and not self.draining and self.socket is not None:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            else:
                self.draining = True
                self.drain_until = time.monotonic() + DRAIN_SECONDS
                return
        super().handle_close()

    def readable(self) -> bool:
        if self.draining:
            if time.monotonic() > self.drain_until:
                super().handle_close()
                return False
            return True
        return bool(super().readable())

    def writable(self) -> bool:
        return False if self.draining else bool(super().writable())

    def handle_read(self) -> None:
        if not self.draining:
            super().handle_read()
            return
        try:
            data = self.socket.recv(65536)
        except OSError:
            data = b""
        self.drained += len(data)
        if not data or self.drained > DRAIN_BYTES:
            super().handle_close()


class SandboxServer:
    """A waitress server on one bound socket, driven like ``socketserver``:
    ``serve_forever()`` in one thread, ``shutdown()`` from another, then ``server_close()``."""

    def __init__(self, app: Any, sock: socket.socket, limits: Limits) -> None:
        self._map: dict[int, Any] = {}
        self._stop = threading.Event()
        self._running = threading.Event()
        self._stopped = threading.Event()
        host, port = sock.getsockname()[:2]
        self.server_address: tuple[str, int] = (str(host), int(port))
        self._server = create_server(
            app,
            map=self._map,
            sockets=[sock],
            threads=limits.threads,
            backlog=limits.backlog,
            connection_limit=limits.connection_limit,
            channel_timeout=limits.idle_timeout_s,
            max_request_header_size=limits.max_request_head,
            max_request_body_size=limits.max_request_body,
            asyncore_use_poll=True,  # select() fails past fd 1024
            ident="cargo-shell sandbox",
        )
        parser = type("_LimitedParser", (_Parser,), {"max_request_line": limits.max_request_line})
        self._server.channel_class = type("_LimitedChannel", (_Channel,), {"parser_class": parser})
        self.limits = limits

    def serve_forever(self) -> None:
        self._running.set()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=1.0, map=self._map, use_poll=True, count=1)
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (running in another thread) and wait until it returned."""
        self._stop.set()
        if self._running.is_set():
            self._server.pull_trigger()
            self._stopped.wait()

    def request_stop(self) -> None:
        """Ask ``serve_forever`` to return soon; safe in a signal handler (it only sets a flag)."""
        self._stop.set()

    def server_close(self) -> None:
        """Close the listening socket and every connection; wait for the worker threads."""
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self._map)


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port``; :class:`ServeError` says why when it cannot be had."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise ServeError(
            f"--host {host!r} is not an address of this machine",
            "Use --host 127.0.0.1 (the default) or another local address.",
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # rebinds past TIME_WAIT, never a live port
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use (another `cargo-shell sandbox serve`, or another program)",
                "Pick another port with --port N, or --port 0 for any free port (the URL is printed first).",
            ) from None
        if exc.errno == errno.EACCES:
            raise ServeError(
                f"not allowed to listen on port {port} (ports below 1024 need privileges)",
                "Pick a port above 1024 with --port N, or --port 0 for any free port.",
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(
                f"--host {host} is not an address of this machine",
                "Use --host 127.0.0.1 (the default) or another local address.",
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}", "Try another --host or --port.") from None
    return sock


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    token: str | None = None,
    reset: bool = False,
    faults: FaultSpec | str | None = None,
    limits: Limits | None = None,
) -> tuple[SandboxServer, Sandbox]:
    """Bind the socket and open the sandbox whose base URL is the bound address."""
    if data_dir is None:
        from cargo_shell.paths import resolve_paths

        data_dir = resolve_paths().sandbox_dir
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
    sock = _bind(host, port)
    bound_host, bound_port = (str(part) for part in sock.getsockname()[:2])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    try:
        box = Sandbox.open(data_dir, token=token, reset=reset, faults=spec, base_url=f"http://{shown}:{bound_port}")
    except BaseException:
        sock.close()
        raise
    return SandboxServer(box.app, sock, limits or Limits()), box


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
    """Serve until interrupted (Ctrl-C, SIGTERM, SIGHUP); the first stdout line is the base URL.

    While it runs, the sandbox directory records the URL and pid (see ``sandbox.served``).
    """
    import signal

    from cargo_shell.sandbox import served

    out = stdout or sys.stdout
    server, box = make_server(host, port, data_dir, token, reset, faults)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" under load is expected
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, lambda *_: server.request_stop())
    record = served.write_record(box.data_dir, box.base_url)
    try:
        print(box.base_url, file=out, flush=True)
        print(f"workspace {box.workspace_uuid}; admin token stored in {box.data_dir}", file=out, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        served.remove_record(box.data_dir, record)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.server_close()
        box.close()
