"""Does a JSON answer have the shape the official client declares for it?

``mismatches(facts, schema, value)`` walks a value against a derived result shape and returns
readable findings (``$.tokens[0]: missing required key 'token'``): required keys present (a
``T | null`` key that is not optional must be there, as null), kinds, enums from the declared
values, arrays of the item shape, one branch of a union (function-typed keys, which JSON cannot
carry, are never required). Keys the type does not declare are not
mismatches (TypeScript types are open), but ``extra_keys`` lists them for review.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.client_facts.facts import Facts, Schema

_KIND_NAMES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_datetime(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class _Walker:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.extra: list[str] = []

    def check(self, schema: Schema, value: Any, path: str) -> list[str]:
        facts = self.facts
        nullable = bool(schema.get("nullable"))
        schema = facts.resolve(schema)
        nullable = nullable or bool(schema.get("nullable"))
        if value is None:
            unconstrained = not schema or ("format" in schema and "type" not in schema)
            if nullable or unconstrained or schema.get("type") == "null":
                return []
            return [f"{path}: null where the client declares {self.describe(schema)} (not nullable)"]
        if "anyOf" in schema:
            return self._union(schema["anyOf"], value, path)
        if "const" in schema:
            if value != schema["const"] or kind_of(value) != kind_of(schema["const"]):
                return [f"{path}: {_show(value)} is not {_show(schema['const'])}"]
            return []
        if "enum" in schema:
            if value not in schema["enum"] or isinstance(value, bool):
                return [f"{path}: {_show(value)} is not one of {schema['enum']}"]
            return []
        want = schema.get("type")
        if want is None:
            return []  # any value, a JSON schema, a binary or a callback
        got = kind_of(value)
        if want == "undefined":
            return [f"{path}: a value where the client declares none"]
        if got != want:
            return [f"{path}: {got} {_show(value)} where the client declares {self.describe(schema)}"]
        if want == "string" and schema.get("format") == "date-time" and not _is_datetime(value):
            return [f"{path}: {_show(value)} is not an ISO 8601 date-time"]
        if want == "array":
            return self._array(schema, value, path)
        if want == "object" and "properties" in schema:
            return self._object(schema, value, path)
        return []

    def _array(self, schema: Schema, value: list[Any], path: str) -> list[str]:
        out: list[str] = []
        if "prefixItems" in schema:
            items = schema["prefixItems"]
            if len(value) != len(items):
                out.append(f"{path}: {len(value)} items where the client declares a tuple of {len(items)}")
            for i, (item_schema, item) in enumerate(zip(items, value, strict=False)):
                out.extend(self.check(item_schema, item, f"{path}[{i}]"))
            return out
        item_schema = schema.get("items", {})
        for i, item in enumerate(value):
            out.extend(self.check(item_schema, item, f"{path}[{i}]"))
        return out

    def _object(self, schema: Schema, value: dict[str, Any], path: str) -> list[str]:
        out: list[str] = []
        props: dict[str, Schema] = schema["properties"]
        for key in schema.get("required", []):
            if key not in value and not self._callable(props.get(key, {})):
                out.append(f"{path}: missing required key {key!r}")
        extra_schema = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in props:
                out.extend(self.check(props[key], item, where))
            elif extra_schema is not None:
                out.extend(self.check(extra_schema, item, where))
            else:
                self.extra.append(where)
        return out

    def _callable(self, schema: Schema) -> bool:
        """A function-typed key (the server's own integration code) never travels as JSON."""
        return self.facts.resolve(schema).get("format") == "function"

    def _union(self, branches: list[Schema], value: Any, path: str) -> list[str]:
        best: list[str] | None = None
        best_score = -1
        for branch in branches:
            walker = _Walker(self.facts)
            found = walker.check(branch, value, path)
            if not found:
                self.extra.extend(walker.extra)
                return []
            score = self._agreement(branch, value)
            if best is None or score > best_score or (score == best_score and len(found) < len(best)):
                best, best_score = found, score
        assert best is not None
        if len(branches) == 1:
            return best
        return [f"{path}: matches none of the {len(branches)} declared shapes; closest:"] + ["  " + x for x in best]

    def _agreement(self, branch: Schema, value: Any) -> int:
        """How well a value fits a union branch: its discriminating constants and known keys."""
        branch = self.facts.resolve(branch)
        if not isinstance(value, dict) or branch.get("type") != "object":
            return 1 if kind_of(value) == branch.get("type") else 0
        score = 1
        for key, prop in (branch.get("properties") or {}).items():
            if key in value:
                score += 1
                prop = self.facts.resolve(prop)
                if "const" in prop:
                    score += 100 if value[key] == prop["const"] else -100
        return score

    def describe(self, schema: Schema) -> str:
        schema = self.facts.resolve(schema)
        if "enum" in schema:
            return f"one of {schema['enum']}"
        if "const" in schema:
            return _show(schema["const"])
        if "anyOf" in schema:
            return " | ".join(self.describe(s) for s in schema["anyOf"])
        text = str(schema.get("type", "any value"))
        if text == "array" and "items" in schema:
            text = f"array of {self.describe(schema['items'])}"
        return text + (" or null" if schema.get("nullable") else "")


def mismatches(facts: Facts, schema: Schema | None, value: Any, path: str = "$") -> list[str]:
    """Readable differences between ``value`` and the declared ``schema`` (empty: it conforms)."""
    if schema is None:
        return []  # the client ignores the body of an operation that returns nothing
    return _Walker(facts).check(schema, value, path)


def extra_keys(facts: Facts, schema: Schema | None, value: Any, path: str = "$") -> list[str]:
    """Where ``value`` carries keys the declared object types do not name."""
    if schema is None:
        return []
    walker = _Walker(facts)
    walker.check(schema, value, path)
    return walker.extra
