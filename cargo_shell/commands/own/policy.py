"""``policy list|allow|deny|remove``: the confirmation rules. Deny wins over allow; --yes never overrides a deny."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any, Literal

from cargo_shell.errors import UsageError
from cargo_shell.executor.policy import PolicyStore

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context


def list_rules(ctx: Context) -> dict[str, Any]:
    store = PolicyStore(ctx.env.paths.config_dir)
    return {"file": str(store.path), "rules": [r.to_json() for r in store.load()]}


def allow(
    ctx: Context, *, command: str, effect: str | None, profile: str | None, arg: list[str] | None, note: str
) -> dict[str, Any]:
    return _add(ctx, "allow", command, effect, profile, arg or [], note)


def deny(
    ctx: Context, *, command: str, effect: str | None, profile: str | None, arg: list[str] | None, note: str
) -> dict[str, Any]:
    return _add(ctx, "deny", command, effect, profile, arg or [], note)


def remove(ctx: Context, *, rule_id: int) -> dict[str, Any]:
    if not PolicyStore(ctx.env.paths.config_dir).remove(rule_id):
        raise UsageError(f"No rule #{rule_id}", hint="See `cargo-shell policy list`.")
    return {"removed": rule_id}


def _add(
    ctx: Context,
    action: Literal["allow", "deny"],
    command: str,
    effect: str | None,
    profile: str | None,
    matches: list[str],
    note: str,
) -> dict[str, Any]:
    args: dict[str, str] = {}
    for item in matches:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--arg {item!r}: expected FLAG=GLOB, e.g. --arg workflow-uuid=<uuid>")
        args[name.strip().lstrip("-")] = value.strip()
    if command != "*" and not any(fnmatch.fnmatchcase(spec.name, command) for spec in ctx.registry.api):
        raise UsageError(f"The pattern {command!r} matches no command", hint="Example: 'orchestration batch *'.")
    try:
        rule = PolicyStore(ctx.env.paths.config_dir).add(
            action, command=command, effect=effect, profile=profile, args=args, note=note
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return {"added": rule.to_json()}
