"""Chats and messages. An assistant message is ``pending``, then ``generating``, then
``success``; the sandbox agent answers deterministically from what the workspace holds."""

from __future__ import annotations

import random
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.engine import credits
from cargo_shell.sandbox.engine.core import register_advancer
from cargo_shell.sandbox.fields import text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, live_row, new_uuid

GENERATE_AFTER = 0.5
ANSWER_AFTER = 2.0
MESSAGE_CREDITS = 1.0
#: ``usage.connectorUuid`` of an answer whose release names no connector: the sandbox's own language
#: model, a platform-managed connector that is not one of the workspace's (sandbox README).
MODEL_CONNECTOR_UUID = "00000000-0000-4000-8000-5a4db0c0a1e0"
TRIGGER_TYPES = ("chat", "connector", "draft", "web_extension", "app", "workflow", "schedule")
MESSAGE_FIELDS = (
    "actions", "resources", "capabilities", "mcpClients", "systemPrompt", "withReasoning", "temperature", "maxSteps",
    "integrationSlug", "connectorUuid", "languageModelSlug", "output",
)  # fmt: skip


#: ``Chat.lastMessage``: the message's identity, authors, status and times (not its content).
LAST_MESSAGE_KEYS = (
    "uuid", "workspaceUuid", "chatUuid", "agentUuid", "releaseUuid", "userUuid", "type", "status", "errorMessage",
    "createdAt", "updatedAt", "finishedAt", "deletedAt",
)  # fmt: skip


def chat_json(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    last = db.one("SELECT * FROM ai_messages WHERE chat_uuid = ? ORDER BY seq DESC LIMIT 1", (row["uuid"],))
    return {
        "uuid": row["uuid"], "slug": row["uuid"][:8], "traceUuid": row["uuid"], "workspaceUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"], "agentUuid": row["agent_uuid"], "releaseUuid": row["release_uuid"],
        "name": row["name"], "trigger": loads(row["trigger"]), "heartbeat": None, "evaluator": None,
        "activeStreamUuid": None, "creditsUsedCount": row["credits"],
        "lastMessage": None if last is None else {k: message_json(last)[k] for k in LAST_MESSAGE_KEYS},
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "deletedAt": None,
    }  # fmt: skip


def _usage(row: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    usage: dict[str, Any] | None = loads(row["usage"])
    if usage is not None and not usage.get("connectorUuid"):  # answers stored before it was always named
        usage["connectorUuid"] = config.get("connectorUuid") or MODEL_CONNECTOR_UUID
    return usage


def message_json(row: dict[str, Any]) -> dict[str, Any]:
    config = loads(row["config"], {})
    out = {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "agentUuid": row["agent_uuid"],
        "releaseUuid": row["release_uuid"], "chatUuid": row["chat_uuid"], "userUuid": row["user_uuid"],
        "status": row["status"], "errorMessage": row["error_message"], "type": row["type"],
        "parts": loads(row["parts"], []), "evaluatedTools": {}, "usage": _usage(row, config), "evaluation": None,
        "meta": {"sandbox": True}, "suggestedActions": [], "temporalWorkflowId": None,
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "finishedAt": row["finished_at"],
        "deletedAt": None,
    }  # fmt: skip
    for field in MESSAGE_FIELDS:
        out[field] = config.get(field, [] if field in ("actions", "resources", "capabilities", "mcpClients") else None)
    return out


def _sync(req: Request) -> None:
    if req.ctx.engine is not None:
        req.ctx.engine.sync_step()


def _chat_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "ai_chats", ws, uuid, "Chat", "chatNotFound")


def create_chat(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    trigger = body.get("trigger")
    if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGER_TYPES:
        raise bad_request(f"trigger must be an object with type one of {', '.join(TRIGGER_TYPES)}")
    agent = body.get("agentUuid")
    if (
        agent
        and ctx.db.scalar(
            "SELECT 1 FROM ai_agents WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
            (agent, ctx.workspace_uuid),
        )
        is None
    ):
        raise ApiError(404, "Agent not found", "agentNotFound")  # fmt: skip
    uuid, stamp = new_uuid(), iso(ctx.clock())
    ctx.db.execute(
        "INSERT INTO ai_chats (uuid, workspace_uuid, user_uuid, agent_uuid, release_uuid, name, trigger, created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (uuid, ctx.workspace_uuid, ctx.user_uuid, agent, uuid_ref(body, "releaseUuid"), text(body, "name"),
         dumps(trigger), stamp, stamp),
    )  # fmt: skip
    return {"chat": chat_json(ctx.db, _chat_row(ctx.db, ctx.workspace_uuid, uuid))}


