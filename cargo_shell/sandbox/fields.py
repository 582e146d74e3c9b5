"""Reading request fields with the right type: what a domain handler takes from a body or a query.

Every helper answers 400 (``invalidField``, naming the field) when the value has the wrong shape,
so a list where a uuid belongs, or an object where a name belongs, never reaches SQLite.
``None`` and an absent field are the same: the default.
"""

from __future__ import annotations

from typing import Any, TypeVar

from cargo_shell.sandbox.http import INT64, bad_request

T = TypeVar("T")

_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", dict: "an object", list: "a list"}


def _kind_name(value: Any) -> str:
    for kind, name in (
        (bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"), (dict, "an object"),
        (list, "a list"),
    ):  # fmt: skip
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


def wrong_type(name: str, expected: str, value: Any) -> Exception:
    return bad_request(f"{name} must be {expected}, not {_kind_name(value)}", "invalidField")


def optional(src: dict[str, Any], name: str, kind: type[T], default: T | None = None) -> T | None:
    """``src[name]`` when it is a ``kind`` (an int is not a bool), ``default`` when absent or null."""
    value = src.get(name)
    if value is None:
        return default
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # type: ignore[return-value]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise wrong_type(name, _NAMES.get(kind, kind.__name__), value)
    if kind is int and not INT64[0] <= value <= INT64[1]:  # type: ignore[operator]
        raise bad_request(f"{name} is out of range", "invalidField")
    return value


def text(src: dict[str, Any], name: str, default: str | None = None) -> str | None:
    """A string field (a query parameter given twice is a list: refused)."""
    return optional(src, name, str, default)


def uuid_ref(src: dict[str, Any], name: str) -> str | None:
    """A reference to another object (a uuid or an id): a non-empty string, or None."""
    value = optional(src, name, str)
    if value == "":
        return None
    return value


def strings(src: dict[str, Any], name: str) -> list[str] | None:
    """A list of strings; a single string (``?status=x``) is a list of one."""
    value = src.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise wrong_type(name, "a list of strings", value)
    return value


def objects(src: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    """A list of JSON objects (nodes, columns, records ...)."""
    value = src.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise wrong_type(name, "a list of objects", value)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise wrong_type(f"{name}[{i}]", "an object", item)
    return value
