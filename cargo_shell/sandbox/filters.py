"""Segment filter grammar -> parameterised SQL over a model table.

Values always travel as bound parameters; column slugs must be columns of the model
(checked by :class:`~cargo_shell.sandbox.warehouse.ModelInfo`) and are quoted. The one
exception is the ``sql`` condition kind, whose clause is raw SQL by definition: the
compiler flags it (``uses_raw_sql``) so callers run the query under a read-only authorizer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.filter_activity import ENROLLMENT_RESOLVERS, compare_count, invalid, period_bounds
from cargo_shell.sandbox.util import iso, parse_iso
from cargo_shell.sandbox.warehouse import ColumnSql, ModelInfo, load_model, q

COLUMN_KINDS = ("string", "number", "date", "boolean", "object", "array", "vector", "any")
NULL_OPS = {"isNull": "{e} IS NULL", "isNotNull": "{e} IS NOT NULL"}
EMPTY_OPS = {"isEmpty": "({e} IS NULL OR {e} = '')", "isNotEmpty": "({e} IS NOT NULL AND {e} <> '')"}
COMPARE = {"is": "=", "isNot": "<>", "greaterThan": ">", "lowerThan": "<"}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FilterCompiler:
    def __init__(self, db: Database, workspace_uuid: str, now: float | None = None, depth: int = 0) -> None:
        self.db = db
        self.workspace_uuid = workspace_uuid
        self.now = time.time() if now is None else now
        self.depth = depth
        self.uses_raw_sql = False

    # -- structure --------------------------------------------------------------
    def compile(self, flt: Any, cols: ColumnSql, params: list[Any]) -> str:
        if not isinstance(flt, dict):
            raise invalid("the filter must be an object {conjonction, groups}")
        if "conjunction" in flt:
            raise invalid("the key is spelled 'conjonction' (French), not 'conjunction'")
        return self._combine(flt, "groups", self._group, cols, params)

    def _combine(
        self, node: dict[str, Any], key: str, each: Callable[[Any, ColumnSql, list[Any]], str], cols: ColumnSql,
        params: list[Any],
    ) -> str:  # fmt: skip
        """``node[key]`` compiled one by one and joined with the node's ``conjonction`` (empty: true)."""
        items = node.get(key, [])
        if not isinstance(items, list):
            raise invalid(f"{key} must be a list")
        joiner = self._joiner(node)
        parts = [each(item, cols, params) for item in items]
        return f" {joiner} ".join(f"({p})" for p in parts) if parts else "1"

    def _joiner(self, node: dict[str, Any]) -> str:
        conj = node.get("conjonction", "or")
        if conj not in ("and", "or"):
            raise invalid(f"conjonction must be 'and' or 'or', not {conj!r}")
        return str(conj).upper()

    def _group(self, group: Any, cols: ColumnSql, params: list[Any]) -> str:
        if not isinstance(group, dict) or "conjunction" in group:
            raise invalid("each group is {conjonction, conditions} (spelled 'conjonction')")
        return self._combine(group, "conditions", self.condition, cols, params)

    # -- conditions -------------------------------------------------------------
    def condition(self, cond: Any, cols: ColumnSql, params: list[Any]) -> str:
        if not isinstance(cond, dict):
            raise invalid("a condition must be an object")
        kind = cond.get("kind")
        if kind == "segment":
            return self._segment(cond, cols, params)
        if kind == "enrollment":
            return self._enrollment(cond, cols, params)
        if kind == "occurrence":
            return self._occurrence(cond, cols, params)
        if kind == "sql":
            clause = cond.get("clause")
            if not isinstance(clause, str) or not clause.strip() or ";" in clause:
                raise invalid("sql conditions need a single boolean 'clause'")
            self.uses_raw_sql = True
            return clause
        if kind not in (*COLUMN_KINDS, "objectProperty"):
            raise invalid(f"unknown condition kind {kind!r}")
        related = cond.get("relatedModelUuid")
        if related and related != cols.model.uuid:
            return self._related(cond, cols, params)
        return self._column(cond, cols, params)

    def _column(self, cond: dict[str, Any], cols: ColumnSql, params: list[Any]) -> str:
        kind, op = cond["kind"], cond.get("operator")
        column = cols.model.column(cond.get("columnSlug"))
        expected = "object" if kind == "objectProperty" else kind
        if column.type != expected and not (kind == "objectProperty" and column.type in ("array", "any")):
            raise invalid(f"condition kind {kind!r} does not match column {column.slug!r} of type {column.type!r}")
        local: list[Any] = []
        e = cols.expr(column.slug, local)
        if kind == "objectProperty":
            sql = self._property(cond, e, column.type, local)
        elif op in NULL_OPS:
            sql = NULL_OPS[op].format(e=e)
        elif kind == "string":
            sql = self._string(op, cond, e, local)
        elif kind in ("number", "date"):
            sql = self._scalar(kind, op, cond, e, local)
        elif kind == "boolean" and op in ("isTrue", "isFalse"):
            sql = f"{e} = {1 if op == 'isTrue' else 0}"
        elif kind in ("object", "array") and op == "matchConditions":
            sql = self._match(cond, e, column.type, local)
        else:
            raise invalid(f"operator {op!r} is not valid for {kind} conditions")
        # the expression may appear several times in sql: repeat its params in order
        params.extend(self._expand(sql, e, local))
        return sql

    @staticmethod
    def _expand(sql: str, e: str, local: list[Any]) -> list[Any]:
        expr_params = e.count("?")
        if expr_params == 0:
            return local
        # params of e were recorded once (first); the condition's own params follow.
        own = local[expr_params:]
        out: list[Any] = []
        pos, own_i = 0, 0
        for match in re.finditer(re.escape(e) + r"|\?", sql):
            if match.group(0) == e:
                out.extend(local[:expr_params])
            else:
                out.append(own[own_i])
                own_i += 1
            pos = match.end()
        del pos
        return out

    def _string(self, op: Any, cond: dict[str, Any], e: str, local: list[Any]) -> str:
        if op in EMPTY_OPS:
            return EMPTY_OPS[op].format(e=e)
        values = cond.get("values", cond.get("value"))
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or not all(isinstance(v, str | int | float) for v in values):
            raise invalid(f"string operator {op!r} needs 'values' (a string or a list of strings)")
        values = [str(v) for v in values]
        if op in ("is", "isNot"):
            local.extend(values)
            marks = ", ".join("?" for _ in values)
            return f"{e} IN ({marks})" if op == "is" else f"({e} IS NULL OR {e} NOT IN ({marks}))"
        patterns = {"contains": "%{}%", "doesNotContain": "%{}%", "startsWith": "{}%", "endsWith": "%{}"}
        if op not in patterns:
            raise invalid(f"unknown string operator {op!r}")
        local.extend(patterns[op].format(_like_escape(v)) for v in values)
        if op == "doesNotContain":
            return f"({e} IS NULL OR (" + " AND ".join(f"{e} NOT LIKE ? ESCAPE '\\'" for _ in values) + "))"
        return "(" + " OR ".join(f"{e} LIKE ? ESCAPE '\\'" for _ in values) + ")"

    def _scalar(self, kind: str, op: Any, cond: dict[str, Any], e: str, local: list[Any]) -> str:
        def value_of(key: str) -> Any:
            raw = cond.get(key)
            if kind == "number":
                if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                    raise invalid(f"number condition needs a numeric {key!r}")
                try:
                    return float(raw) if not isinstance(raw, int) else raw
                except ValueError:
                    raise invalid(f"{key!r} is not a number: {raw!r}") from None
            if not isinstance(raw, str):
                raise invalid(f"date condition needs an ISO date string in {key!r}")
            parse_iso(raw)
            return raw

        if op == "between":
            local.extend([value_of("firstValue"), value_of("lastValue")])
            return f"{e} BETWEEN ? AND ?"
        if op not in COMPARE:
            raise invalid(f"unknown {kind} operator {op!r}")
        value = value_of("value")
        if kind == "date" and len(value) == 10:  # a day: compare the day part
            local.append(value)
            return f"substr({e}, 1, 10) {COMPARE[op]} ?"
        if kind == "date":
            value = iso(parse_iso(value))
        local.append(value)
        return f"({e} IS NULL OR {e} <> ?)" if op == "isNot" else f"{e} {COMPARE[op]} ?"

    def _property(self, cond: dict[str, Any], e: str, col_type: str, local: list[Any]) -> str:
        name = cond.get("propertyName")
        if not isinstance(name, str) or not name:
            raise invalid("objectProperty conditions need a propertyName")
        path = '$."' + name.replace('"', '\\"') + '"'
        if col_type == "array":
            inner = self._property_test(cond, "json_extract(value, ?)", local, path)
            return f"EXISTS (SELECT 1 FROM json_each({e}) WHERE {inner})"
        return self._property_test(cond, f"json_extract({e}, ?)", local, path)

    def _property_test(self, cond: dict[str, Any], target: str, local: list[Any], path: str) -> str:
        op = cond.get("operator")
        uses = 0

        def t() -> str:
            nonlocal uses
            uses += 1
            local.append(path)
            return target

        if op in NULL_OPS:
            return NULL_OPS[op].format(e=t())
        if op == "isEmpty":
            return f"COALESCE({t()}, '') = ''"
        if op == "isNotEmpty":
            return f"COALESCE({t()}, '') <> ''"
        value = cond.get("value")
        if not isinstance(value, str | int | float):
            raise invalid(f"objectProperty operator {op!r} needs a string 'value'")
        value = str(value)
        if op == "between":
            other = cond.get("otherValue")
            if not isinstance(other, str | int | float):
                raise invalid("objectProperty between needs 'value' and 'otherValue'")
            sql = f"CAST({t()} AS REAL) BETWEEN CAST(? AS REAL) AND CAST(? AS REAL)"
            local.extend([value, str(other)])
            return sql
        if op in ("greaterThan", "lowerThan"):
            sql = f"CAST({t()} AS REAL) {COMPARE[op]} CAST(? AS REAL)"
            local.append(value)
            return sql
        if op in ("is", "isNot"):
            sql = f"CAST({t()} AS TEXT) = ?" if op == "is" else f"COALESCE(CAST({t()} AS TEXT), '') <> ?"
            local.append(value)
            return sql
        patterns = {"contains": "%{}%", "doesNotContain": "%{}%", "startsWith": "{}%", "endsWith": "%{}"}
        if op not in patterns:
            raise invalid(f"unknown objectProperty operator {op!r}")
        negate = "NOT " if op == "doesNotContain" else ""
        sql = f"COALESCE({t()}, '') {negate}LIKE ? ESCAPE '\\'"
        local.append(patterns[op].format(_like_escape(value)))
        return sql

    def _match(self, cond: dict[str, Any], e: str, col_type: str, local: list[Any]) -> str:
        props = cond.get("propertyConditions")
        if not isinstance(props, list):
            raise invalid("matchConditions needs propertyConditions (a list)")
        joiner = self._joiner(cond)
        parts = []
        for prop in props:
            if not isinstance(prop, dict) or prop.get("kind") != "objectProperty":
                raise invalid("propertyConditions items are objectProperty conditions")
            parts.append(self._property(prop, e, col_type, local))
        return f" {joiner} ".join(f"({p})" for p in parts) if parts else "1"

    # -- cross-table conditions ---------------------------------------------------
    def _relationship(self, model: ModelInfo, other_uuid: str) -> tuple[str, str]:
        """(column on model, column on other) joining the two models."""
        rel = self.db.one(
            "SELECT * FROM relationships WHERE workspace_uuid = ? AND ((from_model_uuid = ? AND to_model_uuid = ?)"
            " OR (from_model_uuid = ? AND to_model_uuid = ?))",
            (self.workspace_uuid, model.uuid, other_uuid, other_uuid, model.uuid),
        )
        if rel is None:
            raise invalid(f"no relationship between model {model.slug} and model {other_uuid}")
        if rel["from_model_uuid"] == model.uuid:
            return rel["from_column_slug"], rel["to_column_slug"]
        return rel["to_column_slug"], rel["from_column_slug"]

    def _related_cols(self, cols: ColumnSql, other_uuid: Any) -> tuple[ColumnSql, str]:
        if self.depth >= 3:
            raise invalid("related conditions are nested too deeply")
        other = load_model(self.db, self.workspace_uuid, other_uuid)
        if other.dataset_uuid != cols.model.dataset_uuid:
            raise invalid("the sandbox only relates models of the same dataset")
        mine, theirs = self._relationship(cols.model, other.uuid)
        alias = f"x{self.depth + 1}"
        inner = ColumnSql(self.db, other, alias, cols.depth + 1)
        return inner, f"{alias}.{q(theirs)} = {cols.expr(mine, [])}"

    def _related(self, cond: dict[str, Any], cols: ColumnSql, params: list[Any]) -> str:
        inner, join = self._related_cols(cols, cond["relatedModelUuid"])
        sub = FilterCompiler(self.db, self.workspace_uuid, self.now, self.depth + 1)
        local: list[Any] = []
        test = sub._column({**cond, "relatedModelUuid": None}, inner, local)
        self.uses_raw_sql |= sub.uses_raw_sql
        params.extend(local)
        return f"EXISTS (SELECT 1 FROM {q(inner.model.table)} {inner.alias} WHERE {join} AND ({test}))"

    def _occurrence(self, cond: dict[str, Any], cols: ColumnSql, params: list[Any]) -> str:
        if not cond.get("relatedModelUuid"):
            raise invalid("occurrence conditions need relatedModelUuid")
        inner, join = self._related_cols(cols, cond["relatedModelUuid"])
        sub = FilterCompiler(self.db, self.workspace_uuid, self.now, self.depth + 1)
        local: list[Any] = []
        where = sub._group(
            {"conjonction": cond.get("conjonction", "and"), "conditions": cond.get("conditions", [])}, inner, local
        )
        self.uses_raw_sql |= sub.uses_raw_sql
        time_col = inner.model.row.get("time_column_slug") or "_emitted_at"
        oldest, newest = period_bounds(cond.get("period"), self.now)
        if oldest:
            where += f" AND {inner.alias}.{q(time_col)} >= ?"
            local.append(oldest)
        if newest:
            where += f" AND {inner.alias}.{q(time_col)} <= ?"
            local.append(newest)
        count = f"(SELECT COUNT(*) FROM {q(inner.model.table)} {inner.alias} WHERE {join} AND {where})"
        freq = cond.get("frequency") or {}
        op, value = freq.get("operator"), freq.get("value")
        sql_ops = {"not": "= 0", "moreThan": "> ?", "lessThan": "< ?", "exactly": "= ?"}
        if op not in sql_ops:
            raise invalid("occurrence frequency needs operator not|moreThan|lessThan|exactly")
        if op != "not":
            compare_count(op, 0, value)  # validates the value
            local.append(value)
        params.extend(local)
        return f"{count} {sql_ops[op]}"

    def _segment(self, cond: dict[str, Any], cols: ColumnSql, params: list[Any]) -> str:
        op = cond.get("operator")
        if op not in ("in", "notIn"):
            raise invalid("segment conditions use operator in|notIn")
        row = self.db.one(
            "SELECT model_uuid, filter FROM segments WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL",
            (cond.get("segmentUuid"), self.workspace_uuid),
        )
        if row is None:
            raise invalid(f"segment {cond.get('segmentUuid')!r} not found")
        if row["model_uuid"] != cols.model.uuid:
            raise invalid("the referenced segment belongs to another model")
        if self.depth >= 3:
            raise invalid("segment conditions are nested too deeply")
        sub = FilterCompiler(self.db, self.workspace_uuid, self.now, self.depth + 1)
        sql = sub.compile(loads(row["filter"]), cols, params)
        self.uses_raw_sql |= sub.uses_raw_sql
        return f"({sql})" if op == "in" else f"NOT ({sql})"

    def _enrollment(self, cond: dict[str, Any], cols: ColumnSql, params: list[Any]) -> str:
        if not isinstance(cond.get("workflowUuid"), str):
            raise invalid("enrollment conditions need workflowUuid")
        counts: dict[str, int] = {}
        for resolver in ENROLLMENT_RESOLVERS:
            for record_id, count in resolver(self.db, self.workspace_uuid, cond, self.now).items():
                counts[record_id] = counts.get(record_id, 0) + count
        freq = cond.get("frequency") or {}
        op, value = freq.get("operator"), freq.get("value")
        zero_matches = compare_count(op, 0, value)
        ids = [rid for rid, n in counts.items() if compare_count(op, n, value) != zero_matches]
        params.append(json.dumps(ids))
        test = f"{cols.alias}._id IN (SELECT value FROM json_each(?))"
        return f"NOT ({test})" if zero_matches else test


def compile_sort(sort: Any, cols: ColumnSql, params: list[Any]) -> str:
    """``[{columnSlug, kind: asc|desc}]`` -> ORDER BY list ending with ``_id`` for stable pages."""
    if sort is None:
        sort = []
    if isinstance(sort, dict):
        sort = [sort]
    if not isinstance(sort, list):
        raise invalid("sort must be a list of {columnSlug, kind}")
    parts = []
    for item in sort:
        if not isinstance(item, dict) or item.get("kind", "asc") not in ("asc", "desc"):
            raise invalid("sort items are {columnSlug, kind: asc|desc}")
        parts.append(f"{cols.expr(item.get('columnSlug'), params)} {item.get('kind', 'asc').upper()}")
    parts.append(f"{cols.alias}._id ASC")
    return ", ".join(parts)
