"""The sandbox over a real loopback socket: the in-process server and the `sandbox serve` command."""

from __future__ import annotations

import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.sandbox.serve import SandboxServer, make_server


@pytest.fixture
def served(tmp_path: Path, seeded_sandbox_template: Path) -> Iterator[tuple[SandboxServer, Sandbox]]:
    shutil.copytree(seeded_sandbox_template, tmp_path / "box")
    server, box = make_server("127.0.0.1", 0, tmp_path / "box")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, box
    server.shutdown()
    server.server_close()
    box.close()
    thread.join(5)


def test_real_socket_round_trip_and_download(served: tuple[SandboxServer, Sandbox]) -> None:
    _server, box = served
    assert box.base_url.startswith("http://127.0.0.1:")
    headers = {"authorization": f"Bearer {box.token}", "selected-workspace-uuid": box.workspace_uuid}
    with httpx.Client(base_url=box.base_url, headers=headers, timeout=10) as client:
        models = client.get("/v1/storage/models/list").json()["models"]
        contacts = next(m["uuid"] for m in models if m["slug"] == "contacts")
        response = client.post(
            "/v1/segmentation/segments/download",
            json={"modelUuid": contacts, "filter": {"conjonction": "and", "groups": []}},
        )
        (url,) = response.json()["urls"]
        assert url.startswith(box.base_url)
        with httpx.Client(timeout=10) as anonymous, anonymous.stream("GET", url) as stream:
            lines = sum(chunk.count(b"\n") for chunk in stream.iter_bytes())
        assert lines == 2001
        assert client.get("/v1/nothing").status_code == 404
        assert client.get("/v1/nothing").headers["x-request-id"]


def test_reset_fault_closes_the_socket(served: tuple[SandboxServer, Sandbox]) -> None:
    _server, box = served
    box.app.faults = FaultSpec.parse("reset=1")
    headers = {"authorization": f"Bearer {box.token}"}
    with httpx.Client(base_url=box.base_url, headers=headers, timeout=10) as client:
        with pytest.raises(httpx.TransportError):
            client.get("/v1/workspaceManagement/folders/list")
        box.app.faults = None
        assert client.get("/v1/workspaceManagement/folders/list").status_code == 200


