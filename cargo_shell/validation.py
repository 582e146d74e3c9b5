"""Validate raw arguments against a command's params model with messages a person can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from cargo_shell.errors import UsageError
from cargo_shell.registry.spec import CommandSpec


def describe_errors(spec: CommandSpec, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        key = str(loc[0]) if loc else ""
        try:
            arg = spec.arg(key)
            label = arg.name.upper() if arg.positional else arg.flag
        except KeyError:
            arg, label = None, f"--{key.replace('_', '-')}" if key else "arguments"
        kind = err.get("type", "")
        if kind == "missing":
            lines.append(f"{label} is required")
        elif kind == "extra_forbidden":
            known = ", ".join(a.flag for a in spec.args)
            lines.append(f"{label} is not an argument of `{spec.name}` (it takes: {known or 'no arguments'})")
        elif kind == "string_pattern_mismatch" and arg is not None and arg.type in ("uuid", "list"):
            lines.append(f"{label}: expected a UUID like 3f2b1c4e-0000-4000-8000-000000000000, got {err['input']!r}")
        elif kind == "literal_error" and arg is not None:
            lines.append(f"{label}: {err['input']!r} is not one of {', '.join(arg.choices)}")
        else:
            where = "".join(f"[{p}]" for p in loc[1:])
            lines.append(f"{label}{where}: {err['msg']}")
    return lines


def validate_params(spec: CommandSpec, raw: Mapping[str, Any]) -> BaseModel:
    """Validate ``raw`` (keys are flag names, kebab or snake case) into the params model."""
    cleaned = {k.lstrip("-"): v for k, v in raw.items() if v is not None}
    try:
        return spec.params_model.model_validate(cleaned)
    except ValidationError as exc:
        problems = describe_errors(spec, exc)
        raise UsageError(
            f"Invalid arguments for `{spec.name}`: " + "; ".join(problems),
            hint=f"See `cargo-shell {spec.name} --help`.",
        ) from None
