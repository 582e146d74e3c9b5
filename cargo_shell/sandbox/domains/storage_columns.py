"""Storage columns (create/update/remove/reorder alter the real table) and relationships."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains.storage_models import NO_CONTENT, dataset_row, insert_column
from cargo_shell.sandbox.fields import text, uuid_ref
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request, unavailable
from cargo_shell.sandbox.records import ID_CHUNK
from cargo_shell.sandbox.util import check_identifier, new_uuid, require
from cargo_shell.sandbox.warehouse import (
    AGGREGATIONS,
    COLUMN_TYPES,
    SYSTEM_COLUMNS,
    Column,
    ColumnSql,
    ModelInfo,
    add_column,
    drop_column,
    encode_value,
    load_model,
    q,
)

ADDITIONAL_KINDS = ("custom", "computed", "metric", "lookup")
RELATIONS = ("oneToOne", "oneToMany", "manyToOne")


# -- columns -------------------------------------------------------------------------
def list_columns(req: Request) -> dict[str, Any]:
    """The model's column slugs in order (the client types the answer ``columns: string[]``)."""
    model = load_model(req.ctx.db, req.ctx.workspace_uuid, uuid_ref(req.query, "modelUuid"))
    return {"columns": [c.slug for c in model.columns]}


def _validate_column(db: Database, model: ModelInfo, spec: Any, *, creating: bool) -> Column:
    if not isinstance(spec, dict):
        raise bad_request("column must be an object", "invalidColumn")
    kind = spec.get("kind")
    allowed = ADDITIONAL_KINDS if creating else ("original", *ADDITIONAL_KINDS)
    if kind not in allowed:
        raise bad_request(f"column.kind must be one of {', '.join(allowed)}", "invalidColumn")
    slug = check_identifier(spec.get("slug"), "column slug")
    if slug.startswith("_"):
        raise bad_request("column slugs cannot start with an underscore", "invalidSlug")
    col_type = spec.get("type")
    if col_type not in COLUMN_TYPES:
        raise bad_request(f"column.type must be one of {', '.join(COLUMN_TYPES)}", "invalidColumn")
    label = spec.get("label") or slug
    extra = {k: v for k, v in spec.items() if k not in ("slug", "kind", "type", "label")}
    if kind == "computed":
        expression = extra.get("expression")
        if not isinstance(expression, dict) or not isinstance(expression.get("expression"), str):
            raise bad_request("computed columns need expression {kind, expression}", "invalidColumn")
        if expression.get("instructTo") == "ai":
            raise unavailable("AI-computed columns (instructTo: ai)")
    if kind == "metric":
        agg = extra.get("aggregation") or {}
        if isinstance(agg, dict) and isinstance(agg.get("function"), str):
            agg["function"] = agg["function"].upper()
        if not isinstance(agg, dict) or agg.get("function") not in AGGREGATIONS:
            raise bad_request(
                "metric columns need aggregation {function: AVG|COUNT|MAX|MIN|SUM, columnSlug}", "invalidColumn"
            )
        extra["aggregation"] = agg
        if not db.scalar(
            "SELECT 1 FROM relationships WHERE uuid = ? AND workspace_uuid = ?",
            (extra.get("relationshipUuid"), model.workspace_uuid),
        ):
            raise ApiError(400, "metric column: relationshipUuid does not exist", "invalidRelationship")
    if kind == "lookup":
        join = extra.get("join")
        if not isinstance(join, dict) or not isinstance(extra.get("extractColumnSlug"), str):
            raise bad_request(
                "lookup columns need join {toModelUuid, fromColumnSlug, toColumnSlug} and extractColumnSlug",
                "invalidColumn",
            )
        other = load_model(db, model.workspace_uuid, join.get("toModelUuid"))
        model.column(join.get("fromColumnSlug"))
        other.column(join.get("toColumnSlug"))
        other.column(extra["extractColumnSlug"])
    return Column(slug, str(kind), str(col_type), label, len(model.columns), extra)


def compute_values(db: Database, model: ModelInfo, column: Column, ids: list[str] | None = None) -> None:
    """Fill a computed column by evaluating its expression on the stored records (``ids``: only those)."""
    from cargo_shell.sandbox.engine import expressions

    expression = column.data["expression"]
    conn = db.dataset_conn(model.dataset_uuid)
    sql = f"SELECT * FROM {q(model.table)}"
    rows: list[Any] = []
    if ids is None:
        rows = conn.execute(sql).fetchall()
    else:
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows += conn.execute(f"{sql} WHERE _id IN ({marks})", chunk).fetchall()
    updates = []
    for row in rows:
        record = dict(row)
        scope = {**record, "record": record}
        try:
            if expression.get("kind") == "templateExpression":
                value = expressions.render_template(expression["expression"], scope)
            else:
                value = expressions.evaluate(expression["expression"], scope)
        except Exception:  # an expression failing on one record leaves that cell empty
            value = None
        updates.append((encode_value(value, column.type), record["_id"]))
    with conn:
        conn.executemany(f"UPDATE {q(model.table)} SET {q(column.slug)} = ? WHERE _id = ?", updates)


