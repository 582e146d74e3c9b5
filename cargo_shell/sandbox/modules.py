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
    ai_chats,
    ai_documents,
    ai_prompts,
    billing,
    billing_plan,
    connection,
    connection_custom,
    content_libraries,
    context,
    domain_management,
    expression,
    hosting,
    hosting_seed,
    initialisation,
    observability,
    orchestration,
    revenue,
    revenue_seed,
    segmentation,
    segmentation_changes,
    storage_columns,
    storage_models,
    storage_previews,
    storage_query,
    storage_records,
    storage_runs,
    system_of_record,
    system_of_record_admin,
    system_of_record_logs,
    workspace,
    workspace_accounts,
    workspace_admin,
)
from cargo_shell.sandbox.http import Router

#: ``register(router)`` of every module that serves routes.
ROUTES: tuple[Callable[[Router], None], ...] = (
    ai.register,
    ai_chats.register,
    ai_documents.register,
    ai_prompts.register,
    billing.register,
    billing_plan.register,
    connection.register,
    connection_custom.register,
    content_libraries.register,
    context.register,
    domain_management.register,
    downloads.register,
    expression.register,
    hosting.register,
    initialisation.register,
    observability.register,
    orchestration.register,
    revenue.register,
    segmentation.register,
    segmentation_changes.register,
    storage_columns.register,
    storage_models.register,
    storage_previews.register,
    storage_query.register,
    storage_records.register,
    storage_runs.register,
    system_of_record.register,
    system_of_record_admin.register,
    system_of_record_logs.register,
    workspace.register,
    workspace_accounts.register,
    workspace_admin.register,
)

SeedHook = Callable[[Database, str, random.Random], None]
#: The first demo data, run in this order on one shared ``random.Random``: their objects keep the
#: UUIDs the docs and tests name (not alphabetic: the order is what gives those UUIDs).
SHARED_SEEDS: tuple[SeedHook, ...] = (
    orchestration.seed_orchestration,
    ai.seed_ai,
)
#: Demo data of the other domains, added after those (each hook gets its own seeded
#: ``random.Random``, so adding a hook never changes another one's data).
SEEDS: tuple[SeedHook, ...] = (
    connection_custom.seed_custom_integration,
    context.seed_demo_context,
    domain_management.seed_domains,
    expression.seed_expression,
    hosting_seed.seed_hosting,
    observability.seed_observability,
    revenue_seed.seed_revenue,
    storage_runs.seed_runs,
    system_of_record_logs.seed_logs,
    workspace_admin.seed_workspace_admin,
)


def build_router() -> Router:
    router = Router()
    for register in ROUTES:
        register(router)
    return router
