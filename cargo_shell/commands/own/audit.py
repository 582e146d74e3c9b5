"""``log``: the audit log of actions, one entry per action (or the raw lines)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.executor.audit import AuditLog

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context


def show_log(
    ctx: Context, *, limit: int, command: str | None, effect: str | None, lines: bool | None
) -> dict[str, Any]:
    audit = AuditLog(ctx.env.paths.audit_log, profile="", workspace_uuid=None)
    entries = audit.read() if lines else audit.actions()
    if command:
        entries = [e for e in entries if str(e.get("command", "")).startswith(command)]
    if effect:
        entries = [e for e in entries if e.get("effect") == effect]
    if limit:
        entries = entries[-limit:]
    return {"entries": entries}
