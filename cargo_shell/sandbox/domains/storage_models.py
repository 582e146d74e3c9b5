"""Storage domain: datasets, models (real SQL tables) and records."""

from __future__ import annotations

import csv
import io
import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.fields import optional, text
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request, unavailable
from cargo_shell.sandbox.records import build_query, fetch_page
from cargo_shell.sandbox.util import as_int, check_folder, check_identifier, iso, live_row, live_rows, new_uuid, require
from cargo_shell.sandbox.warehouse import (
    COLUMN_TYPES,
    SYSTEM_COLUMNS,
    Column,
    ModelInfo,
    create_table,
    load_model,
    q,
    render_ddl,
)

NATIVE_EXTRACTORS = ("custom", "file")
NO_CONTENT = JsonResponse({}, 200)


def _count_if(db: Database, table: str, where: str, params: tuple[Any, ...]) -> int:
    if db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)) is None:
        return 0
    return int(db.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", params) or 0)


def dataset_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "slug": row["slug"],
        "name": row["name"],
        "kind": row["kind"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }
    if row["connector_uuid"]:
        out["connectorUuid"] = row["connector_uuid"]
    return out


def model_json(db: Database, model: ModelInfo) -> dict[str, Any]:
    row, data = model.row, loads(model.row["data"], {})
    plays = _count_if(db, "wf_plays", "model_uuid = ? AND deleted_at IS NULL", (model.uuid,))
    segments = _count_if(db, "segments", "model_uuid = ? AND deleted_at IS NULL AND from_play = 0", (model.uuid,))
    out = {
        "uuid": model.uuid,
        "workspaceUuid": model.workspace_uuid,
        "slug": model.slug,
        "name": row["name"],
        "description": row["description"],
        "datasetUuid": model.dataset_uuid,
        "extractorSlug": row["extractor_slug"],
        "kind": row["kind"],
        "position": data.get("position", {"x": 0, "y": 0}),
        "config": data.get("config", {}),
        "schedule": data.get("schedule"),
        "meta": data.get("meta"),
        "columns": [c.to_api() for c in model.columns if c.kind == "original"],
        "additionalColumns": [c.to_api() for c in model.columns if c.kind != "original"],
        "idColumnSlug": row["id_column_slug"],
        "titleColumnSlug": row["title_column_slug"],
        "timeColumnSlug": row["time_column_slug"],
        "unification": data.get("unification"),
        "folderUuid": row["folder_uuid"],
        "playsCount": plays,
        "segmentsCount": segments,
        "isPaused": bool(row["is_paused"]),
        "lastEmittedAt": row["last_emitted_at"],
        "lastRun": data.get("lastRun"),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }
    if row["connector_uuid"]:
        out["connectorUuid"] = row["connector_uuid"]
    return out


def dataset_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "datasets", ws, uuid, "Dataset", "datasetNotFound")


# -- datasets ------------------------------------------------------------------------
def list_datasets(req: Request) -> dict[str, Any]:
    rows = live_rows(req.ctx.db, "datasets", req.ctx.workspace_uuid, "created_at, slug")
    return {"datasets": [dataset_json(r) for r in rows]}