def list_chats(req: Request) -> dict[str, Any]:
    _sync(req)
    q = req.query
    where, params = ["workspace_uuid = ?", "deleted_at IS NULL"], [req.ctx.workspace_uuid]
    for field, column in (("agentUuid", "agent_uuid"), ("releaseUuid", "release_uuid"), ("userUuid", "user_uuid")):
        if value := uuid_ref(q, field):
            where.append(f"{column} = ?")
            params.append(value)
    if name := text(q, "name"):
        where.append("name LIKE ?")
        params.append(f"%{name}%")
    if trigger_type := text(q, "triggerType"):
        where.append("json_extract(trigger, '$.type') = ?")
        params.append(trigger_type)
    limit, offset = as_int(q.get("limit"), "limit", 50), as_int(q.get("offset"), "offset", 0)
    rows = req.ctx.db.all(
        f"SELECT * FROM ai_chats WHERE {' AND '.join(where)} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {"chats": [chat_json(req.ctx.db, r) for r in rows]}


def _insert_message(
    db: Database, ws: str, chat: dict[str, Any], user: str | None, kind: str, status: str, parts: list[Any],
    config: dict[str, Any], now: float,
) -> str:  # fmt: skip
    uuid, stamp = new_uuid(), iso(now)
    db.execute(
        "INSERT INTO ai_messages (uuid, workspace_uuid, chat_uuid, agent_uuid, release_uuid, user_uuid, type, status,"
        " parts, config, created_at, updated_at, finished_at, start_ts, due_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (uuid, ws, chat["uuid"], chat["agent_uuid"], chat["release_uuid"], user, kind, status, dumps(parts),
         dumps(config), stamp, stamp, stamp if status == "success" else None, now + GENERATE_AFTER,
         now + ANSWER_AFTER),
    )  # fmt: skip
    return uuid


