"""The small value language of task files: paths into JSON, ``${...}`` templates, arithmetic.

A **path** walks a JSON value: ``segments[name=Hot leads].modelUuid``. Steps:

* ``key`` or ``.key`` — a field of an object;
* ``[2]`` — an item of a list (``[-1]`` is the last);
* ``[key=value]`` — the first item whose field equals ``value`` (``[key!=value]``: differs);
  ``[?key=value]`` — every such item; ``[*]`` — every item (the rest of the path applies to each);
* ``|fn`` or ``|fn:arg`` at the end — functions applied in order: ``len``, ``sum``, ``min``, ``max``,
  ``first``, ``last``, ``keys``, ``values``, ``flat``, ``sort``, ``lower``, ``round:N``, ``div:N``,
  ``mul:N``, ``maxby:field``, ``minby:field`` (the item with the largest / smallest field, numbers or
  texts such as ISO dates), ``get:field`` (a field of the result), ``match:REGEX`` (the first
  group, or the whole match).

A **template** is a string with ``${name.path}`` parts; ``name`` is looked up in a scope (the task's
``let`` values, or an oracle's earlier tool results). A string that is one whole ``${...}`` becomes
the value itself (a number stays a number); otherwise the parts are written into the text.
Templates nest: ``${seg.segments[modelUuid=${model}].name}``; ``${=...}`` computes (``+ - * /``) after
the references inside it are resolved: ``${=${sub.available} - ${sub.used}}``.

Paths and templates that do not resolve raise :class:`RefError`, which says where.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any


class RefError(ValueError):
    """A path or template that does not resolve, with a message saying what was missing."""


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split_pipes(path: str) -> tuple[str, list[str]]:
    """``a.b|len|round:1`` → (``a.b``, [``len``, ``round:1``]); pipes inside brackets stay."""
    depth = 0
    for i, ch in enumerate(path):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "|" and depth == 0:
            return path[:i], [p for p in path[i + 1 :].split("|") if p]
    return path, []


def _tokens(path: str) -> list[str]:
    """Split a path (pipes removed) into keys and bracket steps."""
    out: list[str] = []
    i, n = 0, len(path)
    while i < n:
        ch = path[i]
        if ch == ".":
            i += 1
            continue
        if ch == "[":
            end = path.find("]", i)
            if end < 0:
                raise RefError(f"unclosed '[' in path {path!r}")
            out.append(path[i : end + 1])
            i = end + 1
            continue
        j = i
        while j < n and path[j] not in ".[":
            j += 1
        out.append(path[i:j])
        i = j
    return out


def _matches(item: Any, key: str, want: str, negate: bool) -> bool:
    if not isinstance(item, Mapping):
        return False
    return (_scalar_text(item.get(key)) == want) != negate  # a missing field reads as null


def _step(value: Any, token: str, full: str) -> Any:
    if not token.startswith("["):
        if isinstance(value, Mapping):
            if token not in value:
                known = ", ".join(list(value)[:12])
                raise RefError(f"no field {token!r} in {full!r} (fields here: {known})")
            return value[token]
        raise RefError(f"cannot take field {token!r} of a {type(value).__name__} in {full!r}")
    inner = token[1:-1]
    if not isinstance(value, list):
        raise RefError(f"{token} needs a list in {full!r}, found a {type(value).__name__}")
    if re.fullmatch(r"-?\d+", inner):
        index = int(inner)
        if not -len(value) <= index < len(value):
            raise RefError(f"index {index} is out of range (the list has {len(value)} items) in {full!r}")
        return value[index]
    every = inner.startswith("?")
    cond = inner[1:] if every else inner
    negate = "!=" in cond
    key, _, want = cond.partition("!=" if negate else "=")
    if not _ or not key:
        raise RefError(f"bad selector {token} in {full!r}: use [N], [*], [key=value] or [?key=value]")
    hits = [item for item in value if _matches(item, key.strip(), want.strip(), negate)]
    if every:
        return hits
    if not hits:
        raise RefError(f"no item with {key.strip()}{'!=' if negate else '='}{want.strip()} in {full!r}")
    return hits[0]


def _walk(value: Any, tokens: list[str], full: str) -> Any:
    for pos, token in enumerate(tokens):
        if token == "[*]":
            if not isinstance(value, list):
                raise RefError(f"[*] needs a list in {full!r}, found a {type(value).__name__}")
            return [_walk(item, tokens[pos + 1 :], full) for item in value]
        value = _step(value, token, full)
    return value


def _flat(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return [value]
    out: list[Any] = []
    for item in value:
        out.extend(_flat(item))
    return out


def _numbers(value: Any, fn: str) -> list[float]:
    items = [v for v in _flat(value) if v is not None]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        raise RefError(f"|{fn} needs numbers, found {items[:5]!r}")
    return [float(v) for v in items]


def _number(value: Any) -> int | float:
    """Whole floats become ints, so `5.0` and `5` print the same in an answer check."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # type: ignore[no-any-return]


