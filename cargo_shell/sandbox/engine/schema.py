"""Tables of the orchestration engine (workflows, plays, tools, releases, batches, runs).

Timestamps shown to clients are ISO strings; the ``*_ts`` columns hold epoch seconds
from the injected clock and drive scheduling.
"""

from __future__ import annotations

import sqlite3

from cargo_shell.sandbox.db import register_migration

_TABLES = """
CREATE TABLE wf_workflows (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, kind TEXT NOT NULL, folder_uuid TEXT,
    template TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE wf_plays (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, workflow_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL,
    model_uuid TEXT NOT NULL, segment_uuid TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
    folder_uuid TEXT, data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE TABLE wf_tools (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, workflow_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT, folder_uuid TEXT, data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE wf_releases (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, workflow_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL,
    parent_uuid TEXT, version TEXT, status TEXT NOT NULL, description TEXT, template_slug TEXT,
    nodes TEXT NOT NULL, form_fields TEXT, test_records TEXT NOT NULL DEFAULT '[]', deployed_at TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX wf_releases_wf ON wf_releases (workspace_uuid, workflow_uuid, status);
CREATE TABLE wf_batches (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, workflow_uuid TEXT NOT NULL, user_uuid TEXT,
    release_uuid TEXT, nodes TEXT, data TEXT NOT NULL, status TEXT NOT NULL, runs_status TEXT,
    runs_count INTEGER NOT NULL DEFAULT 0, executed_runs_count INTEGER NOT NULL DEFAULT 0,
    failed_runs_count INTEGER NOT NULL DEFAULT 0, credits_used_count REAL NOT NULL DEFAULT 0,
    error_message TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
    created_ts REAL NOT NULL, source TEXT
);
CREATE INDEX wf_batches_status ON wf_batches (status);
CREATE INDEX wf_batches_ws ON wf_batches (workspace_uuid, workflow_uuid, created_at);
CREATE TABLE wf_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, workspace_uuid TEXT NOT NULL,
    workflow_uuid TEXT NOT NULL, user_uuid TEXT, release_uuid TEXT, nodes TEXT, batch_uuid TEXT,
    record_id TEXT NOT NULL, record_title TEXT NOT NULL, data TEXT NOT NULL, status TEXT NOT NULL,
    error_message TEXT, executions TEXT NOT NULL DEFAULT '[]', context TEXT, computed_configs TEXT,
    credits REAL NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
    start_ts REAL NOT NULL, due_ts REAL NOT NULL
);
CREATE INDEX wf_runs_due ON wf_runs (status, due_ts);
CREATE INDEX wf_runs_batch ON wf_runs (batch_uuid, status);
CREATE INDEX wf_runs_wf ON wf_runs (workspace_uuid, workflow_uuid, created_at);
CREATE INDEX wf_runs_record ON wf_runs (workspace_uuid, workflow_uuid, record_id);
"""


@register_migration("100_orchestration_tables")
def _orchestration(conn: sqlite3.Connection) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
