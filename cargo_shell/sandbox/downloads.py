"""Signed download URLs served by the sandbox itself (``/_sandbox/downloads/<uuid>``).

The official API answers download commands with signed URLs; the sandbox stores what to
produce (``kind`` + JSON ``spec``) and streams it when the URL is fetched, so large
exports never sit in memory. Domains register a streamer per kind.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.http import ApiError, Ctx, Request, Router, StreamResponse
from cargo_shell.sandbox.util import iso, new_uuid

# (db, workspace_uuid, spec) -> (chunks, content type, file name)
Streamer = Callable[[Database, str, dict[str, Any]], tuple[Iterable[bytes], str, str]]
STREAMERS: dict[str, Streamer] = {}
TTL_S = 3600


def register_download_kind(kind: str) -> Callable[[Streamer], Streamer]:
    def decorator(fn: Streamer) -> Streamer:
        STREAMERS[kind] = fn
        return fn

    return decorator


def create_download(ctx: Ctx, kind: str, spec: dict[str, Any], ttl_s: int = TTL_S) -> str:
    """Store a download and return its signed URL (valid ``ttl_s`` seconds)."""
    if kind not in STREAMERS:
        raise ValueError(f"no streamer registered for download kind {kind!r}")
    uuid, secret, now = new_uuid(), secrets.token_urlsafe(24), ctx.clock()
    ctx.db.execute("DELETE FROM downloads WHERE expires_at < ?", (iso(now),))
    ctx.db.execute(
        "INSERT INTO downloads VALUES (?, ?, ?, ?, ?, ?, ?)",
        (uuid, ctx.workspace_uuid, kind, dumps(spec), secret, iso(now), iso(now + ttl_s)),
    )
    return f"{ctx.base_url}/_sandbox/downloads/{uuid}?signature={secret}"


def _serve(req: Request) -> StreamResponse:
    row = req.ctx.db.one("SELECT * FROM downloads WHERE uuid = ?", (req.path_params["uuid"],))
    signature = req.query.get("signature")
    if (
        row is None
        or not isinstance(signature, str)
        or not hmac.compare_digest(signature.encode(), str(row["secret"]).encode())
    ):
        raise ApiError(404, "Download not found or signature invalid", "downloadNotFound")
    if row["expires_at"] < iso(req.ctx.clock()):
        raise ApiError(410, "This download link has expired; request a new one", "downloadExpired")
    streamer = STREAMERS.get(row["kind"])
    if streamer is None:
        raise ApiError(404, "Download kind is no longer available", "downloadNotFound")
    chunks, content_type, filename = streamer(req.ctx.db, row["workspace_uuid"], loads(row["spec"]))
    return StreamResponse(chunks, content_type, {"content-disposition": f'attachment; filename="{filename}"'})


def register(router: Router) -> None:
    router.route("GET", "/_sandbox/downloads/{uuid}", auth=False)(_serve)