def create_column(req: Request) -> JsonResponse:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    model = load_model(db, ws, require(body, "modelUuid"))
    column = _validate_column(db, model, body.get("column"), creating=True)
    if model.has_column(column.slug):
        raise ApiError(400, f"Column {column.slug!r} already exists", "duplicateSlug")
    if column.stored:
        add_column(db.dataset_conn(model.dataset_uuid), model.table, column.slug, column.type)
    insert_column(db, model.uuid, ws, column)
    if column.kind == "computed":
        compute_values(db, model, column)
    return NO_CONTENT


def update_column(req: Request) -> JsonResponse:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    model = load_model(db, ws, require(body, "modelUuid"))
    spec = body.get("column")
    existing = model.column(spec.get("slug") if isinstance(spec, dict) else None)
    if existing.slug in SYSTEM_COLUMNS:
        raise ApiError(404, "Column not found", "columnNotFound")
    column = _validate_column(db, model, spec, creating=False)
    if column.kind != existing.kind:
        raise bad_request("A column's kind cannot change; remove it and create a new one", "invalidColumn")
    db.execute(
        "UPDATE columns SET type = ?, label = ?, data = ? WHERE model_uuid = ? AND slug = ?",
        (column.type, column.label, dumps(column.data), model.uuid, column.slug),
    )
    if column.kind == "computed" and column.data != existing.data:
        compute_values(db, model, column)
    return NO_CONTENT


def remove_column(req: Request) -> JsonResponse:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    model = load_model(db, ws, require(body, "modelUuid"))
    slug = body.get("columnSlug")
    if not isinstance(slug, str) or slug in SYSTEM_COLUMNS or not model.has_column(slug):
        raise ApiError(404, f"Column {slug!r} not found", "columnNotFound")
    column = model.column(slug)
    if slug in (model.row["id_column_slug"], model.row["title_column_slug"]):
        raise bad_request("The id and title columns cannot be removed", "invalidColumn")
    if column.stored:
        drop_column(db.dataset_conn(model.dataset_uuid), model.table, slug)
    with db.transaction():
        db.execute("DELETE FROM columns WHERE model_uuid = ? AND slug = ?", (model.uuid, slug))
        _renumber(db, model.uuid, [c.slug for c in model.columns if c.slug != slug])
    return NO_CONTENT


def _renumber(db: Database, model_uuid: str, order: list[str]) -> None:
    for position, slug in enumerate(order):
        db.execute("UPDATE columns SET position = ? WHERE model_uuid = ? AND slug = ?", (position, model_uuid, slug))


def reorder_columns(req: Request) -> JsonResponse:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    model = load_model(db, ws, require(body, "modelUuid"))
    slug = body.get("columnSlug")
    order = [c.slug for c in model.columns]
    if slug not in order:
        raise ApiError(404, f"Column {slug!r} not found", "columnNotFound")
    index = body.get("toIndex")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(order):
        raise ApiError(400, f"toIndex must be between 0 and {len(order) - 1}", "invalidIndex")
    order.remove(slug)
    order.insert(index, slug)
    with db.transaction():
        _renumber(db, model.uuid, order)
    return NO_CONTENT


# -- relationships -------------------------------------------------------------------
def relationship_json(row: dict[str, Any]) -> dict[str, Any]:
    data = loads(row["data"], {})
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "fromDatasetUuid": row["from_dataset_uuid"],
        "fromModelUuid": row["from_model_uuid"],
        "fromColumnSlug": row["from_column_slug"],
        "fromPropertySlug": data.get("fromPropertySlug"),
        "toDatasetUuid": row["to_dataset_uuid"],
        "toModelUuid": row["to_model_uuid"],
        "toColumnSlug": row["to_column_slug"],
        "toPropertySlug": data.get("toPropertySlug"),
        "fromSelectedColumnSlugs": data.get("fromSelectedColumnSlugs"),
        "toSelectedColumnSlugs": data.get("toSelectedColumnSlugs"),
        "relation": row["relation"],
    }


def list_relationships(req: Request) -> dict[str, Any]:
    sql, params = "SELECT * FROM relationships WHERE workspace_uuid = ?", [req.ctx.workspace_uuid]
    model_uuid = req.query.get("modelUuid")
    if isinstance(model_uuid, str):
        sql += " AND (from_model_uuid = ? OR to_model_uuid = ?)"
        params += [model_uuid, model_uuid]
    return {"relationships": [relationship_json(r) for r in req.ctx.db.all(sql + " ORDER BY uuid", params)]}


