"""AI content: files for retrieval (``/v1/content/files``), MCP servers and memories."""

from __future__ import annotations

import random
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.fields import text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import check_folder, iso, live_rows, new_uuid

MAX_FILE_BYTES = 50 * 1024 * 1024
SCOPES = ("user", "agent")
FILE_KINDS = ("connector", "native")


# -- files -------------------------------------------------------------------------
def file_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "libraryUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"], "name": row["name"], "isTemporary": False, "folderUuid": row["folder_uuid"],
        "s3Filename": row["s3_filename"], "openAiFileId": f"sandbox-{row['uuid'][:8]}",
        "contentType": row["content_type"], "size": row["size"], "isIndexedInOpenAiVectorStore": False,
        "externalId": None, "kind": "native", "createdAt": row["created_at"], "updatedAt": row["updated_at"],
        "deletedAt": None,
    }  # fmt: skip


def file_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    row = db.one(
        "SELECT uuid, workspace_uuid, user_uuid, name, folder_uuid, s3_filename, content_type, size, created_at,"
        " updated_at FROM ai_files WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
        (uuid, ws),
    )
    if row is None:
        raise ApiError(404, "File not found", "fileNotFound")
    return row


def list_files(req: Request) -> dict[str, Any]:
    """Uploaded files, filtered: every one of them is native and in the workspace's own library."""
    ws, q = req.ctx.workspace_uuid, req.query
    kind, folder = text(q, "kind"), uuid_ref(q, "folderUuid")
    if kind is not None and kind not in FILE_KINDS:
        raise bad_request(f"kind must be one of {', '.join(FILE_KINDS)}", "invalidField")
    library, connector = uuid_ref(q, "libraryUuid"), uuid_ref(q, "connectorUuid")
    if kind == "connector" or connector is not None or library not in (None, ws):
        return {"files": []}  # connector files come from syncs, which the sandbox never runs
    sql = (
        "SELECT uuid, workspace_uuid, user_uuid, name, folder_uuid, s3_filename, content_type, size, created_at,"
        " updated_at FROM ai_files WHERE workspace_uuid = ? AND deleted_at IS NULL"
    )
    params = [ws]
    if folder is not None:
        sql += " AND folder_uuid = ?"
        params.append(folder)
    return {"files": [file_json(r) for r in req.ctx.db.all(sql + " ORDER BY created_at", params)]}


def upload_file(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    part = req.files.get("file")
    if part is None:
        raise ApiError(400, "No file in the upload (multipart field 'file')", "noFile")
    filename, content, content_type = part
    if len(content) > MAX_FILE_BYTES:
        raise ApiError(413, "Files above 50 MiB are not accepted by the sandbox", "fileTooLarge")
    folder = req.form.get("folderUuid") or None
    check_folder(ctx.db, ctx.workspace_uuid, folder)
    stamp = iso(ctx.clock())
    replace = req.form.get("uuid")
    if replace:
        file_row(ctx.db, ctx.workspace_uuid, replace)
        ctx.db.execute(
            "UPDATE ai_files SET name = ?, content_type = ?, size = ?, content = ?, updated_at = ? WHERE uuid = ?",
            (filename, content_type, len(content), content, stamp, replace),
        )
        uuid = replace
    else:
        uuid = new_uuid()
        ctx.db.execute(
            "INSERT INTO ai_files (uuid, workspace_uuid, user_uuid, name, folder_uuid, s3_filename, content_type, size,"
            " content, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (uuid, ctx.workspace_uuid, ctx.user_uuid, filename, folder, f"sandbox/files/{uuid}/{filename}",
             content_type, len(content), content, stamp, stamp),
        )  # fmt: skip
    return {"files": [file_json(file_row(ctx.db, ctx.workspace_uuid, uuid))]}


