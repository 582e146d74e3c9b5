"""Deterministic demo workspace, generated at first start (fixed random seed, no data files).

The domains add their own demo data with the hooks listed in ``modules.SHARED_SEEDS`` (one shared
generator, so the demo UUIDs named in docs and tests stay put) and ``modules.SEEDS`` (each with its
own ``random.Random`` seeded from :data:`SEED` and its name); they run after the core data exists.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.util import iso, new_uuid

SEED = 20250115

DOMAINS = (
    "ai",
    "billing",
    "connection",
    "context",
    "domainManagement",
    "hosting",
    "observability",
    "orchestration",
    "revenueOrganization",
    "segmentation",
    "storage",
    "content",
    "systemOfRecordIntegration",
    "workspaceManagement",
)
ROLE_PERMISSIONS = {
    "admin": [{"effect": "allow", "resources": None, "actions": [f"{d}:*" for d in DOMAINS]}],
    "member": [
        {
            "effect": "allow",
            "resources": None,
            "actions": [f"{d}:*" for d in DOMAINS if d not in ("billing", "workspaceManagement")],
        },
        {"effect": "allow", "resources": None, "actions": ["workspaceManagement:read", "billing:read"]},
    ],
    "viewer": [{"effect": "allow", "resources": None, "actions": [f"{d}:read" for d in DOMAINS]}],
}
USERS = (
    ("ada.admin@acme-demo.com", "Ada", "Lovelace", "admin"),
    ("grace.hopper@acme-demo.com", "Grace", "Hopper", "member"),
    ("alan.turing@acme-demo.com", "Alan", "Turing", "viewer"),
)
FOLDERS = (("Outbound plays", "play"), ("Enrichment tools", "tool"), ("Agents", "agent"), ("Imports", "file"))


def seed_workspace(db: Database, now: float, rng: random.Random, name: str = "Acme Demo") -> dict[str, str]:
    """Workspace, roles, users and folders; returns the uuids other seeders need."""
    ts = iso(now - 90 * 86400)
    ws = new_uuid(rng)
    roles = {slug: new_uuid(rng) for slug in ROLE_PERMISSIONS}
    data = {
        "allowedEmailDomains": ["acme-demo.com"],
        "maxConcurrentRuns": 10,
        "logoUrl": None,
        "metadata": None,
        "defaultRoleUuid": roles["member"],
        "allowedLoginProviders": ["email", "google-oauth2"],
        "quotaBuckets": {},
        "ssoIdentifier": None,
    }
    db.execute("INSERT INTO workspaces VALUES (?, ?, ?, ?, ?)", (ws, name, dumps(data), ts, ts))
    for slug, perms in ROLE_PERMISSIONS.items():
        db.execute("INSERT INTO roles VALUES (?, ?, ?, ?, ?)", (roles[slug], ws, slug, dumps(perms), ts))
    out = {"workspace": ws}
    for email, first, last, role in USERS:
        user = db.scalar("SELECT uuid FROM users WHERE email = ?", (email,))
        if user is None:
            user = new_uuid(rng)
            db.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user, email, first, last, dumps({"lastSignInAt": iso(now - 3600)}), ts, ts),
            )
        db.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?)", (ws, user, roles[role], ts, ts))
        out.setdefault("admin", user)
    for position, (folder, kind) in enumerate(FOLDERS):
        db.execute(
            "INSERT INTO folders (uuid, workspace_uuid, parent_uuid, kind, name, position, created_at,"
            " updated_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)",
            (new_uuid(rng), ws, kind, folder, position, ts, ts),
        )
    return out


def run_hooks(db: Database, workspace_uuid: str) -> None:
    """Every domain's demo data: ``modules.SHARED_SEEDS`` on one generator (the demo UUIDs that are
    named elsewhere), then ``modules.SEEDS``, each hook with a generator of its own."""
    from cargo_shell.sandbox.modules import SEEDS, SHARED_SEEDS

    shared = random.Random(SEED + 1)
    for hook in SHARED_SEEDS:
        hook(db, workspace_uuid, shared)
    for hook in SEEDS:
        hook(db, workspace_uuid, random.Random(f"{SEED}:{hook.__module__}.{hook.__qualname__}"))


def seed_demo_data(db: Database, ws: str, admin: str, now: float, rng: random.Random) -> None:
    """Everything below the workspace: CRM models, segments, connectors, billing, warehouse."""
    from cargo_shell.sandbox import seed_crm, seed_demo

    models = seed_crm.seed_crm(db, ws, now, rng)
    seed_demo.seed_segments(db, ws, admin, models, now, rng)
    connectors = seed_demo.seed_connectors(db, ws, admin, now, rng)
    seed_demo.seed_billing(db, ws, connectors, models, now, rng)
    seed_demo.seed_system_of_record(db, ws, now, rng)


def seed_sandbox(db: Database, now: float, *, before_marker: Callable[[], None] | None = None) -> str:
    """Create the demo workspace and everything in it; returns the workspace uuid.

    Meant for an empty database (the lifecycle seeds a fresh build, never a live sandbox). The
    ``seed_state = done`` marker and a new ``generation`` are the last writes, after
    ``before_marker``: a database without the marker is an unfinished seed.
    """
    rng = random.Random(SEED)
    with db.transaction():
        ids = seed_workspace(db, now, rng)
        ws = ids["workspace"]
        db.execute("INSERT INTO sandbox_meta VALUES ('workspace_uuid', ?)", (ws,))
        db.execute("INSERT INTO sandbox_meta VALUES ('admin_user_uuid', ?)", (ids["admin"],))
        seed_demo_data(db, ws, ids["admin"], now, rng)
    run_hooks(db, ws)
    if before_marker is not None:
        before_marker()
    with db.transaction():
        db.execute("INSERT INTO sandbox_meta VALUES ('generation', ?)", (secrets.token_hex(8),))
        db.execute("INSERT INTO sandbox_meta VALUES ('seed_state', 'done')")
    return ws