def _by(value: Any, field: str, pick: Callable[..., Any]) -> Any:
    """The item with the largest (smallest) ``field``: numbers, or texts such as ISO dates."""
    items = [v for v in (value or []) if isinstance(v, Mapping) and isinstance(v.get(field), int | float | str)]
    kinds = {isinstance(v[field], str) for v in items}
    if not items or len(kinds) > 1:
        raise RefError(f"no items with a comparable {field!r} (all numbers or all texts)")
    return pick(items, key=lambda v: v[field])


def _apply(value: Any, fn: str) -> Any:
    name, _, arg = fn.partition(":")
    match name:
        case "len":
            return len(value)
        case "sum":
            return _number(sum(_numbers(value, name)))
        case "min" | "max":
            nums = _numbers(value, name)
            if not nums:
                raise RefError(f"|{name} of an empty list")
            return _number(min(nums) if name == "min" else max(nums))
        case "first" | "last":
            if not value:
                raise RefError(f"|{name} of an empty list")
            return value[0] if name == "first" else value[-1]
        case "keys":
            return list(value)
        case "values":
            return list(value.values()) if isinstance(value, Mapping) else value
        case "flat":
            return _flat(value)
        case "sort":
            return sorted(value)
        case "lower":
            return str(value).lower()
        case "round":
            return _number(round(float(value), int(arg or 0)))
        case "div" | "mul":
            factor = float(arg)
            return _number(float(value) / factor if name == "div" else float(value) * factor)
        case "maxby":
            return _by(value, arg, max)
        case "minby":
            return _by(value, arg, min)
        case "get":
            return _step(value, arg, f"|get:{arg}")
        case "match":
            found = re.search(arg, str(value))
            if found is None:
                raise RefError(f"|match:{arg} found nothing in {str(value)[:80]!r}")
            return found.group(1) if found.groups() else found.group(0)
    raise RefError(f"unknown function |{fn}")


def get_path(value: Any, path: str) -> Any:
    """Evaluate ``path`` (steps and pipes) on ``value``; an empty path is the value itself."""
    body, pipes = _split_pipes(path.strip())
    out = _walk(value, _tokens(body), path) if body else value
    for fn in pipes:
        out = _apply(out, fn)
    return out


# -- templates -------------------------------------------------------------------------------------

Resolver = Callable[[str], Any]


def _find_close(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` that starts at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise RefError(f"unclosed '${{' in {text!r}")


def scope_resolver(scope: Mapping[str, Any]) -> Resolver:
    """Resolve ``name.path`` against a mapping of names (the longest dotted name that exists wins)."""

    def resolve(expr: str) -> Any:
        body, _pipes = _split_pipes(expr)
        head = re.match(r"[A-Za-z_][\w-]*", body)
        if head is None:
            raise RefError(f"${{{expr}}} does not start with a name")
        name = head.group(0)
        if name not in scope:
            raise RefError(f"${{{expr}}}: {name!r} is not defined here (known: {', '.join(sorted(scope)) or 'none'})")
        return get_path(scope[name], expr[len(name) :])

    return resolve


def render(value: Any, resolve: Resolver) -> Any:
    """Resolve every ``${...}`` in ``value`` (strings, and strings inside lists and objects)."""
    if isinstance(value, str):
        return _render_text(value, resolve)
    if isinstance(value, list):
        return [render(v, resolve) for v in value]
    if isinstance(value, dict):
        return {k: render(v, resolve) for k, v in value.items()}
    return value


def _render_text(text: str, resolve: Resolver) -> Any:
    if "${" not in text:
        return text
    start = text.find("${")
    end = _find_close(text, start)
    inner = _render_text(text[start + 2 : end], resolve)
    if not isinstance(inner, str):
        raise RefError(f"a nested reference in {text!r} gave a {type(inner).__name__}, not text")
    value = calc(inner[1:]) if inner.startswith("=") else resolve(inner)
    if start == 0 and end == len(text) - 1:
        return value
    rest = _render_text(text[end + 1 :], resolve)
    piece = value if isinstance(value, str) else json.dumps(_number(value), ensure_ascii=False)
    return f"{text[:start]}{piece}{rest}"


# -- arithmetic ------------------------------------------------------------------------------------

_OPS: dict[type[ast.AST], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def calc(expr: str) -> int | float:
    """Evaluate ``+ - * /`` over numbers and parentheses (after templates were rendered)."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        raise RefError(f"cannot compute {expr!r}: not an arithmetic expression") from None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return float(_OPS[type(node.op)](ev(node.left), ev(node.right)))
        raise RefError(f"cannot compute {expr!r}: only numbers, + - * / and parentheses are allowed")

    try:
        return _number(round(ev(tree), 6))
    except ZeroDivisionError:
        raise RefError(f"cannot compute {expr!r}: division by zero") from None
