"""Chats after they are opened: read, rename, remove; messages cancelled or removed; votes on answers.

``ai_chat`` opens chats and answers messages. Cancelling moves a message still being answered to
``cancelling``; the sandbox agent's advancer turns it into ``cancelled`` on its next step, so the
answer is never written and the chat takes a new message.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, register_migration
from cargo_shell.sandbox.domains.ai_chat import chat_json
from cargo_shell.sandbox.fields import optional, strings, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, live_row

#: Statuses of an assistant message that is still being answered (the ones a cancel acts on).
UNFINISHED = ("pending", "generating")


@register_migration("400_ai_votes")
def _m400(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE ai_votes (workspace_uuid TEXT NOT NULL, chat_uuid TEXT NOT NULL, message_uuid TEXT NOT NULL,"
        " user_uuid TEXT NOT NULL, is_upvoted INTEGER NOT NULL, updated_at TEXT NOT NULL,"
        " PRIMARY KEY (message_uuid, user_uuid))"
    )
    conn.execute("CREATE INDEX ai_votes_chat ON ai_votes (workspace_uuid, chat_uuid)")


def _chat(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "ai_chats", ws, uuid, "Chat", "chatNotFound")


def _sync(req: Request) -> None:
    if req.ctx.engine is not None:
        req.ctx.engine.sync_step()


def get_chat(req: Request) -> dict[str, Any]:
    _sync(req)
    return {"chat": chat_json(req.ctx.db, _chat(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def update_chat(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = _chat(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    name = row["name"]
    if "name" in body:
        name = (text(body, "name") or "").strip() or None  # null or blank clears the name
    ctx.db.execute("UPDATE ai_chats SET name = ?, updated_at = ? WHERE uuid = ?", (name, iso(ctx.clock()), row["uuid"]))
    return {"chat": chat_json(ctx.db, _chat(ctx.db, ctx.workspace_uuid, row["uuid"]))}


def remove_chat(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        row = _chat(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
        conn.execute("UPDATE ai_chats SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (stamp, stamp, row["uuid"]))
        conn.execute(
            "UPDATE ai_messages SET status = 'cancelling', updated_at = ? WHERE chat_uuid = ? AND status IN (?, ?)",
            (stamp, row["uuid"], *UNFINISHED),
        )
        conn.execute("DELETE FROM ai_votes WHERE chat_uuid = ?", (row["uuid"],))
    _kick(req)
    return {"outcome": "removed"}


def _kick(req: Request) -> None:
    if req.ctx.engine is not None:
        req.ctx.engine.kick()


def cancel_messages(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    uuids = strings(body, "uuids")
    if not uuids:
        raise bad_request("uuids is required: the assistant messages to cancel", "missingField")
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        marks = ",".join("?" * len(uuids))
        found = {
            r["uuid"]
            for r in conn.execute(
                f"SELECT uuid FROM ai_messages WHERE workspace_uuid = ? AND uuid IN ({marks})",
                (ctx.workspace_uuid, *uuids),
            )
        }
        unknown = [u for u in uuids if u not in found]
        if unknown:
            raise ApiError(404, f"Message not found: {', '.join(unknown[:5])}", "messageNotFound")
        conn.execute(
            f"UPDATE ai_messages SET status = 'cancelling', updated_at = ? WHERE uuid IN ({marks})"
            " AND status IN (?, ?)",
            (stamp, *uuids, *UNFINISHED),
        )
    _kick(req)
    return {}


def remove_message(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    with ctx.db.transaction() as conn:
        row = conn.execute(
            "SELECT uuid, type FROM ai_messages WHERE uuid = ? AND workspace_uuid = ?",
            (req.path_params["uuid"], ctx.workspace_uuid),
        ).fetchone()
        if row is None:
            raise ApiError(404, "Message not found", "messageNotFound")
        if row["type"] != "user":
            raise ApiError(400, "Only user messages can be removed; this is an assistant answer", "messageNotUser")
        conn.execute("DELETE FROM ai_messages WHERE uuid = ?", (row["uuid"],))
        conn.execute("DELETE FROM ai_votes WHERE message_uuid = ?", (row["uuid"],))
    return {}


def _vote_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "chatUuid": row["chat_uuid"], "messageUuid": row["message_uuid"], "userUuid": row["user_uuid"],
        "workspaceUuid": row["workspace_uuid"], "isUpvoted": bool(row["is_upvoted"]), "updatedAt": row["updated_at"],
    }  # fmt: skip


def list_votes(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    chat = _chat(ctx.db, ctx.workspace_uuid, uuid_ref(req.query, "chatUuid"))
    rows = ctx.db.all("SELECT * FROM ai_votes WHERE chat_uuid = ? ORDER BY updated_at, message_uuid", (chat["uuid"],))
    return {"votes": [_vote_json(r) for r in rows]}


def upsert_vote(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    upvoted = optional(body, "isUpvoted", bool)
    if upvoted is None:
        raise bad_request("isUpvoted is required (true or false)", "missingField")
    with ctx.db.transaction() as conn:
        chat = _chat(ctx.db, ctx.workspace_uuid, uuid_ref(body, "chatUuid"))
        message = uuid_ref(body, "messageUuid")
        if message is None:
            raise bad_request("messageUuid is required: the answer voted on", "missingField")
        known = conn.execute(
            "SELECT 1 FROM ai_messages WHERE uuid = ? AND chat_uuid = ?", (message, chat["uuid"])
        ).fetchone()
        if known is None:
            raise ApiError(404, "Message not found in this chat", "messageNotFound")
        conn.execute(
            "INSERT INTO ai_votes VALUES (?,?,?,?,?,?) ON CONFLICT (message_uuid, user_uuid) DO UPDATE SET"
            " is_upvoted = excluded.is_upvoted, updated_at = excluded.updated_at",
            (ctx.workspace_uuid, chat["uuid"], message, ctx.user_uuid, int(upvoted), iso(ctx.clock())),
        )
    row = ctx.db.one("SELECT * FROM ai_votes WHERE message_uuid = ? AND user_uuid = ?", (message, ctx.user_uuid))
    assert row is not None
    return {"vote": _vote_json(row)}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/ai/chats/{uuid}")(get_chat)
    r("PUT", "/v1/ai/chats/{uuid}")(update_chat)
    r("DELETE", "/v1/ai/chats/{uuid}")(remove_chat)
    r("POST", "/v1/ai/messages/cancel")(cancel_messages)
    r("DELETE", "/v1/ai/messages/{uuid}")(remove_message)
    r("GET", "/v1/ai/votes/list")(list_votes)
    r("PUT", "/v1/ai/votes")(upsert_vote)
