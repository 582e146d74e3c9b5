"""Creating, seeding, repairing and resetting the sandbox while other processes and threads use it.

Real parallel processes of the installed entry point, real SIGKILLs, a real served sandbox.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.runtime import Sandbox
from tests.support import FakeClock

TIMEOUT = 120
ROOT = Path(__file__).resolve().parents[2]


def _binary() -> list[str]:
    exe = Path(sys.executable).parent / "cargo-shell"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cargo_shell"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_", "OPENAI_"))}
    env.update(CARGO_SHELL_HOME=str(home), CARGO_SHELL_NO_KEYRING="1", PYTHONPATH=str(ROOT))
    return env


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_binary(), *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def _rows(db: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def _meta(data_dir: Path) -> dict[str, str]:
    return dict(_rows(data_dir / "sandbox.db", "SELECT key, value FROM sandbox_meta"))


def _sandbox_dir(home: Path) -> Path:
    return home / "data" / "sandbox"


def test_eight_processes_starting_together_on_a_fresh_home_all_succeed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    procs = [
        subprocess.Popen(
            [*_binary(), "storage", "model", "list"],
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(8)
    ]
    results = [(p.wait(TIMEOUT), *p.communicate()) for p in procs]
    assert [status for status, _out, _err in results] == [0] * 8, [err for _s, _o, err in results]
    outputs = {out for _status, out, _err in results}
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())["models"]) >= 2
    box = _sandbox_dir(home)
    assert _rows(box / "sandbox.db", "SELECT count(*) FROM workspaces") == [(1,)]
    assert _meta(box)["seed_state"] == "done"
    assert not list(box.glob(".build-*"))


def test_threads_opening_one_fresh_directory_together_share_one_seed(tmp_path: Path) -> None:
    barrier = threading.Barrier(6)
    opened: list[Sandbox] = []
    errors: list[BaseException] = []

    def open_box() -> None:
        barrier.wait()
        try:
            opened.append(Sandbox.open(tmp_path / "box", clock=FakeClock()))
        except BaseException as exc:  # reported below, with the thread's exception
            errors.append(exc)

    threads = [threading.Thread(target=open_box) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    try:
        assert errors == []
        assert len({box.workspace_uuid for box in opened}) == 1
        assert len({box.token for box in opened}) == 1
        assert _rows(tmp_path / "box" / "sandbox.db", "SELECT count(*) FROM workspaces") == [(1,)]
    finally:
        for box in opened:
            box.close()


# A child that opens (or resets) a sandbox and blocks at a chosen point, so the test can kill it there.
_BLOCKING_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cargo_shell.sandbox import lifecycle, modules
    from cargo_shell.sandbox.runtime import Sandbox

    where, data_dir, reset = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "reset"

    def block(*_args):
        print("blocked", flush=True)
        sys.stdin.readline()  # never answered: the test kills us here

    if where == "seeding":
        modules.SEEDS = (*modules.SEEDS, lambda db, ws, rng: block())  # run_hooks reads the list when seeding
    else:  # installing: after the datasets are copied, before the main database
        copy = lifecycle.copy_database
        def copy_then_block(source, target):
            if target.name == lifecycle.DB_FILE:
                block()
            copy(source, target)
        lifecycle.copy_database = copy_then_block
    Sandbox.open(data_dir, reset=reset).close()
    """
)


def _kill_while_blocked(where: str, data_dir: Path, reset: bool) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _BLOCKING_CHILD, where, str(data_dir), "reset" if reset else "open"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "blocked"
        child.send_signal(signal.SIGKILL)
        assert child.wait(TIMEOUT) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _folder_names(box: Sandbox) -> set[str]:
    with _client(box) as client:
        return {f["name"] for f in client.get("/v1/workspaceManagement/folders/list").json()["folders"]}


def _client(box: Sandbox, base_url: str | None = None, token: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token or box.token}"}
    if base_url:
        return httpx.Client(base_url=base_url, headers=headers, timeout=30)
    return httpx.Client(transport=httpx.WSGITransport(app=box.app), base_url=box.base_url, headers=headers)