def set_relationships(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    dataset = dataset_row(db, ws, require(body, "datasetUuid"))
    items = require(body, "relationships", list)
    rows = []
    for item in items:
        if not isinstance(item, dict) or item.get("relation") not in RELATIONS:
            raise ApiError(400, f"Each relationship needs relation in {RELATIONS}", "invalidRelationships")
        try:
            src = load_model(db, ws, item.get("fromModelUuid"))
            dst = load_model(db, ws, item.get("toModelUuid"))
            src.column(item.get("fromColumnSlug"))
            dst.column(item.get("toColumnSlug"))
        except ApiError as exc:
            raise ApiError(400, f"Invalid relationship: {exc.message}", "invalidRelationships") from None
        if dataset["uuid"] not in (src.dataset_uuid, dst.dataset_uuid):
            raise ApiError(400, "A relationship must involve a model of the dataset", "modelNotCompatible")
        data = {
            k: item.get(k)
            for k in ("fromPropertySlug", "toPropertySlug", "fromSelectedColumnSlugs", "toSelectedColumnSlugs")
        }
        rows.append(
            (
                item.get("uuid") or new_uuid(),
                ws,
                src.dataset_uuid,
                src.uuid,
                item["fromColumnSlug"],
                dst.dataset_uuid,
                dst.uuid,
                item["toColumnSlug"],
                item["relation"],
                dumps(data),
            )
        )
    with db.transaction():
        db.execute(
            "DELETE FROM relationships WHERE workspace_uuid = ? AND from_dataset_uuid = ?", (ws, dataset["uuid"])
        )
        for row in rows:
            db.execute("INSERT OR REPLACE INTO relationships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    kept = db.all(
        "SELECT * FROM relationships WHERE workspace_uuid = ? AND from_dataset_uuid = ? ORDER BY uuid",
        (ws, dataset["uuid"]),
    )
    return {"relationships": [relationship_json(r) for r in kept]}


def column_exists(req: Request) -> dict[str, Any]:
    model = load_model(req.ctx.db, req.ctx.workspace_uuid, uuid_ref(req.query, "modelUuid"))
    slug = text(req.query, "slug")
    if not slug:
        raise bad_request("slug is required", "missingField")
    return {"exists": model.has_column(slug)}


AUTOCOMPLETE_LIMIT = 20


def autocomplete(req: Request) -> dict[str, Any]:
    """Values the column holds (distinct, most frequent first) that contain ``query``: what a filter
    on that column can be given."""
    db, body = req.ctx.db, req.body()
    model = load_model(db, req.ctx.workspace_uuid, require(body, "modelUuid"))
    spec = require(body, "column", dict)
    column = model.column(spec.get("slug"))
    search = text(body, "query") or ""
    params: list[Any] = []
    expr = ColumnSql(db, model, "t").expr(column.slug, params)
    sql = (
        f"SELECT CAST(v AS TEXT) AS v, COUNT(*) AS n FROM (SELECT {expr} AS v FROM {q(model.table)} t)"
        " WHERE v IS NOT NULL AND v != '' AND instr(lower(CAST(v AS TEXT)), lower(?)) > 0"
        " GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
    )
    rows = db.dataset_conn(model.dataset_uuid, readonly=True).execute(sql, [*params, search, AUTOCOMPLETE_LIMIT])
    return {"results": [{"label": row["v"], "value": row["v"]} for row in rows]}


def get_relationship(req: Request) -> dict[str, Any]:
    row = req.ctx.db.one(
        "SELECT * FROM relationships WHERE uuid = ? AND workspace_uuid = ?",
        (req.path_params["uuid"], req.ctx.workspace_uuid),
    )
    if row is None:
        raise ApiError(404, "Relationship not found", "relationshipNotFound")
    return {"relationship": relationship_json(row)}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/storage/columns/list")(list_columns)
    r("GET", "/v1/storage/columns/existsBySlug")(column_exists)
    r("POST", "/v1/storage/columns/autocomplete")(autocomplete)
    r("GET", "/v1/storage/relationships/{uuid}")(get_relationship)
    r("POST", "/v1/storage/columns")(create_column)
    r("PUT", "/v1/storage/columns")(update_column)
    r("DELETE", "/v1/storage/columns")(remove_column)
    r("PUT", "/v1/storage/columns/reorder")(reorder_columns)
    r("GET", "/v1/storage/relationships/list")(list_relationships)
    r("POST", "/v1/storage/relationships")(set_relationships)
