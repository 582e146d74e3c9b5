"""Workspace folders: the tree that tools, plays, agents, models and files are filed in."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.fields import optional, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request
from cargo_shell.sandbox.util import iso, live_row, live_rows, new_uuid, require
from cargo_shell.sandbox.warehouse import q

FOLDER_KINDS = ("tool", "play", "agent", "file", "mcpServer", "model", "app", "worker", "alert")
EMPTY = JsonResponse({})


def folder_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "parentUuid": row["parent_uuid"],
        "kind": row["kind"],
        "workspaceUuid": row["workspace_uuid"],
        "name": row["name"],
        "emojiSlug": row["emoji_slug"],
        "isReadOnly": bool(row["is_read_only"]),
        "order": row["position"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def _folder(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "folders", ws, uuid, "Folder", "folderNotFound")


def _check_name(db: Database, ws: str, kind: str, name: str, parent: Any, exclude: str = "") -> None:
    if db.scalar(
        "SELECT 1 FROM folders WHERE workspace_uuid = ? AND kind = ? AND name = ? AND uuid <> ? AND"
        " parent_uuid IS ? AND deleted_at IS NULL",
        (ws, kind, name, exclude, parent),
    ):
        raise ApiError(400, f"A {kind} folder named {name!r} already exists here", "duplicateName")


def list_folders(req: Request) -> dict[str, Any]:
    rows = live_rows(req.ctx.db, "folders", req.ctx.workspace_uuid, "kind, position, name")
    return {"folders": [folder_json(r) for r in rows]}


def get_folder(req: Request) -> dict[str, Any]:
    return {"folder": folder_json(_folder(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_folder(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    name, emoji, kind = require(body, "name"), require(body, "emojiSlug"), require(body, "kind")
    if kind not in FOLDER_KINDS:
        raise bad_request(f"kind must be one of {', '.join(FOLDER_KINDS)}")
    parent = uuid_ref(body, "parentUuid")
    if parent is not None and _folder(db, ws, parent)["kind"] != kind:
        raise bad_request("A folder must have the same kind as its parent", "folderNotCompatible")
    _check_name(db, ws, kind, name, parent)
    uuid, now = new_uuid(), iso(req.ctx.clock())
    position = db.scalar("SELECT COUNT(*) FROM folders WHERE workspace_uuid = ? AND kind = ?", (ws, kind))
    db.execute(
        "INSERT INTO folders VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, NULL)",
        (uuid, ws, parent, kind, name, emoji, position, now, now),
    )
    return {"folder": folder_json(_folder(db, ws, uuid))}


def update_folder(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _folder(db, ws, req.path_params["uuid"])
    if row["is_read_only"]:
        raise ApiError(400, "This folder is read-only", "folderIsReadOnly")
    name = text(body, "name") or row["name"]
    parent = uuid_ref(body, "parentUuid") if "parentUuid" in body else row["parent_uuid"]
    if parent is not None and (parent == row["uuid"] or _folder(db, ws, parent)["kind"] != row["kind"]):
        raise bad_request("Invalid parent folder", "folderNotCompatible")
    order = optional(body, "order", int, row["position"])
    _check_name(db, ws, row["kind"], name, parent, row["uuid"])
    db.execute(
        "UPDATE folders SET name = ?, emoji_slug = ?, parent_uuid = ?, position = ?, updated_at = ? WHERE uuid = ?",
        (name, text(body, "emojiSlug") or row["emoji_slug"], parent, order, iso(req.ctx.clock()), row["uuid"]),
    )
    return {"folder": folder_json(_folder(db, ws, row["uuid"]))}


def _foldered_tables(db: Database) -> list[str]:
    """Every table whose rows sit in folders (``folder_uuid`` next to ``workspace_uuid`` and ``deleted_at``)."""
    return [
        r["name"]
        for r in db.all(
            "SELECT name FROM sqlite_master m WHERE type = 'table' AND (SELECT COUNT(*) FROM pragma_table_info(m.name)"
            " WHERE name IN ('folder_uuid', 'workspace_uuid', 'deleted_at')) = 3 ORDER BY name"
        )
    ]


def remove_folder(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _folder(db, ws, req.path_params["uuid"])
    places = [("folders", "parent_uuid")] + [(t, "folder_uuid") for t in _foldered_tables(db)]
    if any(
        db.scalar(
            f"SELECT 1 FROM {q(t)} WHERE {column} = ? AND workspace_uuid = ? AND deleted_at IS NULL", (row["uuid"], ws)
        )
        for t, column in places
    ):
        raise ApiError(400, "The folder is not empty; move or remove its content first", "folderNotEmpty")
    now = iso(req.ctx.clock())
    db.execute("UPDATE folders SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
    return EMPTY


def register(router: Router) -> None:
    r = router.route
    base = "/v1/workspaceManagement/folders"
    r("GET", f"{base}/list")(list_folders)
    r("GET", f"{base}/{{uuid}}")(get_folder)
    r("POST", base)(create_folder)
    r("PUT", f"{base}/{{uuid}}")(update_folder)
    r("DELETE", f"{base}/{{uuid}}")(remove_folder)
