"""Agent documents: versioned texts, code, sheets or images an agent writes during a chat.

A document is its uuid (chosen by the caller) and a list of versions; each ``create`` appends one,
``get`` answers the newest, ``list`` all of them oldest first, and ``reset`` goes back to the
version created at a given time by deleting the later ones. Versions of one document always have
distinct ``createdAt`` values, so a reset names exactly one.
"""

from __future__ import annotations

import sqlite3
import uuid as uuidlib
from typing import Any

from cargo_shell.sandbox.db import Database, register_migration
from cargo_shell.sandbox.fields import text
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, parse_iso

KINDS = ("text", "code", "image", "sheet")
MAX_CONTENT_CHARS = 1_000_000


@register_migration("401_ai_documents")
def _m401(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE ai_documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL,"
        " workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL, kind TEXT NOT NULL, title TEXT, content TEXT NOT NULL,"
        " created_at TEXT NOT NULL, created_ts REAL NOT NULL)"
    )
    conn.execute("CREATE INDEX ai_documents_uuid ON ai_documents (workspace_uuid, uuid, created_ts)")


def document_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "userUuid": row["user_uuid"],
        "kind": row["kind"], "title": row["title"], "content": row["content"], "createdAt": row["created_at"],
        "deletedAt": None,
    }  # fmt: skip


def _document_uuid(src: dict[str, Any]) -> str:
    value = text(src, "uuid")
    if not value:
        raise bad_request("uuid is required: the document's uuid", "missingField")
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        raise bad_request(f"uuid must be a UUID, not {value[:60]!r}", "invalidField") from None


def _latest(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one(
        "SELECT * FROM ai_documents WHERE workspace_uuid = ? AND uuid = ? ORDER BY created_ts DESC, seq DESC LIMIT 1",
        (ws, uuid),
    )
    if row is None:
        raise ApiError(404, "Document not found", "documentNotFound")
    return row


def create_document(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    uuid = _document_uuid(body)
    kind = text(body, "kind")
    if kind not in KINDS:
        raise bad_request(f"kind must be one of {', '.join(KINDS)}", "invalidField")
    title, content = text(body, "title"), text(body, "content")
    if title is None or content is None:
        raise bad_request("title and content are required (strings; content may be empty)", "missingField")
    if len(content) > MAX_CONTENT_CHARS:
        raise ApiError(413, f"content is limited to {MAX_CONTENT_CHARS} characters in the sandbox", "tooLarge")
    now = ctx.clock()
    with ctx.db.transaction() as conn:
        last = conn.execute(
            "SELECT MAX(created_ts) FROM ai_documents WHERE workspace_uuid = ? AND uuid = ?", (ctx.workspace_uuid, uuid)
        ).fetchone()[0]
        if last is not None and now < last + 0.001:
            now = last + 0.001  # versions stay distinct (and ordered) even within one millisecond
        conn.execute(
            "INSERT INTO ai_documents (uuid, workspace_uuid, user_uuid, kind, title, content, created_at, created_ts)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (uuid, ctx.workspace_uuid, ctx.user_uuid, kind, title, content, iso(now), round(now, 3)),
        )
    return {"document": document_json(_latest(ctx.db, ctx.workspace_uuid, uuid))}


def get_document(req: Request) -> dict[str, Any]:
    uuid = _document_uuid({"uuid": req.path_params["uuid"]})
    return {"document": document_json(_latest(req.ctx.db, req.ctx.workspace_uuid, uuid))}


def list_documents(req: Request) -> dict[str, Any]:
    ctx, q = req.ctx, req.query
    uuid = _document_uuid(q)
    _latest(ctx.db, ctx.workspace_uuid, uuid)
    limit, offset = as_int(q.get("limit"), "limit", 100), as_int(q.get("offset"), "offset", 0)
    rows = ctx.db.all(
        "SELECT * FROM ai_documents WHERE workspace_uuid = ? AND uuid = ? ORDER BY created_ts, seq LIMIT ? OFFSET ?",
        (ctx.workspace_uuid, uuid, limit, offset),
    )
    return {"documents": [document_json(r) for r in rows]}


def reset_document(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    uuid = _document_uuid(body)
    created = text(body, "createdAt")
    if not created:
        raise bad_request("createdAt is required: the createdAt of the version to go back to", "missingField")
    at = round(parse_iso(created), 3)
    with ctx.db.transaction() as conn:
        _latest(ctx.db, ctx.workspace_uuid, uuid)
        kept = conn.execute(
            "SELECT 1 FROM ai_documents WHERE workspace_uuid = ? AND uuid = ? AND created_ts = ?",
            (ctx.workspace_uuid, uuid, at),
        ).fetchone()
        if kept is None:
            raise ApiError(
                404, f"This document has no version created at {created} (see ai document list)", "documentNotFound"
            )
        conn.execute(
            "DELETE FROM ai_documents WHERE workspace_uuid = ? AND uuid = ? AND created_ts > ?",
            (ctx.workspace_uuid, uuid, at),
        )
    return {"document": document_json(_latest(ctx.db, ctx.workspace_uuid, uuid))}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/ai/documents")(create_document)
    r("GET", "/v1/ai/documents/list")(list_documents)
    r("POST", "/v1/ai/documents/reset")(reset_document)
    r("GET", "/v1/ai/documents/{uuid}")(get_document)
