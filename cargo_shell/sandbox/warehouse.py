"""Model tables: metadata, SQL expressions per column, DDL, table changes and row decoding.

Each dataset lives in its own SQLite file (``Database.dataset_conn``) holding one table per
model, ``models_<model slug>``, with ``_id``/``_title``/``_emitted_at`` plus one column per stored
column (original, custom, computed). Metric and lookup columns are computed at query time as
correlated subqueries. Column slugs are validated identifiers and always quoted, never values.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.http import ApiError, bad_request, not_found
from cargo_shell.sandbox.util import check_identifier

SQL_TYPES = {
    "string": "TEXT",
    "number": "NUMERIC",
    "boolean": "INTEGER",
    "date": "TEXT",
    "object": "TEXT",
    "array": "TEXT",
    "vector": "TEXT",
    "any": "TEXT",
}
COLUMN_TYPES = tuple(SQL_TYPES)
SYSTEM_COLUMNS = {"_id": "string", "_title": "string", "_emitted_at": "date"}
STORED_KINDS = ("original", "custom", "computed")
AGGREGATIONS = ("AVG", "COUNT", "MAX", "MIN", "SUM")
JSON_TYPES = ("object", "array", "vector", "any")


def q(ident: str) -> str:
    """Quote an identifier that already passed :func:`check_identifier`."""
    return '"' + ident.replace('"', '""') + '"'


@dataclass
class Column:
    slug: str
    kind: str
    type: str
    label: str
    position: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        return self.kind in STORED_KINDS

    def to_api(self) -> dict[str, Any]:
        return {"slug": self.slug, "type": self.type, "label": self.label, "kind": self.kind, **self.data}


@dataclass
class ModelInfo:
    uuid: str
    workspace_uuid: str
    dataset_uuid: str
    dataset_slug: str
    slug: str
    row: dict[str, Any]
    columns: list[Column]

    @property
    def table(self) -> str:
        return f"models_{self.slug}"

    @property
    def qualified_table(self) -> str:
        return f"datasets_{self.dataset_slug}.models_{self.slug}"

    def column(self, slug: Any) -> Column:
        if isinstance(slug, str) and slug in SYSTEM_COLUMNS:
            return Column(slug, "original", SYSTEM_COLUMNS[slug], slug, -1)
        for column in self.columns:
            if column.slug == slug:
                return column
        raise ApiError(400, f"Unknown column {slug!r} on model {self.slug}", "columnNotFound")

    def has_column(self, slug: str) -> bool:
        return slug in SYSTEM_COLUMNS or any(c.slug == slug for c in self.columns)


def load_model(db: Database, workspace_uuid: str, model_uuid: Any) -> ModelInfo:
    if not isinstance(model_uuid, str):
        raise bad_request("modelUuid is required", "missingField")
    row = db.one(
        "SELECT m.*, d.slug AS dataset_slug FROM models m JOIN datasets d ON d.uuid = m.dataset_uuid"
        " WHERE m.uuid = ? AND m.workspace_uuid = ? AND m.deleted_at IS NULL",
        (model_uuid, workspace_uuid),
    )
    if row is None:
        raise not_found("Model", "modelNotFound")
    columns = [
        Column(c["slug"], c["kind"], c["type"], c["label"], c["position"], loads(c["data"], {}))
        for c in db.all("SELECT * FROM columns WHERE model_uuid = ? ORDER BY position", (model_uuid,))
    ]
    return ModelInfo(row["uuid"], workspace_uuid, row["dataset_uuid"], row["dataset_slug"], row["slug"], row, columns)


def create_table(conn: sqlite3.Connection, table: str, columns: list[tuple[str, str]]) -> None:
    parts = ["_id TEXT NOT NULL PRIMARY KEY", "_title TEXT", "_emitted_at TEXT"]
    parts += [f"{q(check_identifier(slug, 'column slug'))} {SQL_TYPES[kind]}" for slug, kind in columns]
    conn.execute(f"CREATE TABLE IF NOT EXISTS {q(table)} ({', '.join(parts)})")


def add_column(conn: sqlite3.Connection, table: str, slug: str, col_type: str) -> None:
    conn.execute(f"ALTER TABLE {q(table)} ADD COLUMN {q(check_identifier(slug, 'column slug'))} {SQL_TYPES[col_type]}")


def drop_column(conn: sqlite3.Connection, table: str, slug: str) -> None:
    existing = {row[1] for row in conn.execute(f"PRAGMA table_info({q(table)})")}
    if slug in existing:
        conn.execute(f"ALTER TABLE {q(table)} DROP COLUMN {q(slug)}")


def render_ddl(conn: sqlite3.Connection, model: ModelInfo) -> str:
    """The real table definition, named the way warehouse SQL refers to it."""
    info = conn.execute(f"PRAGMA table_info({q(model.table)})").fetchall()
    if not info:
        return ""
    lines = []
    for _cid, name, col_type, notnull, _default, pk in info:
        extra = (" NOT NULL" if notnull else "") + (" PRIMARY KEY" if pk else "")
        lines.append(f"  {name} {col_type or 'TEXT'}{extra}")
    return f"CREATE TABLE {model.qualified_table} (\n" + ",\n".join(lines) + "\n);"


class ColumnSql:
    """Builds the SQL expression of each column of one model under a table alias."""

    def __init__(self, db: Database, model: ModelInfo, alias: str, depth: int = 0) -> None:
        self.db = db
        self.model = model
        self.alias = alias
        self.depth = depth

    def expr(self, slug: Any, params: list[Any]) -> str:
        column = self.model.column(slug)
        if column.slug in SYSTEM_COLUMNS or column.stored:
            return f"{self.alias}.{q(column.slug)}"
        if self.depth >= 2:
            raise bad_request("Metric/lookup columns cannot be nested this deeply", "invalidColumn")
        if column.kind == "lookup":
            return self._lookup(column, params)
        if column.kind == "metric":
            return self._metric(column, params)
        raise bad_request(f"Column kind {column.kind!r} is not queryable", "invalidColumn")

    def _other(self, model_uuid: Any) -> ModelInfo:
        other = load_model(self.db, self.model.workspace_uuid, model_uuid)
        if other.dataset_uuid != self.model.dataset_uuid:
            raise bad_request("The sandbox only joins models of the same dataset", "invalidRelationship")
        return other

    def _lookup(self, column: Column, params: list[Any]) -> str:
        join = column.data.get("join") or {}
        other = self._other(join.get("toModelUuid"))
        alias = f"l{self.depth + 1}"
        inner = ColumnSql(self.db, other, alias, self.depth + 1)
        extract = inner.expr(column.data.get("extractColumnSlug"), params)
        to_col = inner.expr(join.get("toColumnSlug"), params)
        from_col = self.expr(join.get("fromColumnSlug"), params)
        where = f"{to_col} = {from_col}"
        where += self._filter_sql(column, inner, params)
        return f"(SELECT {extract} FROM {q(other.table)} {alias} WHERE {where} LIMIT 1)"

    def _metric(self, column: Column, params: list[Any]) -> str:
        rel = self.db.one(
            "SELECT * FROM relationships WHERE uuid = ? AND workspace_uuid = ?",
            (column.data.get("relationshipUuid"), self.model.workspace_uuid),
        )
        if rel is None:
            raise bad_request(f"Metric column {column.slug}: relationship not found", "invalidRelationship")
        if rel["from_model_uuid"] == self.model.uuid:
            other_uuid, mine, theirs = rel["to_model_uuid"], rel["from_column_slug"], rel["to_column_slug"]
        else:
            other_uuid, mine, theirs = rel["from_model_uuid"], rel["to_column_slug"], rel["from_column_slug"]
        other = self._other(other_uuid)
        alias = f"r{self.depth + 1}"
        inner = ColumnSql(self.db, other, alias, self.depth + 1)
        aggregation = column.data.get("aggregation") or {}
        function = str(aggregation.get("function", "COUNT")).upper()
        if function not in AGGREGATIONS:
            raise bad_request(f"Unknown aggregation {function!r}", "invalidColumn")
        target = aggregation.get("columnSlug")
        agg_expr = inner.expr(target, params) if target else "*"
        where = f"{inner.expr(theirs, params)} = {self.expr(mine, params)}"
        where += self._filter_sql(column, inner, params)
        return f"(SELECT {function}({agg_expr}) FROM {q(other.table)} {alias} WHERE {where})"

    def _filter_sql(self, column: Column, inner: ColumnSql, params: list[Any]) -> str:
        flt = column.data.get("filter")
        if not flt:
            return ""
        from cargo_shell.sandbox.filters import FilterCompiler

        sql = FilterCompiler(self.db, self.model.workspace_uuid).compile(flt, inner, params)
        return f" AND ({sql})"


def select_list(cols: ColumnSql, params: list[Any]) -> tuple[str, list[Column]]:
    """``t."_id", ... , (<metric>) AS "slug"`` for every column of the model."""
    model = cols.model
    all_columns = [model.column(s) for s in SYSTEM_COLUMNS] + model.columns
    parts = [f"{cols.expr(c.slug, params)} AS {q(c.slug)}" for c in all_columns]
    return ", ".join(parts), all_columns


def decode_row(row: sqlite3.Row | tuple[Any, ...], columns: list[Column]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, value in zip(columns, row, strict=True):
        if value is not None:
            if column.type == "boolean":
                value = bool(value)
            elif column.type in JSON_TYPES and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        out[column.slug] = value
    return out


def encode_value(value: Any, col_type: str) -> Any:
    """A JSON value -> what goes in the SQLite column."""
    if value is None:
        return None
    if col_type == "boolean":
        return 1 if value else 0
    if col_type in JSON_TYPES:
        return json.dumps(value)
    if col_type == "number" and isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    return value