def _create_folder(client: httpx.Client, name: str) -> None:
    response = client.post(
        "/v1/workspaceManagement/folders", json={"name": name, "emojiSlug": "rocket", "kind": "play"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("where", ["seeding", "installing"])
def test_a_first_seed_killed_midway_is_redone_by_the_next_open(tmp_path: Path, where: str) -> None:
    data_dir = tmp_path / "box"
    _kill_while_blocked(where, data_dir, reset=False)
    assert _meta_or_empty(data_dir).get("seed_state") != "done"
    box = Sandbox.open(data_dir, clock=FakeClock())
    try:
        assert _meta(data_dir)["seed_state"] == "done"
        assert _rows(data_dir / "sandbox.db", "SELECT count(*) FROM workspaces") == [(1,)]
        assert "Outbound plays" in _folder_names(box)
        with _client(box) as client:
            assert len(client.get("/v1/storage/models/list").json()["models"]) >= 2
        assert not list(data_dir.glob(".build-*"))
    finally:
        box.close()


def _meta_or_empty(data_dir: Path) -> dict[str, str]:
    if not (data_dir / "sandbox.db").exists():
        return {}
    try:
        return _meta(data_dir)
    except sqlite3.DatabaseError:
        return {}


def test_a_reset_killed_while_seeding_leaves_the_sandbox_as_it_was(tmp_path: Path) -> None:
    data_dir = tmp_path / "box"
    box = Sandbox.open(data_dir, clock=FakeClock())
    try:
        with _client(box) as client:
            _create_folder(client, "made before the reset")
        _kill_while_blocked("seeding", data_dir, reset=True)
        assert "made before the reset" in _folder_names(box)
    finally:
        box.close()
    other = Sandbox.open(data_dir, clock=FakeClock())  # what any other process finds on disk
    try:
        assert "made before the reset" in _folder_names(other)
    finally:
        other.close()
    again = Sandbox.open(data_dir, reset=True, clock=FakeClock())
    try:
        assert "made before the reset" not in _folder_names(again)
        assert not list(data_dir.glob(".build-*"))
    finally:
        again.close()


def test_a_reset_killed_while_installing_is_repaired_at_the_next_request(tmp_path: Path) -> None:
    data_dir = tmp_path / "box"
    box = Sandbox.open(data_dir, clock=FakeClock())
    try:
        with _client(box) as client:
            _create_folder(client, "made before the reset")
            _kill_while_blocked("installing", data_dir, reset=True)
            assert _meta(data_dir)["seed_state"] == "installing"
            names = {f["name"] for f in client.get("/v1/workspaceManagement/folders/list").json()["folders"]}
        assert "made before the reset" not in names and "Outbound plays" in names
        assert _meta(data_dir)["seed_state"] == "done"
    finally:
        box.close()


def _serve(home: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [*_binary(), "sandbox", "serve", "--port", "0", *extra],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url + (server.stderr.read() if server.stderr else "")
    return server, url


def _stop(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_reset_from_another_process_is_seen_by_a_running_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server, url = _serve(home, "--token", "cai_sandbox_given_by_a_script")
    try:
        stored = (_sandbox_dir(home) / "admin-token").read_text().strip()
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {stored}"}, timeout=30) as client:
            _create_folder(client, "before the reset")
            reset = _cli(home, "sandbox", "reset")
            assert reset.returncode == 0, reset.stdout + reset.stderr
            assert json.loads(reset.stdout)["reset"] is True
            names = {f["name"] for f in client.get("/v1/workspaceManagement/folders/list").json()["folders"]}
            assert "before the reset" not in names and "Outbound plays" in names
            _create_folder(client, "after the reset")
        given = {"authorization": "Bearer cai_sandbox_given_by_a_script"}
        with httpx.Client(base_url=url, headers=given, timeout=30) as client:
            assert client.get("/v1/workspaceManagement/folders/list").status_code == 200
    finally:
        _stop(server)
    listed = _cli(home, "workspace", "folder", "list")
    assert listed.returncode == 0, listed.stderr
    assert "after the reset" in {f["name"] for f in json.loads(listed.stdout)["folders"]}


def _waiting_on(lock: Path) -> bool:
    """Whether some process waits for ``lock`` (a blocked entry of /proc/locks on its inode)."""
    inode = f":{os.stat(lock).st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs /proc/locks to see the reset waiting")
def test_a_request_in_flight_completes_before_a_reset_wipes_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "box"
    box = Sandbox.open(data_dir, clock=FakeClock())
    reset: subprocess.Popen[str] | None = None
    try:
        with _client(box) as client, box.app.db.request_scope():  # a request in flight holds the scope
            _create_folder(client, "first half")
            reset = subprocess.Popen(
                [*_binary(), "sandbox", "reset", "--data-dir", str(data_dir)],
                env=_env(tmp_path / "home"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            while not _waiting_on(data_dir / "sandbox.lock"):  # until the reset waits for our request
                assert reset.poll() is None, reset.communicate()
                threading.Event().wait(0.01)
            _create_folder(client, "second half")  # still the old sandbox: the reset has not started
            assert {"first half", "second half"} <= _folder_names(box)
        assert reset.wait(TIMEOUT) == 0, reset.communicate()
        names = _folder_names(box)
        assert not {"first half", "second half"} & names and "Outbound plays" in names
        with _client(box) as client:
            _create_folder(client, "on the new sandbox")
        third = Sandbox.open(data_dir, clock=FakeClock())
        try:
            assert "on the new sandbox" in _folder_names(third)
        finally:
            third.close()
    finally:
        if reset is not None and reset.poll() is None:
            reset.kill()
            reset.wait()
        box.close()


def test_reset_marks_the_unfinished_jobs_of_the_sandbox_workspace_gone_and_says_how_many(tmp_path: Path) -> None:
    from cargo_shell.executor.jobstore import JobStore

    home = tmp_path / "home"
    sandbox = json.loads(_cli(home, "sandbox", "info").stdout)["workspaceUuid"]
    store = JobStore(home / "state" / "jobs.db")
    jobs = {  # job id: (workspace, status, finished)
        "11111111-0000-4000-8000-000000000001": (sandbox, "running", False),
        "11111111-0000-4000-8000-000000000002": (sandbox, "success", True),
        "22222222-0000-4000-8000-000000000003": ("0b5e0d6c-0000-4000-8000-000000000001", "running", False),
    }
    for job_id, (workspace, status, finished) in jobs.items():
        cloud = workspace != sandbox
        store.record_start(
            job_id=job_id,
            kind="batch",
            command="orchestration batch create",
            command_line="cargo-shell orchestration batch create ...",
            profile="work" if cloud else "default",
            base_url="https://api.getcargo.io" if cloud else "http://sandbox.local",
            workspace_uuid=workspace,
            status=status,
        )
        if finished:
            store.update(job_id, status=status, finished=True)
    store.close()
    reset = _cli(home, "sandbox", "reset")
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout)["jobsGone"] == 1
    listed = {j["jobId"]: j for j in json.loads(_cli(home, "jobs").stdout)["jobs"]}
    assert {job_id: job["status"] for job_id, job in listed.items()} == {
        "11111111-0000-4000-8000-000000000001": "gone",
        "11111111-0000-4000-8000-000000000002": "success",
        "22222222-0000-4000-8000-000000000003": "running",
    }
    assert listed["11111111-0000-4000-8000-000000000001"]["finishedAt"] is not None


def test_a_process_with_two_sandboxes_open_keeps_its_writes_across_a_reset(tmp_path: Path) -> None:
    """Like the shell, whose completion refresher opens and closes a second Sandbox on the same files.

    Opening a second one must not drop the SQLite locks the first holds (POSIX locks die with any
    descriptor of the file the process closes): else another process's close deletes the live WAL.
    """
    home = tmp_path / "home"
    data_dir = _sandbox_dir(home)
    first = Sandbox.open(data_dir)
    try:
        assert "Outbound plays" in _folder_names(first)  # reading: SQLite holds its shared lock now
        second = Sandbox.open(data_dir)
        assert "Outbound plays" in _folder_names(second)
        second.close()
        reset = _cli(home, "sandbox", "reset")
        assert reset.returncode == 0, reset.stdout + reset.stderr
        with _client(first) as client:
            _create_folder(client, "written after the reset")
        listed = _cli(home, "workspace", "folder", "list")
        assert "written after the reset" in {f["name"] for f in json.loads(listed.stdout)["folders"]}
        assert (data_dir / "sandbox.db-wal").exists()
    finally:
        first.close()


def test_a_shell_open_across_a_reset_works_on_the_new_sandbox(tmp_path: Path) -> None:
    import pexpect

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.json").write_text(json.dumps({"onboarded": True, "profiles": {}}))
    cmd = _binary()
    env = {**_env(home), "TERM": "xterm", "NO_COLOR": "1"}
    shell = pexpect.spawn(cmd[0], cmd[1:], env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 120))
    try:
        shell.expect("cargo› ")
        shell.sendline("workspace folder create --name 'Before the reset' --emoji-slug rocket --kind play")
        shell.expect(r"Run it\?")
        shell.sendline("y")
        shell.expect("Before the reset")  # the result (the typed line was echoed before the question)
        shell.expect("cargo› ")
        reset = _cli(home, "sandbox", "reset")
        assert reset.returncode == 0, reset.stdout + reset.stderr
        screen = io.StringIO()
        shell.logfile_read = screen
        shell.sendline("workspace folder list")
        shell.sendline("whoami")  # its answer marks the end of the list
        shell.expect("ada.admin@acme-demo.com")
        assert "Outbound plays" in screen.getvalue() and "Before the reset" not in screen.getvalue()
        shell.expect("cargo› ")
        shell.sendline("workspace folder create --name 'After the reset' --emoji-slug rocket --kind play")
        shell.expect(r"Run it\?")
        shell.sendline("y")
        shell.expect("After the reset")
        shell.expect("cargo› ")
        listed = _cli(home, "workspace", "folder", "list")  # a third process, while the shell is still open
        names = {f["name"] for f in json.loads(listed.stdout)["folders"]}
        assert "After the reset" in names and "Before the reset" not in names
        shell.sendeof()
        shell.expect(pexpect.EOF)
    finally:
        shell.close(force=True)
    listed = _cli(home, "workspace", "folder", "list")  # and after the shell has exited
    assert "After the reset" in {f["name"] for f in json.loads(listed.stdout)["folders"]}


def test_a_sandbox_file_that_is_not_a_database_is_replaced_by_a_fresh_seed(tmp_path: Path) -> None:
    data_dir = tmp_path / "box"
    data_dir.mkdir()
    (data_dir / "sandbox.db").write_bytes(b"torn by a crash, or some other program's file" * 100)
    box = Sandbox.open(data_dir, clock=FakeClock())
    try:
        assert "Outbound plays" in _folder_names(box)
        assert _meta(data_dir)["seed_state"] == "done"
    finally:
        box.close()
