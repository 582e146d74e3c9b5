"""The sandbox's workflow engine: node graphs, runs, batches and the credits they spend.

``create_engine(db, clock)`` is what the app calls; see :mod:`.core` for the state machine,
:mod:`.runner` for graph execution and :mod:`.expressions` for the expression language.
"""

from __future__ import annotations

from collections.abc import Callable

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.engine import schema as _schema  # noqa: F401  (registers the migration)
from cargo_shell.sandbox.engine.core import Engine, register_advancer

__all__ = ["Engine", "create_engine", "register_advancer"]


def create_engine(db: Database, clock: Callable[[], float], *, background: bool | None = None) -> Engine:
    return Engine(db, clock, background=background)
