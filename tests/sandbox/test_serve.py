"""The sandbox over a real loopback socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cargo_shell.sandbox.faults import FaultSpec
from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.sandbox.serve import SandboxServer, make_server


@pytest.fixture
def served(tmp_path: Path, seeded_sandbox_template: Path) -> Iterator[tuple[SandboxServer, Sandbox]]:
    import shutil

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