def update_file(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = file_row(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    if "folderUuid" in body:
        check_folder(ctx.db, ctx.workspace_uuid, body["folderUuid"])
    ctx.db.execute(
        "UPDATE ai_files SET name = ?, folder_uuid = ?, updated_at = ? WHERE uuid = ?",
        (text(body, "name") or row["name"], body["folderUuid"] if "folderUuid" in body else row["folder_uuid"],
         iso(ctx.clock()), row["uuid"]),
    )  # fmt: skip
    return {"file": file_json(file_row(ctx.db, ctx.workspace_uuid, row["uuid"]))}


def remove_file(req: Request) -> dict[str, Any]:
    row = file_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    req.ctx.db.execute("UPDATE ai_files SET deleted_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), row["uuid"]))
    return {}


# -- MCP servers ---------------------------------------------------------------------
def mcp_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "userUuid": row["user_uuid"], "name": row["name"],
        "description": row["description"], "actions": loads(row["actions"], []),
        "resources": loads(row["resources"], []), "folderUuid": row["folder_uuid"], "templateSlug": None,
        "isReadOnly": bool(row["is_read_only"]), "createdAt": row["created_at"], "updatedAt": row["updated_at"],
        "deletedAt": None,
    }  # fmt: skip


def _mcp_row(db: Database, ws: str, uuid: Any, *, writable: bool = False) -> dict[str, Any]:
    row = db.one(
        "SELECT * FROM ai_mcp_servers WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (uuid, ws)
    )
    if row is None:
        raise ApiError(404, "MCP server not found", "mcpServerNotFound")
    if writable and row["is_read_only"]:
        raise ApiError(400, "This MCP server is read-only", "mcpServerIsReadOnly")
    return row


def list_mcp(req: Request) -> dict[str, Any]:
    return {"mcpServers": [mcp_json(r) for r in live_rows(req.ctx.db, "ai_mcp_servers", req.ctx.workspace_uuid)]}


def get_mcp(req: Request) -> dict[str, Any]:
    return {"mcpServer": mcp_json(_mcp_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_mcp(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise bad_request("name is required")
    for field in ("actions", "resources"):
        if not isinstance(body.get(field), list):
            raise bad_request(f"{field} is required (an array, possibly empty)")
    check_folder(ctx.db, ctx.workspace_uuid, body.get("folderUuid"))
    uuid, stamp = new_uuid(), iso(ctx.clock())
    ctx.db.execute(
        "INSERT INTO ai_mcp_servers (uuid, workspace_uuid, user_uuid, name, description, actions, resources,"
        " folder_uuid, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (uuid, ctx.workspace_uuid, ctx.user_uuid, body["name"].strip(), text(body, "description"),
         dumps(body["actions"]), dumps(body["resources"]), body.get("folderUuid"), stamp, stamp),
    )  # fmt: skip
    return {"mcpServer": mcp_json(_mcp_row(ctx.db, ctx.workspace_uuid, uuid))}


def update_mcp(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = _mcp_row(ctx.db, ctx.workspace_uuid, req.path_params["uuid"], writable=True)
    if "folderUuid" in body:
        check_folder(ctx.db, ctx.workspace_uuid, body["folderUuid"])
    ctx.db.execute(
        "UPDATE ai_mcp_servers SET name = ?, description = ?, actions = ?, resources = ?, folder_uuid = ?,"
        " updated_at = ? WHERE uuid = ?",
        (text(body, "name") or row["name"], text(body, "description") if "description" in body else row["description"],
         dumps(body["actions"]) if "actions" in body else row["actions"],
         dumps(body["resources"]) if "resources" in body else row["resources"],
         body["folderUuid"] if "folderUuid" in body else row["folder_uuid"], iso(ctx.clock()), row["uuid"]),
    )  # fmt: skip
    return {"mcpServer": mcp_json(_mcp_row(ctx.db, ctx.workspace_uuid, row["uuid"]))}


def remove_mcp(req: Request) -> dict[str, Any]:
    row = _mcp_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"], writable=True)
    req.ctx.db.execute("UPDATE ai_mcp_servers SET deleted_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), row["uuid"]))
    return {}


# -- memories ------------------------------------------------------------------------
def memory_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {"mem0Id": row["mem0_id"], "content": row["content"], "scope": row["scope"],
           "createdAt": row["created_at"], "updatedAt": row["updated_at"]}  # fmt: skip
    if row["scope"] == "user":
        out["userUuid"] = row["user_uuid"]
    else:
        out.update(agentUuid=row["agent_uuid"], workspaceUuid=row["workspace_uuid"])
    return out


def _scope_filter(req: Request, params: dict[str, Any]) -> tuple[str, list[Any]]:
    scope = params.get("scope")
    if scope not in SCOPES:
        raise bad_request("scope must be user or agent (the API has no workspace scope)", "invalidScope")
    if scope == "agent":
        if not params.get("agentUuid"):
            raise bad_request("agentUuid is required when scope is agent")
        return "workspace_uuid = ? AND scope = 'agent' AND agent_uuid = ?", [
            req.ctx.workspace_uuid,
            params["agentUuid"],
        ]
    return "workspace_uuid = ? AND scope = 'user' AND user_uuid = ?", [req.ctx.workspace_uuid, req.ctx.user_uuid]


def list_memories(req: Request) -> dict[str, Any]:
    where, params = _scope_filter(req, req.query)
    rows = req.ctx.db.all(f"SELECT * FROM ai_memories WHERE {where} ORDER BY created_at", params)
    return {"memories": [memory_json(r) for r in rows]}


def _memory(req: Request, params: dict[str, Any]) -> dict[str, Any]:
    where, values = _scope_filter(req, params)
    row = req.ctx.db.one(
        f"SELECT * FROM ai_memories WHERE mem0_id = ? AND {where}", [req.path_params["mem0Id"], *values]
    )
    if row is None:
        raise ApiError(404, "Memory not found (check the scope and agent)", "memoryNotFound")
    return row


def update_memory(req: Request) -> dict[str, Any]:
    body = req.body()
    if not isinstance(body.get("content"), str) or not body["content"].strip():
        raise bad_request("content is required")
    row = _memory(req, body)
    req.ctx.db.execute(
        "UPDATE ai_memories SET content = ?, updated_at = ? WHERE mem0_id = ?",
        (body["content"], iso(req.ctx.clock()), row["mem0_id"]),
    )
    return {}


def remove_memory(req: Request) -> dict[str, Any]:
    row = _memory(req, req.query)
    req.ctx.db.execute("DELETE FROM ai_memories WHERE mem0_id = ?", (row["mem0_id"],))
    return {}


def seed_content(db: Database, ws: str, user: str | None, agent: str, stamp: str, rng: random.Random) -> None:
    body = b"Ideal customer profile: B2B software companies with 50-500 employees in Europe or North America.\n"
    uuid = new_uuid(rng)
    db.execute(
        "INSERT INTO ai_files (uuid, workspace_uuid, user_uuid, name, s3_filename, content_type, size, content,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (uuid, ws, user, "icp.txt", f"sandbox/files/{uuid}/icp.txt", "text/plain", len(body), body, stamp, stamp),
    )
    companies = db.scalar("SELECT uuid FROM models WHERE workspace_uuid = ? AND slug = 'companies'", (ws,))
    resource = {
        "kind": "model", "slug": "companies", "name": "Companies", "description": "Accounts of the demo CRM.",
        "modelUuid": companies, "integrationSlug": None, "filter": None, "limit": None, "prompt": None,
        "selectedColumnSlugs": None, "isReadOnly": True,
    }  # fmt: skip
    db.execute(
        "INSERT INTO ai_mcp_servers (uuid, workspace_uuid, user_uuid, name, description, actions, resources,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (new_uuid(rng), ws, user, "CRM lookups", "Exposes the companies model to MCP clients.", "[]",
         dumps([resource]), stamp, stamp),
    )  # fmt: skip
    memories = (
        ("user", "Prefers short answers with bullet points."),
        ("agent", "The team sells to RevOps leaders."),
        ("agent", "Avoid companies under 20 people."),
    )
    for scope, content in memories:
        db.execute(
            "INSERT INTO ai_memories VALUES (?,?,?,?,?,?,?,?)",
            (f"mem_{new_uuid(rng)[:12]}", ws, scope, user if scope == "user" else None,
             agent if scope == "agent" else None, content, stamp, stamp),
        )  # fmt: skip


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/content/files/list")(list_files)
    r("POST", "/v1/content/files/upload")(upload_file)
    r("PUT", "/v1/content/files/{uuid}")(update_file)
    r("DELETE", "/v1/content/files/{uuid}")(remove_file)
    r("GET", "/v1/ai/mcpServers/list")(list_mcp)
    r("POST", "/v1/ai/mcpServers")(create_mcp)
    r("GET", "/v1/ai/mcpServers/{uuid}")(get_mcp)
    r("PUT", "/v1/ai/mcpServers/{uuid}")(update_mcp)
    r("DELETE", "/v1/ai/mcpServers/{uuid}")(remove_mcp)
    r("GET", "/v1/ai/memories/list")(list_memories)
    r("PUT", "/v1/ai/memories/{mem0Id}")(update_memory)
    r("DELETE", "/v1/ai/memories/{mem0Id}")(remove_memory)
