"""Content: one uploaded file and its bytes, and content libraries.

A library is a collection of files. Each workspace has one native library, the files uploaded
with ``ai file upload`` (its uuid is the workspace's, as ``File.libraryUuid`` says); it is the
workspace's own and cannot be changed or removed. Connector libraries are stored with their
connector, extractor and settings; filling them means syncing from the provider's account, which
the sandbox cannot reach, so they stay empty and ``lastSyncedAt`` stays null.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.domains.ai_content import file_json, file_row
from cargo_shell.sandbox.fields import optional, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, StreamResponse, bad_request
from cargo_shell.sandbox.integrations import INTEGRATIONS
from cargo_shell.sandbox.util import check_folder, iso, live_row, new_uuid

CHUNK = 64 * 1024
KINDS = ("connector", "native")
NATIVE_NAME = "Uploads"
NATIVE_EXTRACTOR = "upload"


@register_migration("402_content_libraries")
def _m402(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE content_libraries (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, name TEXT NOT NULL,"
        " connector_uuid TEXT NOT NULL, extractor_slug TEXT NOT NULL, config TEXT NOT NULL, folder_uuid TEXT,"
        " last_synced_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT)"
    )


# -- files -----------------------------------------------------------------------------------
def get_file(req: Request) -> dict[str, Any]:
    return {"file": file_json(file_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def read_file_bytes(req: Request) -> StreamResponse:
    db = req.ctx.db
    row = file_row(db, req.ctx.workspace_uuid, req.path_params["uuid"])
    name = row["name"].replace('"', "'")
    headers = {"content-length": str(row["size"]), "content-disposition": f'attachment; filename="{name}"'}
    return StreamResponse(_chunks(db, row["uuid"], int(row["size"])), row["content_type"], headers)


def _chunks(db: Database, uuid: str, size: int) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, so a large file is never read whole."""
    for start in range(1, size + 1, CHUNK):
        part = db.scalar("SELECT substr(content, ?, ?) FROM ai_files WHERE uuid = ?", (start, CHUNK, uuid))
        if not part:
            return
        yield bytes(part)


# -- libraries -------------------------------------------------------------------------------
def _native(db: Database, ws: str) -> dict[str, Any]:
    created = str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,)))
    return {
        "uuid": ws, "workspaceUuid": ws, "kind": "native", "name": NATIVE_NAME, "extractorSlug": NATIVE_EXTRACTOR,
        "config": {}, "folderUuid": None, "lastSyncedAt": None, "createdAt": created, "updatedAt": created,
        "deletedAt": None,
    }  # fmt: skip


def library_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "kind": "connector", "name": row["name"],
        "connectorUuid": row["connector_uuid"], "extractorSlug": row["extractor_slug"],
        "config": loads(row["config"], {}), "folderUuid": row["folder_uuid"], "lastSyncedAt": row["last_synced_at"],
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "deletedAt": None,
    }  # fmt: skip


def _library(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "content_libraries", ws, uuid, "Library", "libraryNotFound")


def _not_native(req: Request, what: str) -> None:
    if req.path_params["uuid"] == req.ctx.workspace_uuid:
        raise ApiError(
            400,
            f"The {NATIVE_NAME} library holds the workspace's uploaded files: it cannot be {what}",
            "libraryIsNative",
        )


def list_libraries(req: Request) -> dict[str, Any]:
    ctx, q = req.ctx, req.query
    kind, connector = text(q, "kind"), uuid_ref(q, "connectorUuid")
    if kind is not None and kind not in KINDS:
        raise bad_request(f"kind must be one of {', '.join(KINDS)}", "invalidField")
    out = [] if kind == "connector" or connector else [_native(ctx.db, ctx.workspace_uuid)]
    if kind != "native":
        sql, params = (
            "SELECT * FROM content_libraries WHERE workspace_uuid = ? AND deleted_at IS NULL",
            [ctx.workspace_uuid],
        )
        if connector:
            sql += " AND connector_uuid = ?"
            params.append(connector)
        out += [library_json(r) for r in ctx.db.all(sql + " ORDER BY created_at, rowid", params)]
    return {"libraries": out}


def get_library(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    if req.path_params["uuid"] == ctx.workspace_uuid:
        return {"library": _native(ctx.db, ctx.workspace_uuid)}
    return {"library": library_json(_library(ctx.db, ctx.workspace_uuid, req.path_params["uuid"]))}


def _config(body: dict[str, Any], required: bool) -> dict[str, Any] | None:
    config = optional(body, "config", dict)
    if config is None and required:
        raise bad_request("config is required: the extractor's settings ({} when it has none)", "missingField")
    return config


def create_library(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    name = (text(body, "name") or "").strip()
    if not name:
        raise bad_request("name is required", "missingField")
    config = _config(body, required=True)
    connector = live_row(ctx.db, "connectors", ctx.workspace_uuid, uuid_ref(body, "connectorUuid") or "", "Connector",
                         "connectorNotFound")  # fmt: skip
    integration = INTEGRATIONS.get(connector["integration_slug"])
    if integration is None:
        raise ApiError(404, f"Integration {connector['integration_slug']!r} not found", "integrationNotFound")
    extractors = sorted(integration.get("extractors") or {})
    slug = text(body, "extractorSlug")
    if slug not in extractors:
        offered = ", ".join(extractors) if extractors else "none: it cannot feed a library"
        raise ApiError(400, f"{integration['name']} has no extractor {slug!r} (extractors: {offered})",
                       "integrationNotCompatible")  # fmt: skip
    folder = uuid_ref(body, "folderUuid")
    check_folder(ctx.db, ctx.workspace_uuid, folder)
    uuid, stamp = new_uuid(), iso(ctx.clock())
    ctx.db.execute(
        "INSERT INTO content_libraries (uuid, workspace_uuid, name, connector_uuid, extractor_slug, config,"
        " folder_uuid, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (uuid, ctx.workspace_uuid, name, connector["uuid"], slug, dumps(config), folder, stamp, stamp),
    )
    return {"library": library_json(_library(ctx.db, ctx.workspace_uuid, uuid))}


def update_library(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    _not_native(req, "changed")
    row = _library(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    name = (text(body, "name") or "").strip() or row["name"]
    config = _config(body, required=False)
    folder = row["folder_uuid"]
    if "folderUuid" in body:
        folder = uuid_ref(body, "folderUuid")
        check_folder(ctx.db, ctx.workspace_uuid, folder)
    ctx.db.execute(
        "UPDATE content_libraries SET name = ?, config = ?, folder_uuid = ?, updated_at = ? WHERE uuid = ?",
        (name, dumps(config) if config is not None else row["config"], folder, iso(ctx.clock()), row["uuid"]),
    )
    return {"library": library_json(_library(ctx.db, ctx.workspace_uuid, row["uuid"]))}


def remove_library(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    _not_native(req, "removed")
    row = _library(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    ctx.db.execute("UPDATE content_libraries SET deleted_at = ? WHERE uuid = ?", (iso(ctx.clock()), row["uuid"]))
    return {}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/content/files/{uuid}")(get_file)
    r("GET", "/v1/content/files/{uuid}/raw")(read_file_bytes)
    r("GET", "/v1/content/libraries/list")(list_libraries)
    r("POST", "/v1/content/libraries/create")(create_library)
    r("GET", "/v1/content/libraries/{uuid}")(get_library)
    r("PATCH", "/v1/content/libraries/{uuid}")(update_library)
    r("DELETE", "/v1/content/libraries/{uuid}")(remove_library)
