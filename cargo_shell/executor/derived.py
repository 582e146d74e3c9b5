"""Fields cargo-shell adds to responses, as the registry's ``derived_fields`` say (invoice cents in dollars)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cargo_shell.registry.spec import CommandSpec


def _cents_to_dollars(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value / 100:.2f}"
    return None


#: One function per conversion named in the registry (``spec.CONVERSIONS``).
CONVERT: dict[str, Callable[[Any], Any]] = {"cents-to-dollars": _cents_to_dollars}


def add_derived_fields(spec: CommandSpec, data: Any) -> Any:
    """``data`` with each derived field added to the objects of its list (a new dict; nothing is changed)."""
    for derived in spec.derived_fields:
        items = data.get(derived.list) if isinstance(data, dict) else None
        if not isinstance(items, list):
            continue
        convert = CONVERT[derived.convert]
        out = []
        for item in items:
            value = convert(item.get(derived.source)) if isinstance(item, dict) else None
            out.append({**item, derived.target: value} if value is not None else item)
        data = {**data, derived.list: out}
    return data
