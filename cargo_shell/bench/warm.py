"""Loaded once by the benchmark's fork server, so that each run's process starts warm.

Importing this module imports what every run needs (the agent, the executor, the sandbox's domain
modules and engine, the SQL parser) and loads the registry, the params models and the skill
guides: a forked child inherits them instead of spending most of a second importing and parsing
them again. It opens no file, connection or thread, so nothing half-open is inherited.
"""

from __future__ import annotations

import cargo_shell.agent.loop
import cargo_shell.agent.runner
import cargo_shell.bench.runner
import cargo_shell.sandbox.engine  # noqa: F401
from cargo_shell.agent.tools import Toolbox
from cargo_shell.registry import get_registry
from cargo_shell.registry.sql import classify
from cargo_shell.sandbox.app import build_router

build_router()  # imports every domain module of the sandbox
for _spec in get_registry():
    _ = _spec.params_model
Toolbox().schemas()
classify("SELECT 1")  # the SQL parser and its dialects load on first use
