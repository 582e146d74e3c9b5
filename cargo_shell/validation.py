"""Validate raw arguments against a command's params model with messages a person can act on.

Besides the params model (types, UUIDs, choices), a few limits hold for every front end: JSON
values nest at most :data:`MAX_JSON_DEPTH` levels, a value that goes into the URL path is at most
:data:`MAX_PATH_VALUE` characters, and a file argument names a readable, non-empty regular file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cargo_shell.errors import UsageError
from cargo_shell.registry.spec import ArgSpec, CommandSpec

#: Deeper JSON is refused (real filters and node configs nest a handful of levels).
MAX_JSON_DEPTH = 100
#: Longest value accepted in a URL path segment (slugs and ids are far shorter).
MAX_PATH_VALUE = 1024


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: error messages never echo a whole huge input."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _label(arg: ArgSpec) -> str:
    return arg.name.upper() if arg.positional else arg.flag


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | tuple))
    return False


def describe_errors(spec: CommandSpec, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        key = str(loc[0]) if loc else ""
        try:
            arg = spec.arg(key)
            label = _label(arg)
        except KeyError:
            arg, label = None, f"--{key.replace('_', '-')}" if key else "arguments"
        kind = err.get("type", "")
        if kind == "missing":
            choices = f": one of {', '.join(arg.choices)}" if arg is not None and arg.choices else ""
            lines.append(f"{label} is required{choices}")
        elif kind == "extra_forbidden":
            known = ", ".join(a.flag for a in spec.args)
            lines.append(f"{label} is not an argument of `{spec.name}` (it takes: {known or 'no arguments'})")
        elif kind == "string_pattern_mismatch" and arg is not None and arg.type in ("uuid", "list"):
            lines.append(
                f"{label}: expected a UUID like 3f2b1c4e-0000-4000-8000-000000000000, got {shown(err['input'])}"
            )
        elif kind == "literal_error" and arg is not None:
            lines.append(f"{label}: {shown(err['input'])} is not one of {', '.join(arg.choices)}")
        else:
            where = "".join(f"[{p}]" for p in loc[1:])
            lines.append(f"{label}{where}: {err['msg']}")
    return lines


def _limits(spec: CommandSpec, cleaned: dict[str, Any]) -> list[str]:
    """Problems the params model does not see: nesting depth, URL path length, unreadable files."""
    problems: list[str] = []
    for arg in spec.args:
        value = cleaned.get(arg.name, cleaned.get(arg.attr))
        if value is None:
            continue
        if isinstance(value, dict | list) and json_depth_exceeds(value):
            problems.append(f"{_label(arg)}: the JSON nests more than {MAX_JSON_DEPTH} levels deep")
        elif arg.location == "path" and isinstance(value, str) and len(value) > MAX_PATH_VALUE:
            problems.append(
                f"{_label(arg)}: {len(value)} characters is too long for this value (at most {MAX_PATH_VALUE})"
            )
    return problems


def _file_problem(arg: ArgSpec, value: str) -> str | None:
    path = Path(value).expanduser()
    label = _label(arg)
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{label}: no file at {shown(value)}"
    except (OSError, ValueError) as exc:
        return f"{label}: cannot read {shown(value)} ({getattr(exc, 'strerror', None) or exc})"
    if path.is_dir():
        return f"{label}: {shown(value)} is a directory; give the path of a file"
    if not path.is_file():
        return f"{label}: {shown(value)} is not a regular file"
    if info.st_size == 0:
        return f"{label}: {shown(value)} is empty; there is nothing to upload"
    if not os.access(path, os.R_OK):
        return f"{label}: {shown(value)} is not readable (permission denied)"
    return None


def validate_params(spec: CommandSpec, raw: Mapping[str, Any]) -> BaseModel:
    """Validate ``raw`` (keys are flag names, kebab or snake case) into the params model."""
    cleaned = {k.lstrip("-"): v for k, v in raw.items() if v is not None}
    problems = _limits(spec, cleaned)
    if not problems:
        try:
            params = spec.params_model.model_validate(cleaned)
        except ValidationError as exc:
            problems = describe_errors(spec, exc)
        except RecursionError:
            problems = [f"a JSON value nests more than {MAX_JSON_DEPTH} levels deep"]
        else:
            for arg in spec.args:
                value = getattr(params, arg.attr, None)
                if arg.type == "file" and isinstance(value, str):
                    problem = _file_problem(arg, value)
                    if problem:
                        problems.append(problem)
            if not problems:
                return params
    raise UsageError(
        f"Invalid arguments for `{spec.name}`: " + "; ".join(problems),
        hint=f"See `cargo-shell {spec.name} --help`.",
    ) from None
