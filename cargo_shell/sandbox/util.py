"""Small helpers shared by sandbox domains: time formatting, ids, slugs, paging."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cargo_shell.sandbox.http import INT64, bad_request, not_found

if TYPE_CHECKING:
    from cargo_shell.sandbox.db import Database


def iso(ts: float) -> str:
    """Epoch seconds -> ``2025-01-15T10:00:00.000Z``."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """ISO 8601 (``Z`` or offset, date only allowed) -> epoch seconds; 400 when malformed."""
    try:
        value = text.strip().replace("Z", "+00:00")
        dt = datetime.fromisoformat(value)
    except (ValueError, AttributeError):
        raise bad_request(f"Invalid date: {text!r} (expected ISO 8601)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def new_uuid(rng: random.Random | None = None) -> str:
    """A uuid4 string; deterministic when a seeded ``rng`` is given."""
    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str, sep: str = "_") -> str:
    slug = _SLUG_RE.sub(sep, text.lower()).strip(sep)
    return slug or "item"


IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_identifier(value: Any, what: str) -> str:
    """Slugs that end up inside SQL as identifiers must be plain ``[A-Za-z_][A-Za-z0-9_]*``."""
    if not isinstance(value, str) or not IDENT_RE.match(value):
        raise bad_request(f"Invalid {what} {value!r}: use letters, digits and underscores", "invalidSlug")
    return value


def as_int(
    value: Any, name: str, default: int | None = None, *, minimum: int = 0, maximum: int | None = INT64[1]
) -> int:
    if value is None or value == "":
        if default is None:
            raise bad_request(f"{name} is required")
        return default
    if isinstance(value, bool):
        raise bad_request(f"{name} must be an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer") from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f" and {maximum}" if maximum is not None else ""
        raise bad_request(f"{name} must be between {minimum}{bound}" if bound else f"{name} must be >= {minimum}")
    return number


def require(body: dict[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    value = body.get(name)
    if value is None or (kind is str and value == ""):
        raise bad_request(f"{name} is required", "missingField")
    if not isinstance(value, kind):
        raise bad_request(f"{name} has the wrong type", "invalidField")
    return value


# -- rows of soft-deleted, per-workspace tables (``table`` is always a literal of the caller) --
def live_row(db: Database, table: str, ws: str, uuid: Any, what: str, reason: str) -> dict[str, Any]:
    """The undeleted row ``uuid`` of workspace ``ws``; 404 ``reason`` ("<what> not found") otherwise
    (400 when ``uuid`` is not even a string)."""
    if not isinstance(uuid, str):
        kind = type(uuid).__name__
        raise bad_request(f"The {what.lower()} reference must be a uuid string, not {kind}", "invalidField")
    row = db.one(f"SELECT * FROM {table} WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (uuid, ws))
    if row is None:
        raise not_found(what, reason)
    return row


def live_rows(db: Database, table: str, ws: str, order: str = "created_at") -> list[dict[str, Any]]:
    """Every undeleted row of workspace ``ws``."""
    return db.all(f"SELECT * FROM {table} WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY {order}", (ws,))


def check_folder(db: Database, ws: str, folder: Any) -> None:
    """404 unless ``folder`` (when given) is a live folder of the workspace (400 when not a string)."""
    if folder is not None and folder != "":
        live_row(db, "folders", ws, folder, "Folder", "folderNotFound")


def seeded_now(db: Database, ws: str) -> float:
    """The "now" a seed hook writes at: the demo workspace is created 90 days before it."""
    return parse_iso(str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,)))) + 90 * 86400