def get_dataset(req: Request) -> dict[str, Any]:
    return {"dataset": dataset_json(dataset_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


# -- models --------------------------------------------------------------------------
def list_models(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    sql, params = "SELECT uuid FROM models WHERE workspace_uuid = ? AND deleted_at IS NULL", [ws]
    if isinstance(req.query.get("datasetUuid"), str):
        sql += " AND dataset_uuid = ?"
        params.append(req.query["datasetUuid"])
    uuids = [r["uuid"] for r in db.all(sql + " ORDER BY created_at, slug", params)]
    return {"models": [model_json(db, load_model(db, ws, u)) for u in uuids]}


def get_model(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    return {"model": model_json(db, load_model(db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def get_ddl(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    model = load_model(db, req.ctx.workspace_uuid, req.path_params["uuid"])
    return {"ddl": render_ddl(db.dataset_conn(model.dataset_uuid), model), "language": "sqlite"}


def csv_rows(db: Database, ws: str, s3_filename: Any) -> tuple[list[str], list[list[str]]]:
    """The header and the non-empty rows of an uploaded CSV workspace file (400 when it is none)."""
    row = db.one("SELECT content FROM workspace_files WHERE s3_filename = ? AND workspace_uuid = ?", (s3_filename, ws))
    if row is None:
        raise bad_request("config.s3Filename does not name an uploaded workspace file", "invalidConfig")
    reader = csv.reader(io.StringIO(bytes(row["content"]).decode("utf-8-sig", "replace")))
    header = next(reader, [])
    return header, [r for r in reader if any(cell.strip() for cell in r)]


def check_extractor(dataset: dict[str, Any], extractor: Any, config: Any, what: str) -> None:
    """400 unless the extractor is one the sandbox runs and its config an object; 422 for a connector."""
    if not isinstance(config, dict):
        raise bad_request("config must be an object", "invalidConfig")
    if dataset["kind"] == "connector":
        raise unavailable(what)
    if extractor not in NATIVE_EXTRACTORS:
        raise ApiError(
            400,
            f"Extractor {extractor!r} is not available; the sandbox supports {NATIVE_EXTRACTORS}",
            "integrationNotCompatible",
        )


def extracted(db: Database, ws: str, extractor: str, config: dict[str, Any]) -> tuple[list[Column], list[list[str]]]:
    """The original columns a native extractor gives (``custom``: config.columns; ``file``: the CSV
    header of config.s3Filename) and the rows it extracts."""
    rows: list[list[str]] = []
    if extractor == "file":
        header, rows = csv_rows(db, ws, config.get("s3Filename"))
        specs: Any = [
            {"slug": _column_slug(h, i), "type": "string", "label": h or f"Column {i + 1}"}
            for i, h in enumerate(header)
        ]
    else:
        specs = config.get("columns") or []
        if not isinstance(specs, list):
            raise bad_request("config.columns must be a list of {slug, type, label}", "invalidConfig")
    columns = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or spec.get("type", "string") not in COLUMN_TYPES:
            raise bad_request("config.columns items are {slug, type, label}", "invalidConfig")
        col_slug = check_identifier(spec.get("slug"), "column slug")
        label = spec.get("label") or col_slug
        columns.append(Column(col_slug, "original", spec.get("type", "string"), label, i, {"originalSlug": col_slug}))
    if len({c.slug for c in columns}) != len(columns) or any(c.slug in SYSTEM_COLUMNS for c in columns):
        raise bad_request("column slugs must be unique and must not start with an underscore", "invalidConfig")
    return columns, rows


def create_model(req: Request) -> JsonResponse:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    slug = check_identifier(require(body, "slug"), "model slug")
    name = require(body, "name")
    dataset = dataset_row(db, ws, require(body, "datasetUuid"))
    extractor = require(body, "extractorSlug")
    config = body.get("config") or {}
    check_extractor(dataset, extractor, config, "Creating a model that syncs from a connector (an external extraction)")
    if db.scalar(
        "SELECT 1 FROM models WHERE dataset_uuid = ? AND slug = ? AND deleted_at IS NULL", (dataset["uuid"], slug)
    ):
        raise ApiError(400, f"A model with slug {slug!r} already exists in this dataset", "duplicateSlug")
    folder = body.get("folderUuid")
    check_folder(db, ws, folder)
    columns, rows = extracted(db, ws, extractor, config)
    now, uuid = iso(req.ctx.clock()), new_uuid()
    id_col = config.get("idColumnSlug") or "_id"
    title_col = config.get("titleColumnSlug") or (columns[0].slug if columns else "_id")
    for col in (id_col, title_col):
        if col not in SYSTEM_COLUMNS and col not in {c.slug for c in columns}:
            raise bad_request(f"Unknown column {col!r} in config", "invalidConfig")
    conn = db.dataset_conn(dataset["uuid"])
    create_table(conn, f"models_{slug}", [(c.slug, c.type) for c in columns])
    write_file_rows(conn, f"models_{slug}", [c.slug for c in columns], rows, (id_col, title_col), now)
    data = {
        "config": config,
        "position": {"x": 0, "y": 0},
        "schedule": optional(body, "schedule", dict),
        "meta": None,
        "lastRun": {"uuid": new_uuid(), "status": "success", "errorMessage": None, "createdAt": now, "finishedAt": now},
    }
    with db.transaction():
        db.execute(
            "INSERT INTO models (uuid, workspace_uuid, dataset_uuid, slug, name, description, kind, extractor_slug,"
            " id_column_slug, title_column_slug, time_column_slug, folder_uuid, data, last_emitted_at, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'native', ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            (
                uuid,
                ws,
                dataset["uuid"],
                slug,
                name,
                text(body, "description"),
                extractor,
                id_col,
                title_col,
                folder,
                dumps(data),
                now if rows else None,
                now,
                now,
            ),
        )
        for c in columns:
            insert_column(db, uuid, ws, c)
    return JsonResponse({"model": model_json(db, load_model(db, ws, uuid))})


def write_file_rows(
    conn: sqlite3.Connection,
    table: str,
    slugs: list[str],
    rows: list[list[str]],
    id_title: tuple[str, str],
    now: str,
    *,
    reset: bool = False,
) -> int:
    """Upsert a file's rows (cells by position) into a model table, emptied first when ``reset``;
    a row's id is its id column (or its line number). Returns how many rows were written."""
    id_col, title_col = id_title
    marks = ", ".join("?" for _ in range(len(slugs) + 3))
    collist = ", ".join(["_id", "_title", "_emitted_at", *(q(s) for s in slugs)])
    with conn:
        conn.execute("BEGIN")
        if reset:
            conn.execute(f"DELETE FROM {q(table)}")
        for n, values in enumerate(rows):
            values = (values + [""] * len(slugs))[: len(slugs)]
            record = dict(zip(slugs, values, strict=True))
            rid = record.get(id_col) or str(n + 1)
            conn.execute(
                f"INSERT OR REPLACE INTO {q(table)} ({collist}) VALUES ({marks})",
                [rid, record.get(title_col, rid), now, *values],
            )
    return len(rows)


def _column_slug(header: str, index: int) -> str:
    import re

    slug = re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"col_{index + 1}" if not slug else f"c_{slug}"
    return slug[:60]


def insert_column(db: Database, model_uuid: str, ws: str, c: Column) -> None:
    db.execute(
        "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (model_uuid, c.slug, ws, c.position, c.kind, c.type, c.label, dumps(c.data)),
    )


def update_model(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    model = load_model(db, ws, req.path_params["uuid"])
    data = loads(model.row["data"], {})
    for key in ("position", "config", "unification", "schedule"):
        if key in body:
            data[key] = optional(body, key, dict)
    name = body.get("name", model.row["name"])
    if not isinstance(name, str) or not name:
        raise bad_request("name must be a non-empty string")
    folder = body.get("folderUuid", model.row["folder_uuid"])
    check_folder(db, ws, folder)
    description = optional(body, "description", str, model.row["description"])
    db.execute(
        "UPDATE models SET name = ?, description = ?, folder_uuid = ?, data = ?, updated_at = ? WHERE uuid = ?",
        (
            name,
            description,
            folder,
            dumps(data),
            iso(req.ctx.clock()),
            model.uuid,
        ),
    )
    return {"model": model_json(db, load_model(db, ws, model.uuid))}


def remove_model(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    model = load_model(db, ws, req.path_params["uuid"])
    if _count_if(db, "segments", "model_uuid = ? AND deleted_at IS NULL AND from_play = 0", (model.uuid,)):
        raise ApiError(400, "The model still has segments; remove them first", "hasSegments")
    if _count_if(db, "wf_plays", "model_uuid = ? AND deleted_at IS NULL", (model.uuid,)):
        raise ApiError(400, "Plays still use this model; remove them first", "hasWorkflows")
    now = iso(req.ctx.clock())
    db.execute("UPDATE models SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, model.uuid))
    db.dataset_conn(model.dataset_uuid).execute(f"DROP TABLE IF EXISTS {q(model.table)}")
    return NO_CONTENT


# -- records -------------------------------------------------------------------------
def list_records(req: Request) -> dict[str, Any]:
    db, body = req.ctx.db, req.body()
    model = load_model(db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    limit = as_int(body.get("limit"), "limit", 100, minimum=1, maximum=1000)
    offset = as_int(body.get("offset"), "offset", 0)
    sort = body.get("sort")
    if sort is not None:
        if not isinstance(sort, dict) or sort.get("columnSlug") not in SYSTEM_COLUMNS:
            raise bad_request("sort is {kind: asc|desc, columnSlug: _id|_title|_emitted_at}")
        sort = [sort]
    query = build_query(db, model, None, sort, now=req.ctx.clock())
    records, _count = fetch_page(db, model, query, offset, limit)
    return {"records": records, "isRefreshing": False}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/storage/datasets/list")(list_datasets)
    r("GET", "/v1/storage/datasets/{uuid}")(get_dataset)
    r("GET", "/v1/storage/models/list")(list_models)
    r("GET", "/v1/storage/models/{uuid}")(get_model)
    r("GET", "/v1/storage/models/{uuid}/ddl")(get_ddl)
    r("POST", "/v1/storage/models")(create_model)
    r("PUT", "/v1/storage/models/{uuid}")(update_model)
    r("DELETE", "/v1/storage/models/{uuid}")(remove_model)
    r("POST", "/v1/storage/records/list")(list_records)
