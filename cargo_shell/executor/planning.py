"""What a plan shows beyond its request: the resources it names, and the read that checks a create.

Both are read from the registry (``refers_to`` on arguments, the job kind's list command), never
from a command's name.
"""

from __future__ import annotations

from typing import Any

from cargo_shell.executor.lookups import Lookups
from cargo_shell.executor.plan import Touch, command_line
from cargo_shell.registry import CommandSpec, Registry


def touches(spec: CommandSpec, values: dict[str, Any], lookups: Lookups) -> list[Touch]:
    """What the action names, by kind and name (kinds come from each argument's ``refers_to``)."""
    found: list[Touch] = []
    for arg in spec.args:
        value = values.get(arg.name)
        if value is None:
            continue
        if arg.refers_to is not None:
            for uuid in value if isinstance(value, list) else [value]:
                found.append(_touch(lookups, arg.refers_to, str(uuid)))
        elif arg.refers_to_keys and isinstance(value, dict):
            for key, kind in arg.refers_to_keys:
                if isinstance(value.get(key), str):
                    found.append(_touch(lookups, kind, value[key]))
    return found


def _touch(lookups: Lookups, kind: str, uuid: str) -> Touch:
    found = lookups.find(kind, uuid)
    if found is None:
        return Touch(kind, uuid)
    return Touch(kind, uuid, found.name or None, f"{found.label} {kind}" if found.label != kind else None)


def check_command(registry: Registry, spec: CommandSpec, values: dict[str, Any]) -> str | None:
    """A read command that shows whether an ambiguous create/spend took effect."""
    candidates = [" ".join((*spec.words[:-1], "list"))]
    if spec.job is not None:
        candidates.append(registry.job_kind(spec.job.kind).list_command)
    for name in candidates:
        if name not in registry:
            continue
        lst = registry.get(name)
        args: dict[str, Any] = {}
        for arg in lst.args:
            if arg.name in values and arg.type != "json":
                args[arg.name] = values[arg.name]
            elif arg.type == "list" and arg.name.endswith("s") and arg.name[:-1] in values:
                args[arg.name] = [values[arg.name[:-1]]]
        if any(a.name == "limit" for a in lst.args):
            args["limit"] = 10
        return command_line(lst, args)
    return None
