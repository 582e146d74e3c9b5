"""Every part of the sandbox that adds routes or demo data, as static lists of imported functions.

Importing this module imports every domain module (which also registers their migrations), so a
module that fails to import fails the sandbox: nothing is skipped. One entry per line,
alphabetic, so parallel additions merge cleanly.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from cargo_shell.sandbox import downloads
from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.domains import (
    ai,
    billing,
    connection,
    orchestration,
    segmentation,
    storage_columns,
    storage_models,
    system_of_record,
    workspace,
)
from cargo_shell.sandbox.http import Router

#: ``register(router)`` of every module that serves routes.
ROUTES: tuple[Callable[[Router], None], ...] = (
    ai.register,
    billing.register,
    connection.register,
    downloads.register,
    orchestration.register,
    segmentation.register,
    storage_columns.register,
    storage_models.register,
    system_of_record.register,
    workspace.register,
)

SeedHook = Callable[[Database, str, random.Random], None]
#: Demo data of the domains, added after the core workspace exists (each hook gets its own seeded
#: ``random.Random``, so adding a hook never changes another one's data).
SEEDS: tuple[SeedHook, ...] = (
    ai.seed_ai,
    orchestration.seed_orchestration,
)


def build_router() -> Router:
    router = Router()
    for register in ROUTES:
        register(router)
    return router
