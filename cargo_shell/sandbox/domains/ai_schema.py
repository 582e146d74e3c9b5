"""Tables of the AI domain (agents, releases, chats, messages, files, MCP servers, memories)."""

from __future__ import annotations

import sqlite3

from cargo_shell.sandbox.db import register_migration

_TABLES = """
CREATE TABLE ai_agents (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT, name TEXT NOT NULL, description TEXT,
    icon TEXT NOT NULL, triggers TEXT NOT NULL DEFAULT '[]', folder_uuid TEXT, template TEXT,
    is_read_only INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE ai_releases (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, agent_uuid TEXT NOT NULL, user_uuid TEXT,
    parent_uuid TEXT, version TEXT, status TEXT NOT NULL, description TEXT, template_slug TEXT,
    config TEXT NOT NULL, deployed_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX ai_releases_agent ON ai_releases (workspace_uuid, agent_uuid, status);
CREATE TABLE ai_chats (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT, agent_uuid TEXT, release_uuid TEXT,
    name TEXT, trigger TEXT NOT NULL, credits REAL NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE ai_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, workspace_uuid TEXT NOT NULL,
    chat_uuid TEXT NOT NULL, agent_uuid TEXT, release_uuid TEXT, user_uuid TEXT, type TEXT NOT NULL,
    status TEXT NOT NULL, parts TEXT NOT NULL, error_message TEXT, config TEXT NOT NULL DEFAULT '{}', usage TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT, start_ts REAL, due_ts REAL
);
CREATE INDEX ai_messages_chat ON ai_messages (chat_uuid, seq);
CREATE INDEX ai_messages_status ON ai_messages (status, due_ts);
CREATE TABLE ai_files (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT, name TEXT NOT NULL, folder_uuid TEXT,
    s3_filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL, content BLOB NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE ai_mcp_servers (
    uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT, name TEXT NOT NULL, description TEXT,
    actions TEXT NOT NULL, resources TEXT NOT NULL, folder_uuid TEXT, is_read_only INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT
);
CREATE TABLE ai_memories (
    mem0_id TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, scope TEXT NOT NULL, user_uuid TEXT, agent_uuid TEXT,
    content TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
"""


@register_migration("110_ai_tables")
def _ai(conn: sqlite3.Connection) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
