"""Core tables of the sandbox (workspace, storage, segmentation, connection, billing).

Timestamps are ISO 8601 strings with ``Z`` (see :func:`cargo_shell.sandbox.util.iso`), so
string order is time order. ``data`` columns hold the JSON fields no query filters on.
"""

from __future__ import annotations

import sqlite3

from cargo_shell.sandbox.db import register_migration

_CORE = """
CREATE TABLE workspaces (
    uuid TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE users (
    uuid TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, first_name TEXT, last_name TEXT,
    data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE roles (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid), slug TEXT NOT NULL,
    permissions TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (workspace_uuid, slug)
);
CREATE TABLE memberships (
    workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid), user_uuid TEXT NOT NULL REFERENCES users(uuid),
    role_uuid TEXT REFERENCES roles(uuid), created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_uuid, user_uuid)
);
CREATE TABLE tokens (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid),
    user_uuid TEXT NOT NULL REFERENCES users(uuid), name TEXT NOT NULL, description TEXT,
    token_hash TEXT NOT NULL UNIQUE, permissions TEXT, created_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE folders (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid), parent_uuid TEXT,
    kind TEXT NOT NULL, name TEXT NOT NULL, emoji_slug TEXT NOT NULL DEFAULT 'file_folder',
    is_read_only INTEGER NOT NULL DEFAULT 0, position INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE workspace_files (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid),
    s3_filename TEXT NOT NULL UNIQUE, name TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
    content BLOB NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE datasets (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid), slug TEXT NOT NULL,
    name TEXT NOT NULL, kind TEXT NOT NULL, connector_uuid TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE UNIQUE INDEX datasets_slug ON datasets (workspace_uuid, slug) WHERE deleted_at IS NULL;
CREATE TABLE models (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL REFERENCES workspaces(uuid),
    dataset_uuid TEXT NOT NULL REFERENCES datasets(uuid), slug TEXT NOT NULL, name TEXT NOT NULL,
    description TEXT, kind TEXT NOT NULL, connector_uuid TEXT, extractor_slug TEXT NOT NULL,
    id_column_slug TEXT NOT NULL, title_column_slug TEXT NOT NULL, time_column_slug TEXT, folder_uuid TEXT,
    is_paused INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL DEFAULT '{}', last_emitted_at TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE UNIQUE INDEX models_slug ON models (dataset_uuid, slug) WHERE deleted_at IS NULL;
CREATE TABLE columns (
    model_uuid TEXT NOT NULL REFERENCES models(uuid), slug TEXT NOT NULL, workspace_uuid TEXT NOT NULL,
    position INTEGER NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, label TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (model_uuid, slug)
);
CREATE TABLE relationships (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, from_dataset_uuid TEXT NOT NULL,
    from_model_uuid TEXT NOT NULL, from_column_slug TEXT NOT NULL, to_dataset_uuid TEXT NOT NULL,
    to_model_uuid TEXT NOT NULL, to_column_slug TEXT NOT NULL, relation TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE segments (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL, model_uuid TEXT NOT NULL,
    slug TEXT NOT NULL, name TEXT NOT NULL, filter TEXT NOT NULL, sort TEXT, lim INTEGER,
    from_play INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL DEFAULT '{}',
    records_count INTEGER NOT NULL DEFAULT 0,
    synced_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE changes (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, segment_uuid TEXT NOT NULL, slug TEXT NOT NULL,
    total INTEGER NOT NULL, added INTEGER NOT NULL, updated INTEGER NOT NULL, removed INTEGER NOT NULL,
    unchanged INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE connectors (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL, name TEXT NOT NULL,
    slug TEXT NOT NULL, integration_slug TEXT NOT NULL, use_credits INTEGER NOT NULL DEFAULT 1,
    is_default INTEGER NOT NULL DEFAULT 0, config TEXT, rate_limit TEXT, cache_ttl_ms INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE UNIQUE INDEX connectors_slug ON connectors (workspace_uuid, slug) WHERE deleted_at IS NULL;
CREATE TABLE credit_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT, workspace_uuid TEXT NOT NULL, at TEXT NOT NULL,
    amount REAL NOT NULL,
    workflow_uuid TEXT, connector_uuid TEXT, model_uuid TEXT, integration_slug TEXT, agent_uuid TEXT,
    run_uuid TEXT, unit TEXT NOT NULL DEFAULT 'billing.credits'
);
CREATE INDEX credit_ledger_ws_at ON credit_ledger (workspace_uuid, unit, at);
CREATE TABLE subscriptions (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL UNIQUE, available_credits REAL NOT NULL,
    additional_credits REAL NOT NULL DEFAULT 0, start_at TEXT NOT NULL, reset_at TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE invoices (
    id TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, is_paid INTEGER NOT NULL, currency TEXT NOT NULL,
    amount INTEGER NOT NULL, due_date TEXT, url TEXT, created_at TEXT NOT NULL
);
CREATE TABLE credit_cards (
    workspace_uuid TEXT PRIMARY KEY, brand TEXT NOT NULL, exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL, last4 TEXT NOT NULL
);
CREATE TABLE downloads (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, kind TEXT NOT NULL, spec TEXT NOT NULL,
    secret TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE system_of_records (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
    kind TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE sandbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@register_migration("001_core_tables")
def _core(conn: sqlite3.Connection) -> None:
    for statement in _CORE.split(";"):
        if statement.strip():
            conn.execute(statement)