def _request_line(box: Sandbox, raw: bytes) -> bytes:
    """Send raw bytes on a new connection; everything the server answered before closing."""
    parts = urlsplit(box.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_reset_fault_sends_no_response_at_all(served: tuple[SandboxServer, Sandbox]) -> None:
    _server, box = served
    box.app.faults = FaultSpec.parse("reset=1")
    raw = f"GET /v1/workspaceManagement/folders/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {box.token}\r\n\r\n"
    try:
        answer = _request_line(box, raw.encode())
    except ConnectionResetError:
        answer = b""
    assert answer == b""  # a reset (or at worst an empty reply), never a well-formed HTTP response


def test_over_long_request_line_is_414_and_huge_headers_431(served: tuple[SandboxServer, Sandbox]) -> None:
    _server, box = served
    answer = _request_line(box, b"GET /v1/storage/models/list?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"414"
    assert json.loads(body)["reason"] == "requestLineTooLong"
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"b" * 1000) for i in range(200))
    answer = _request_line(box, b"GET /v1/storage/models/list HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"431"
    assert "errorMessage" in json.loads(body)


def test_32_clients_connecting_at_once_are_all_answered(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    """The clients connect while the server is not yet serving: the listen backlog alone must hold them all
    (with a backlog of 5, the 7th connect waits for the kernel to retry its SYN, again and again)."""
    shutil.copytree(seeded_sandbox_template, tmp_path / "box")
    server, box = make_server("127.0.0.1", 0, tmp_path / "box")
    parts = urlsplit(box.base_url)
    connected = threading.Semaphore(0)
    answers: list[int | str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 0, timeout=60)
            conn.connect()
            connected.release()
            conn.request("GET", "/v1/storage/models/list", headers={"authorization": f"Bearer {box.token}"})
            outcome: int | str = conn.getresponse().status
            conn.close()
        except OSError as exc:
            connected.release()
            outcome = type(exc).__name__
        with lock:
            answers.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(32)]
    for t in threads:
        t.start()
    try:
        established = sum(connected.acquire(timeout=20) for _ in range(32))
    finally:
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        for t in threads:
            t.join(90)
        server.shutdown()
        server.server_close()
        box.close()
    assert established == 32
    assert answers == [200] * 32


@dataclass
class Child:
    proc: subprocess.Popen[str]
    base_url: str
    token: str
    data_dir: Path

    def get(self, path: str) -> int:
        """One request on a new connection; the status, or the name of the connection failure."""
        parts = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 0, timeout=60)
        try:
            conn.request("GET", path, headers={"authorization": f"Bearer {self.token}", "connection": "close"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


def _start_child(data_dir: Path, *args: str, fd_limit: int | None = None) -> Child:
    def limit() -> None:
        if fd_limit is not None:
            _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, hard))

    cmd = [sys.executable, "-m", "cargo_shell", "sandbox", "serve", "--port", "0", "--data-dir", str(data_dir), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()  # printed once the socket is bound and the sandbox open
    if not first.startswith("http://"):
        proc.kill()
        _out, err = proc.communicate()
        raise AssertionError(f"sandbox serve did not start: {first!r} {err}")
    return Child(proc, first, (data_dir / "admin-token").read_text().strip(), data_dir)


def _stop_child(child: Child) -> None:
    if child.proc.poll() is None:
        child.proc.send_signal(signal.SIGTERM)
        try:
            child.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.communicate()


@pytest.fixture
def child_box(tmp_path: Path, seeded_sandbox_template: Path) -> Path:
    shutil.copytree(seeded_sandbox_template, tmp_path / "box")
    return tmp_path / "box"


def test_serve_under_a_low_file_limit_answers_every_request(child_box: Path) -> None:
    child = _start_child(child_box, fd_limit=128)
    try:
        statuses = [child.get("/v1/workspaceManagement/folders/list") for _ in range(400)]
        open_files = len(os.listdir(f"/proc/{child.proc.pid}/fd"))
    finally:
        _stop_child(child)
    assert statuses == [200] * 400
    assert open_files < 128


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cargo_shell", *args], capture_output=True, text=True, timeout=120)


def test_info_reports_the_running_server_and_forgets_it_after_sigterm(child_box: Path) -> None:
    before = _cli("sandbox", "info", "--data-dir", str(child_box))
    assert before.returncode == 0
    idle = json.loads(before.stdout)
    assert idle["mode"] == "in-process" and idle["baseUrl"] is None and "sandbox serve" in idle["hint"]
    child = _start_child(child_box)
    try:
        served_info = json.loads(_cli("sandbox", "info", "--data-dir", str(child_box)).stdout)
        assert served_info["mode"] == "served"
        assert served_info["baseUrl"] == child.base_url
        assert [s["pid"] for s in served_info["servers"]] == [child.proc.pid]
        assert child.get("/v1/workspaceManagement/folders/list") == 200  # the URL it gives works
    finally:
        _stop_child(child)
    assert child.proc.returncode == 0  # SIGTERM is a clean stop
    assert not list((child_box / "servers").glob("*.json"))
    after = json.loads(_cli("sandbox", "info", "--data-dir", str(child_box)).stdout)
    assert after["mode"] == "in-process" and after["baseUrl"] is None


def test_info_ignores_the_record_of_a_killed_server(child_box: Path) -> None:
    child = _start_child(child_box)
    child.proc.kill()
    child.proc.communicate()
    assert list((child_box / "servers").glob("*.json"))  # SIGKILL leaves the record behind
    info = json.loads(_cli("sandbox", "info", "--data-dir", str(child_box)).stdout)
    assert info["mode"] == "in-process" and info["baseUrl"] is None


def test_busy_port_is_a_clear_usage_error(child_box: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli("--debug", "sandbox", "serve", "--port", str(port), "--data-dir", str(child_box))
    assert result.returncode == 2
    error = json.loads(result.stdout)  # the CLI's error shape, as for every other failure
    assert f"port {port}" in error["errorMessage"] and "in use" in error["errorMessage"]
    assert "--port 0" in error["hint"] and "--port 0" in result.stderr
    assert "Internal error" not in result.stdout + result.stderr and "Traceback" not in result.stderr