def create_message(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    parts = body.get("parts")
    if not isinstance(parts, list) or not parts:
        raise bad_request("parts must be a non-empty array, e.g. [{type: text, text: ...}]")
    now = ctx.clock()
    with ctx.db.transaction() as conn:
        chat = _chat_row(ctx.db, ctx.workspace_uuid, body.get("chatUuid"))
        busy = conn.execute(
            "SELECT 1 FROM ai_messages WHERE chat_uuid = ? AND status IN ('pending', 'generating', 'cancelling')",
            (chat["uuid"],),
        ).fetchone()
        if busy:
            raise ApiError(400, "The previous answer of this chat is still being generated", "lastMessageNotFinished")
        credits.require_credits(conn, ctx.workspace_uuid)
        config = {k: body[k] for k in MESSAGE_FIELDS if k in body}
        user_msg = _insert_message(ctx.db, ctx.workspace_uuid, chat, ctx.user_uuid, "user", "success", parts, config,
                                   now)  # fmt: skip
        reply = _insert_message(ctx.db, ctx.workspace_uuid, chat, None, "assistant", "pending", [], config, now)
    if ctx.engine is not None:
        ctx.engine.kick()
    rows = {r["uuid"]: r for r in ctx.db.all("SELECT * FROM ai_messages WHERE uuid IN (?, ?)", (user_msg, reply))}
    return {"userMessage": message_json(rows[user_msg]), "assistantMessage": message_json(rows[reply])}


def get_message(req: Request) -> dict[str, Any]:
    _sync(req)
    row = req.ctx.db.one(
        "SELECT * FROM ai_messages WHERE uuid = ? AND workspace_uuid = ?",
        (req.path_params["uuid"], req.ctx.workspace_uuid),
    )
    if row is None:
        raise ApiError(404, "Message not found", "messageNotFound")
    return {"message": message_json(row)}


def list_messages(req: Request) -> dict[str, Any]:
    _sync(req)
    q = req.query
    chat = _chat_row(req.ctx.db, req.ctx.workspace_uuid, uuid_ref(q, "chatUuid"))
    limit, offset = as_int(q.get("limit"), "limit", 100), as_int(q.get("offset"), "offset", 0)
    rows = req.ctx.db.all(
        "SELECT * FROM ai_messages WHERE chat_uuid = ? ORDER BY seq LIMIT ? OFFSET ?", (chat["uuid"], limit, offset)
    )
    return {"messages": [message_json(r) for r in rows]}


# -- the sandbox agent -------------------------------------------------------------------
def _question(db: Database, chat_uuid: str) -> str:
    row = db.one("SELECT parts FROM ai_messages WHERE chat_uuid = ? AND type = 'user' ORDER BY seq DESC LIMIT 1",
                 (chat_uuid,))  # fmt: skip
    texts = [p.get("text", "") for p in loads(row["parts"], []) if isinstance(p, dict)] if row else []
    return " ".join(t for t in texts if isinstance(t, str)).strip()


def _record_count(db: Database, dataset_uuid: str, slug: str) -> int:
    try:
        return int(db.dataset_conn(dataset_uuid).execute(f'SELECT COUNT(*) FROM "models_{slug}"').fetchone()[0])
    except Exception:  # the model table may not exist yet (never synced)
        return 0


def answer(db: Database, ws: str, chat_uuid: str) -> str:
    """What the sandbox agent says: a summary of the workspace data it can see."""
    models = db.all(
        "SELECT slug, name, dataset_uuid FROM models WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY name",
        (ws,),
    )
    counts = [(m["name"], _record_count(db, m["dataset_uuid"], m["slug"])) for m in models]
    tools = db.scalar("SELECT COUNT(*) FROM wf_tools WHERE workspace_uuid = ? AND deleted_at IS NULL", (ws,)) or 0
    plays = db.scalar("SELECT COUNT(*) FROM wf_plays WHERE workspace_uuid = ? AND deleted_at IS NULL", (ws,)) or 0
    question = _question(db, chat_uuid)
    listing = ", ".join(f"{name} ({count} records)" for name, count in counts) or "no models"
    return (
        f"I am the sandbox agent: my answers are generated locally and deterministically, not by a language model. "
        f"You asked: {question[:200]!r}. This workspace has {len(models)} models ({listing}), {tools} tools and "
        f"{plays} plays."
    )


@register_advancer
def advance_messages(db: Database, now: float) -> int:
    stamp = iso(now)
    done = 0
    with db.transaction() as conn:
        done += conn.execute(
            "UPDATE ai_messages SET status = 'cancelled', updated_at = ?, finished_at = ? WHERE status = 'cancelling'",
            (stamp, stamp),
        ).rowcount
        done += conn.execute(
            "UPDATE ai_messages SET status = 'generating', updated_at = ? WHERE status = 'pending' AND start_ts <= ?",
            (stamp, now),
        ).rowcount
        due = conn.execute(
            "SELECT uuid, workspace_uuid, chat_uuid, agent_uuid, config FROM ai_messages"
            " WHERE status = 'generating' AND due_ts <= ? ORDER BY seq LIMIT 100",
            (now,),
        ).fetchall()
        for row in due:
            ws = row["workspace_uuid"]
            config = loads(row["config"], {})
            if credits.remaining(conn, ws) < MESSAGE_CREDITS:
                conn.execute(
                    "UPDATE ai_messages SET status = 'error', error_message = ?, updated_at = ?, finished_at = ?"
                    " WHERE uuid = ?",
                    ("notEnoughCredits: the workspace has no credits left", stamp, stamp, row["uuid"]),
                )
                continue
            text = answer(db, ws, row["chat_uuid"])
            usage = {
                "tokensUsedCount": len(text.split()) * 2, "billableTokensCount": len(text.split()) * 2,
                "inputTokensCount": len(text.split()), "outputTokensCount": len(text.split()),
                "cacheReadTokensCount": 0, "cacheWriteTokensCount": 0, "reasoningTokensCount": 0,
                "creditsUsedCount": MESSAGE_CREDITS, "languageModelSlug": config.get("languageModelSlug", "sandbox"),
                "connectorUuid": config.get("connectorUuid") or MODEL_CONNECTOR_UUID,
            }  # fmt: skip
            conn.execute(
                "UPDATE ai_messages SET status = 'success', parts = ?, usage = ?, updated_at = ?, finished_at = ?"
                " WHERE uuid = ?",
                (dumps([{"type": "text", "text": text}]), dumps(usage), stamp, stamp, row["uuid"]),
            )
            conn.execute("UPDATE ai_chats SET credits = credits + ?, updated_at = ? WHERE uuid = ?",
                         (MESSAGE_CREDITS, stamp, row["chat_uuid"]))  # fmt: skip
            credits.write(conn, [credits.LedgerRow(ws, stamp, MESSAGE_CREDITS, agent_uuid=row["agent_uuid"])])
        done += len(due)
    return done


def seed_chat(db: Database, ws: str, user: str | None, agent: str, at: float, rng: random.Random) -> None:
    stamp = iso(at)
    chat = {"uuid": new_uuid(rng), "agent_uuid": agent, "release_uuid": None}
    db.execute(
        "INSERT INTO ai_chats (uuid, workspace_uuid, user_uuid, agent_uuid, name, trigger, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (chat["uuid"], ws, user, agent, "Which accounts should we prioritise?", dumps({"type": "draft"}), stamp,
         stamp),
    )  # fmt: skip
    parts = [{"type": "text", "text": "Which accounts should we prioritise this week?"}]
    _insert_message(db, ws, chat, user, "user", "success", parts, {}, at)
    reply = _insert_message(db, ws, chat, None, "assistant", "generating", [], {}, at - ANSWER_AFTER)
    db.execute("UPDATE ai_messages SET created_at = ? WHERE uuid = ?", (stamp, reply))
    advance_messages(db, at)


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/ai/chats")(create_chat)
    r("GET", "/v1/ai/chats/list")(list_chats)
    r("POST", "/v1/ai/messages")(create_message)
    r("GET", "/v1/ai/messages/list")(list_messages)
    r("GET", "/v1/ai/messages/{uuid}")(get_message)
