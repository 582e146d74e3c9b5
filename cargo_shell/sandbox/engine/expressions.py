"""A small, safe evaluator for the JavaScript-like expressions found in node configs.

Cargo configs hold ``{{ nodes.start.domain }}`` templates and ``jsExpression`` strings.
The sandbox cannot run JavaScript (and never calls ``eval``), so it parses (in
:mod:`expr_parser`) and walks here a deliberately small subset: literals, property paths (``a.b``, ``a["b"]``,
``a?.b``, ``a[0]``), array literals, unary ``! - +``, arithmetic, comparisons,
``&& || ??``, the ternary operator and a whitelist of pure functions and methods.
Anything outside that subset is an :class:`ExpressionError` with a readable message.

Parsed expressions are cached, so evaluating the same config over many records only
costs the tree walk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cargo_shell.sandbox.engine.expr_parser import UNDEFINED, Ast, ExpressionError, parse

__all__ = ["UNDEFINED", "ExpressionError", "compute", "evaluate", "parse", "render_template", "truthy"]


def to_js_string(value: Any) -> str:
    """Render a value the way JavaScript string concatenation would (roughly)."""
    if value is UNDEFINED or value is None:
        return "" if value is UNDEFINED else "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else to_js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (list, dict)):
        return True
    return bool(value)


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def _num_out(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _loose_equal(a: Any, b: Any) -> bool:
    nullish = (None, UNDEFINED)
    if a in nullish or b in nullish:
        return a in nullish and b in nullish
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        return _to_number(a) == _to_number(b)
    return bool(a == b)


def _strict_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        left: Any = a
        right: Any = b
    else:
        left, right = _to_number(a), _to_number(b)
        if math.isnan(left) or math.isnan(right):
            return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        if isinstance(a, (str, list, dict)) or isinstance(b, (str, list, dict)):
            return to_js_string(a) + to_js_string(b)
        return _num_out(_to_number(a) + _to_number(b))
    if op in ("-", "*", "/", "%"):
        x, y = _to_number(a), _to_number(b)
        if op == "-":
            return _num_out(x - y)
        if op == "*":
            return _num_out(x * y)
        if y == 0:
            return math.nan if op == "%" or x == 0 else math.copysign(math.inf, x)
        return _num_out(x / y) if op == "/" else _num_out(math.fmod(x, y))
    if op == "==":
        return _loose_equal(a, b)
    if op == "!=":
        return not _loose_equal(a, b)
    if op == "===":
        return _strict_equal(a, b)
    if op == "!==":
        return not _strict_equal(a, b)
    return _compare(op, a, b)


def _get(obj: Any, key: Any) -> Any:
    if obj is None or obj is UNDEFINED:
        return UNDEFINED
    if isinstance(obj, Mapping):
        return obj.get(to_js_string(key), UNDEFINED)
    if isinstance(obj, (list, str)):
        if key == "length":
            return len(obj)
        if isinstance(key, (int, float)) and not isinstance(key, bool) and float(key).is_integer():
            index = int(key)
            return obj[index] if 0 <= index < len(obj) else UNDEFINED
        return _Method(obj, str(key))
    return UNDEFINED


@dataclass(frozen=True)
class _Method:
    """A bound string/array method waiting for its call."""

    target: Any
    name: str


def _string_method(s: str, name: str, args: list[Any]) -> Any:
    def arg(i: int, default: Any = UNDEFINED) -> Any:
        return args[i] if i < len(args) else default

    simple: dict[str, Callable[[], Any]] = {
        "toLowerCase": s.lower,
        "toUpperCase": s.upper,
        "trim": s.strip,
        "includes": lambda: to_js_string(arg(0)) in s,
        "startsWith": lambda: s.startswith(to_js_string(arg(0))),
        "endsWith": lambda: s.endswith(to_js_string(arg(0))),
        "indexOf": lambda: s.find(to_js_string(arg(0))),
        "split": lambda: s.split(to_js_string(arg(0))) if arg(0) not in ("", UNDEFINED) else list(s),
        "slice": lambda: s[int(_to_number(arg(0, 0))) : None if arg(1) is UNDEFINED else int(_to_number(arg(1)))],
        "replace": lambda: s.replace(to_js_string(arg(0)), to_js_string(arg(1)), 1),
        "replaceAll": lambda: s.replace(to_js_string(arg(0)), to_js_string(arg(1))),
        "toString": lambda: s,
    }
    if name not in simple:
        raise ExpressionError(f"string method {name}() is not supported in the sandbox")
    return simple[name]()


def _array_method(items: list[Any], name: str, args: list[Any]) -> Any:
    if name == "includes":
        return any(_strict_equal(v, args[0] if args else UNDEFINED) for v in items)
    if name == "join":
        sep = to_js_string(args[0]) if args else ","
        return sep.join(to_js_string(v) for v in items)
    if name == "slice":
        start = int(_to_number(args[0])) if args else 0
        end = int(_to_number(args[1])) if len(args) > 1 else None
        return items[start:end]
    if name == "indexOf":
        needle = args[0] if args else UNDEFINED
        return next((i for i, v in enumerate(items) if _strict_equal(v, needle)), -1)
    raise ExpressionError(f"array method {name}() is not supported in the sandbox")


def _round(value: Any) -> int | float:
    number = _to_number(value)
    return number if math.isnan(number) else _num_out(float(math.floor(number + 0.5)))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "Math.round": _round,
    "Math.floor": lambda v: _num_out(float(math.floor(_to_number(v)))),
    "Math.ceil": lambda v: _num_out(float(math.ceil(_to_number(v)))),
    "Math.abs": lambda v: _num_out(abs(_to_number(v))),
    "Math.min": lambda *vs: _num_out(min(_to_number(v) for v in vs)),
    "Math.max": lambda *vs: _num_out(max(_to_number(v) for v in vs)),
    "Number": lambda v=0: _num_out(_to_number(v)),
    "parseFloat": lambda v: _num_out(_to_number(v)),
    "parseInt": lambda v: _num_out(float(math.trunc(_to_number(v)))),
    "String": lambda v="": to_js_string(v),
    "Boolean": lambda v=False: truthy(v),
    "isNaN": lambda v: math.isnan(_to_number(v)),
}


def _callee_name(node: Ast) -> str | None:
    if node[0] == "var":
        return str(node[1])
    if node[0] == "get" and node[1][0] == "var" and node[2][0] == "lit":
        return f"{node[1][1]}.{node[2][1]}"
    return None


def _eval(node: Ast, scope: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "var":
        return scope.get(node[1], UNDEFINED)
    if kind == "get":
        return _get(_eval(node[1], scope), _eval(node[2], scope))
    if kind == "bin":
        op = node[1]
        left = _eval(node[2], scope)
        if op == "&&":
            return _eval(node[3], scope) if truthy(left) else left
        if op == "||":
            return left if truthy(left) else _eval(node[3], scope)
        if op == "??":
            return _eval(node[3], scope) if left is None or left is UNDEFINED else left
        return _binary(op, left, _eval(node[3], scope))
    if kind == "un":
        value = _eval(node[2], scope)
        if node[1] == "!":
            return not truthy(value)
        number = _to_number(value)
        return _num_out(-number if node[1] == "-" else number)
    if kind == "if":
        return _eval(node[2], scope) if truthy(_eval(node[1], scope)) else _eval(node[3], scope)
    if kind == "arr":
        return [_eval(item, scope) for item in node[1]]
    if kind == "call":
        args = [_eval(a, scope) for a in node[2]]
        name = _callee_name(node[1])
        if name in _FUNCTIONS and name.split(".")[0] not in scope:
            return _FUNCTIONS[name](*args)
        target = _eval(node[1], scope)
        if isinstance(target, _Method):
            if isinstance(target.target, str):
                return _string_method(target.target, target.name, args)
            return _array_method(target.target, target.name, args)
        raise ExpressionError(f"{name or 'this value'} is not a function the sandbox can call")
    raise ExpressionError(f"unsupported expression node {kind}")  # pragma: no cover


def evaluate(text: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate one expression against ``scope`` (e.g. ``{"nodes": {...}}``)."""
    try:
        return _eval(parse(text), scope)
    except ExpressionError:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ExpressionError(f"cannot evaluate {text!r}: {exc}") from exc


_TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def render_template(text: str, scope: Mapping[str, Any]) -> Any:
    """Resolve ``{{ ... }}`` placeholders.

    A string that is exactly one placeholder keeps the raw value (a number stays a
    number); otherwise each placeholder is rendered as text in place.
    """
    if "{{" not in text:
        return text
    whole = _TEMPLATE_RE.fullmatch(text.strip())
    if whole is not None and text.strip().count("{{") == 1:
        value = evaluate(whole.group(1), scope)
        return None if value is UNDEFINED else value
    return _TEMPLATE_RE.sub(lambda m: to_js_string(evaluate(m.group(1), scope)), text)


def _plain(value: Any) -> Any:
    """Replace ``undefined`` and non-finite floats by JSON-friendly values."""
    if value is UNDEFINED:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def compute(value: Any, scope: Mapping[str, Any]) -> Any:
    """Resolve every expression inside a node config (recursively)."""
    if isinstance(value, str):
        return _plain(render_template(value, scope))
    if isinstance(value, list):
        return [compute(v, scope) for v in value]
    if isinstance(value, dict):
        kind = value.get("kind")
        if kind in ("templateExpression", "jsExpression") and isinstance(value.get("expression"), str):
            if value.get("instructTo") == "ai":
                return f"[sandbox AI fill] {value['expression']}"
            if kind == "templateExpression":
                return _plain(render_template(value["expression"], scope))
            return _plain(evaluate(value["expression"], scope))
        return {k: compute(v, scope) for k, v in value.items()}
    return value
