"""The world of one task run: its own copy of the seeded sandbox, a simulated clock, executors.

Every run gets a fresh copy of one seeded template (seeding takes seconds, copying milliseconds)
in its own home directory, so runs never see each other's changes, in parallel or not.

Sandbox time is simulated: it starts at a fixed instant after the seed's (so dates in prompts and
answers do not depend on the day the benchmark runs), moves when the executor waits for a job
(polls cost no real seconds) and moves :data:`THINK_SECONDS` per model call, as a person's clock
would while the model thinks, so a job started without waiting is done a few turns later.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from cargo_shell import __version__
from cargo_shell.api.client import CargoClient
from cargo_shell.executor import Confirmer, EventSink, Executor
from cargo_shell.sandbox.runtime import Sandbox

#: The seed's "now": 2025-03-03T09:00:00Z. Task prompts may name dates relative to it.
SEED_EPOCH = 1740992400.0
#: A run starts one hour after the seed.
RUN_START = SEED_EPOCH + 3600.0
#: Simulated seconds per model call.
THINK_SECONDS = 3.0
_MARKER = "seeded-by"


class SimClock:
    """Seconds since the epoch that move only when someone sleeps or advances them.

    The sandbox reads it as wall time, the executor as its monotonic clock, and the executor's
    ``sleep`` advances it: waiting for a job costs no real time.
    """

    def __init__(self, start: float = RUN_START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, float(seconds))

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)


def ensure_template(folder: Path) -> Path:
    """The seeded sandbox template in ``folder`` (seeded once per cargo-shell version).

    Concurrent callers are safe: the template is seeded in a temporary directory and moved
    into place in one rename; a loser of that race uses the winner's copy.
    """
    target = folder / f"sandbox-{__version__}"
    if (target / _MARKER).exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".seeding-", dir=folder))
    try:
        seeded = scratch / "sandbox"
        Sandbox.open(seeded, clock=SimClock(SEED_EPOCH)).close()
        (seeded / _MARKER).write_text(f"cargo-shell {__version__}\n", encoding="utf-8")
        try:
            os.rename(seeded, target)
        except OSError:
            if not (target / _MARKER).exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


@dataclass
class World:
    home: Path
    clock: SimClock
    sandbox: Sandbox
    client: CargoClient

    def executor(
        self,
        *,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        assume_yes: bool = False,
        audited: bool = True,
    ) -> Executor:
        """An executor on this run's sandbox, made like every other (``Context.make_executor``): the
        default policy of a fresh home (reads run, the rest asks), its own job store, the simulated
        clock and, when ``audited``, the audit log (the agent's actions; set-up and verification are
        the benchmark's own and stay out of it)."""
        from cargo_shell.commands.context import Context
        from cargo_shell.config import Resolved
        from cargo_shell.environment import Environment
        from cargo_shell.target import Target

        quiet = Environment(
            stdin=io.StringIO(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            environ={"CARGO_SHELL_HOME": str(self.home)},
            stdin_isatty=False,
            stdout_isatty=False,
        )
        client = self.client
        resolved = Resolved("bench", "sandbox", client.base_url, None, client.workspace_uuid)
        return Context(quiet).make_executor(
            confirmer=confirmer,
            events=events,
            front_end="bench",
            assume_yes=assume_yes,
            sleep=self.clock.sleep,
            target=Target(client=client, resolved=resolved),
            audited=audited,
            clock=self.clock,
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        self.sandbox.close()


def open_world(template: Path, home: Path) -> World:
    """Copy ``template`` into ``home`` and open it on a simulated clock."""
    data_dir = home / "data" / "sandbox"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template, data_dir, ignore=shutil.ignore_patterns(_MARKER))
    clock = SimClock()
    box = Sandbox.open(data_dir, clock=clock)
    http = httpx.Client(transport=httpx.WSGITransport(app=box.app))
    client = CargoClient(http, base_url=box.base_url, token=box.token, workspace_uuid=box.workspace_uuid)
    return World(home, clock, box, client)
