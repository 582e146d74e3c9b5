"""The engine's clock-driven state machine for batches and runs (and hooks for messages).

Work becomes *due* at a time computed from the injected clock when it is created:

* a single run is ``pending`` for :data:`RUN_START_DELAY` seconds, then ``running``,
  and executes at :data:`RUN_DURATION` seconds;
* a batch is ``pending`` for :data:`BATCH_START_DELAY`, then resolves its records and
  becomes ``running``; its runs are spread evenly over at most :data:`BATCH_SPREAD_MAX`
  seconds; the batch ends once no run is left;
* ``cancelling`` batches and runs become ``cancelled`` at the next step.

:meth:`Engine.advance` does the due work in bounded transactions. A background thread
calls it with the real clock; request handlers call it briefly before reading, so a CLI
process that exits after each command still sees progress. Tests inject a fake clock
and call ``advance(until_idle=True)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.engine import credits as ledger
from cargo_shell.sandbox.engine.runner import Runner, RunResult
from cargo_shell.sandbox.engine.services import SandboxServices
from cargo_shell.sandbox.util import iso

RUN_START_DELAY = 0.5
RUN_DURATION = 1.5
BATCH_START_DELAY = 0.5
BATCH_SPREAD_PER_RUN = 0.25
BATCH_SPREAD_MAX = 5.0
CHUNK = 1000
UNHEALTHY_RATIO = 0.5

# Other asynchronous jobs (AI messages) plug in here: fn(db, now) -> units of work done.
Advancer = Callable[[Database, float], int]
ADVANCERS: list[Advancer] = []


def register_advancer(fn: Advancer) -> Advancer:
    if fn not in ADVANCERS:
        ADVANCERS.append(fn)
    return fn


@dataclass
class _Budget:
    deadline: float | None
    max_runs: int | None
    runs_done: int = 0

    def exhausted(self) -> bool:
        if self.max_runs is not None and self.runs_done >= self.max_runs:
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline


class Engine:
    def __init__(self, db: Database, clock: Callable[[], float], *, background: bool | None = None) -> None:
        self.db = db
        self.clock = clock
        self.background = clock is time.time if background is None else background
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- public API ------------------------------------------------------------
    def kick(self) -> None:
        """New work exists: make sure the background worker runs (real clock only)."""
        if not self.background:
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._worker, name="sandbox-engine", daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def advance(
        self, max_seconds: float | None = None, *, max_runs: int | None = None, until_idle: bool = False
    ) -> int:
        """Do due work; returns how many units (runs, batch/message transitions) were processed.

        ``max_seconds`` bounds the wall-clock time spent, ``max_runs`` the runs executed;
        ``until_idle`` keeps going until nothing is due at the current clock time.
        Without any bound a single pass is made.
        """
        blocking = until_idle or max_seconds is None
        with self.db.request_scope():  # the sandbox lock first, then ours: one order everywhere
            if not self._lock.acquire(blocking=blocking):
                return 0  # another thread is already advancing
            try:
                deadline = None if max_seconds is None else time.monotonic() + max_seconds
                budget = _Budget(deadline, max_runs)
                total = 0
                while True:
                    done = self._step(budget)
                    total += done
                    if done == 0 or budget.exhausted() or not (until_idle or max_seconds is not None):
                        return total
            finally:
                self._lock.release()

    def sync_step(self) -> None:
        """The bounded catch-up made before answering a read."""
        self.advance(max_seconds=0.25)

    # -- internals -------------------------------------------------------------
    def _worker(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.advance(max_seconds=0.5)
            except Exception:  # a broken job must not kill the worker; it is retried next tick
                done = 0
            if done == 0:
                self._wake.wait(timeout=0.2)
                self._wake.clear()

    def _step(self, budget: _Budget) -> int:
        now = self.clock()
        done = self._cancellations(now) + self._start_batches(now)
        done += self._mark_running(now)
        done += self._execute_runs(now, budget)
        done += self._finish_batches(now)
        for advancer in ADVANCERS:
            done += advancer(self.db, now)
        return done

    def _cancellations(self, now: float) -> int:
        stamp = iso(now)
        with self.db.transaction() as conn:
            batches = [r[0] for r in conn.execute("SELECT uuid FROM wf_batches WHERE status = 'cancelling'")]
            for uuid in batches:
                conn.execute(
                    "UPDATE wf_runs SET status = 'cancelled', updated_at = ?, finished_at = ?"
                    " WHERE batch_uuid = ? AND status IN ('pending', 'running', 'cancelling')",
                    (stamp, stamp, uuid),
                )
                conn.execute(
                    "UPDATE wf_batches SET status = 'cancelled', updated_at = ?, finished_at = ? WHERE uuid = ?",
                    (stamp, stamp, uuid),
                )
            runs = conn.execute(
                "UPDATE wf_runs SET status = 'cancelled', updated_at = ?, finished_at = ? WHERE status = 'cancelling'",
                (stamp, stamp),
            ).rowcount
        return len(batches) + runs

    def _start_batches(self, now: float) -> int:
        from cargo_shell.sandbox.engine import jobs

        due = self.db.all(
            "SELECT * FROM wf_batches WHERE status = 'pending' AND created_ts + ? <= ? ORDER BY created_ts",
            (BATCH_START_DELAY, now),
        )
        for batch in due:
            with self.db.transaction() as conn:
                try:
                    records = jobs.resolve_batch_records(self.db, batch)
                except jobs.DataError as exc:
                    stamp = iso(now)
                    conn.execute(
                        "UPDATE wf_batches SET status = 'error', error_message = ?, updated_at = ?, finished_at = ?"
                        " WHERE uuid = ?",
                        (str(exc), stamp, stamp, batch["uuid"]),
                    )
                    continue
                jobs.insert_batch_runs(conn, batch, records, batch["created_ts"] + BATCH_START_DELAY)
        return len(due)

    def _mark_running(self, now: float) -> int:
        with self.db.transaction() as conn:
            return int(
                conn.execute(
                    "UPDATE wf_runs SET status = 'running', updated_at = ? WHERE status = 'pending' AND start_ts <= ?",
                    (iso(now), now),
                ).rowcount
            )

    def _execute_runs(self, now: float, budget: _Budget) -> int:
        limit = CHUNK if budget.max_runs is None else max(0, min(CHUNK, budget.max_runs - budget.runs_done))
        if limit == 0:
            return 0
        stamp = iso(now)
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT seq, uuid, workspace_uuid, workflow_uuid, release_uuid, nodes, batch_uuid, data"
                " FROM wf_runs WHERE status IN ('pending', 'running') AND due_ts <= ? ORDER BY due_ts, seq LIMIT ?",
                (now, limit),
            ).fetchall()
            if not rows:
                return 0
            release_cache: dict[str, list[Any]] = {}
            services: dict[str, SandboxServices] = {}
            left: dict[str, float] = {}
            updates: list[tuple[Any, ...]] = []
            entries: list[ledger.LedgerRow] = []
            per_batch: dict[str, list[float]] = {}
            for row in rows:
                ws = row["workspace_uuid"]
                if ws not in services:
                    services[ws] = SandboxServices(self.db, ws)
                    left[ws] = ledger.remaining(conn, ws)
                nodes = self._nodes_for(conn, row, release_cache)
                if left[ws] <= 0:
                    result = RunResult("error", "notEnoughCredits: the workspace has no credits left")
                else:
                    result = Runner(services[ws], stamp, time.perf_counter).run(nodes, loads(row["data"]))
                spent = result.credits
                left[ws] -= spent
                updates.append(
                    (
                        result.status,
                        result.error_message,
                        dumps(result.executions),
                        dumps(result.context),
                        dumps(result.computed_configs),
                        spent,
                        stamp,
                        stamp,
                        row["seq"],
                    )
                )
                entries.extend(self._ledger_rows(ws, row, result, stamp))
                if row["batch_uuid"]:
                    counts = per_batch.setdefault(row["batch_uuid"], [0, 0, 0.0])
                    counts[0] += 1
                    counts[1] += result.status == "error"
                    counts[2] += spent
            conn.executemany(
                "UPDATE wf_runs SET status = ?, error_message = ?, executions = ?, context = ?,"
                " computed_configs = ?, credits = ?, updated_at = ?, finished_at = ? WHERE seq = ?",
                updates,
            )
            ledger.write(conn, entries)
            conn.executemany(
                "UPDATE wf_batches SET executed_runs_count = executed_runs_count + ?,"
                " failed_runs_count = failed_runs_count + ?, credits_used_count = credits_used_count + ?,"
                " updated_at = ? WHERE uuid = ?",
                [(c[0], c[1], c[2], stamp, uuid) for uuid, c in per_batch.items()],
            )
        budget.runs_done += len(rows)
        return len(rows)

    @staticmethod
    def _nodes_for(conn: Any, row: Any, cache: dict[str, list[Any]]) -> list[Any]:
        if row["nodes"]:
            nodes: list[Any] = loads(row["nodes"])
            return nodes
        key = row["release_uuid"] or ""
        if key not in cache:
            found = conn.execute("SELECT nodes FROM wf_releases WHERE uuid = ?", (key,)).fetchone()
            cache[key] = loads(found[0]) if found else []
        return cache[key]

    @staticmethod
    def _ledger_rows(ws: str, row: Any, result: RunResult, stamp: str) -> list[ledger.LedgerRow]:
        out = [
            ledger.LedgerRow(
                ws,
                stamp,
                float(len(result.executions)),
                ledger.EXECUTIONS_UNIT,
                workflow_uuid=row["workflow_uuid"],
                run_uuid=row["uuid"],
            )
        ]
        for charge in result.charges:
            out.append(
                ledger.LedgerRow(
                    ws,
                    stamp,
                    charge.amount,
                    ledger.CREDITS_UNIT,
                    workflow_uuid=row["workflow_uuid"],
                    connector_uuid=charge.connector_uuid,
                    integration_slug=charge.integration_slug,
                    agent_uuid=charge.agent_uuid,
                    model_uuid=charge.model_uuid,
                    run_uuid=row["uuid"],
                )
            )
        return out

    def _finish_batches(self, now: float) -> int:
        stamp = iso(now)
        with self.db.transaction() as conn:
            done = conn.execute(
                "SELECT uuid, runs_count, failed_runs_count FROM wf_batches b WHERE status = 'running'"
                " AND NOT EXISTS (SELECT 1 FROM wf_runs r WHERE r.batch_uuid = b.uuid"
                " AND r.status IN ('pending', 'running', 'cancelling'))"
            ).fetchall()
            for uuid, runs_count, failed in done:
                health = "unhealthy" if runs_count and failed / runs_count > UNHEALTHY_RATIO else "healthy"
                conn.execute(
                    "UPDATE wf_batches SET status = 'success', runs_status = ?, updated_at = ?, finished_at = ?"
                    " WHERE uuid = ?",
                    (health, stamp, stamp, uuid),
                )
        return len(done)
