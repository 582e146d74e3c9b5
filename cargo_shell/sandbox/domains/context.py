"""The context domain: the workspace's repository of notes that agents read and write.

Browse, read, write and edit work on the SQLite file tree of ``context_store``; every write or
edit is one commit. ``graph`` (links between notes) is in ``context_graph``, ``execute`` (the
few commands the sandbox runs) in ``context_shell``.
"""

from __future__ import annotations

import mimetypes
import random
from typing import Any

from cargo_shell.sandbox.domains import context_graph, context_shell
from cargo_shell.sandbox.domains.context_store import (
    MAX_FILE_BYTES,
    all_paths,
    clean_path,
    commit,
    file_content,
    is_folder,
    repository,
    repository_json,
    seed_context,
    stamp_of,
)
from cargo_shell.sandbox.fields import optional, text
from cargo_shell.sandbox.http import ApiError, Request, Router, StreamResponse

#: The demo repository's ids come from their own generator, so adding it changes no other seeded id.
CONTEXT_SEED = 20250400


def _repo(req: Request) -> dict[str, Any]:
    return repository(req.ctx.db, req.ctx.workspace_uuid, stamp_of(req.ctx))


def get_repository(req: Request) -> dict[str, Any]:
    return {"repository": repository_json(_repo(req))}


def browse(req: Request) -> dict[str, Any]:
    ctx, q = req.ctx, req.query
    _repo(req)
    raw_depth = q.get("depth")
    if raw_depth not in (None, "", "1", "-1"):
        raise ApiError(400, "depth is 1 (one level, the default) or -1 (the whole tree, without path)", "invalidQuery")
    path = clean_path(q.get("path", ""), reason="invalidQuery", root_ok=True)
    paths = all_paths(ctx.db, ctx.workspace_uuid)
    if raw_depth == "-1":
        if path:
            raise ApiError(400, "depth -1 lists the whole tree: give no path with it", "invalidQuery")
        folders = sorted({"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)})
        entries = [_entry(f, "folder") for f in folders] + [_entry(p, "file") for p in paths]
        return {"path": "", "entries": sorted(entries, key=lambda e: e["path"]), "truncated": False}
    if not is_folder(paths, path):
        reason = "is a file; read it with context runtime read" if path in paths else "does not exist"
        raise ApiError(404, f"{path!r} {reason}", "pathNotFound")
    prefix = path + "/" if path else ""
    level: dict[str, str] = {}
    for p in paths:
        if p.startswith(prefix):
            head, _, rest = p[len(prefix) :].partition("/")
            level[prefix + head] = "folder" if rest else "file"
    return {"path": path, "entries": [_entry(p, kind) for p, kind in sorted(level.items())]}


def _entry(path: str, kind: str) -> dict[str, str]:
    return {"name": path.rsplit("/", 1)[-1], "path": path, "kind": kind}


def _existing(req: Request, path: str) -> bytes:
    content = file_content(req.ctx.db, req.ctx.workspace_uuid, path)
    if content is None:
        raise ApiError(404, f"No file {path!r} in the context repository", "fileNotFound")
    if len(content) > MAX_FILE_BYTES:
        raise ApiError(413, f"{path!r} is larger than {MAX_FILE_BYTES} bytes", "tooLarge")
    return content


def _line(body: dict[str, Any], name: str) -> int | None:
    value = optional(body, name, int)
    if value is not None and value < 1:
        raise ApiError(400, f"{name} counts from 1", "invalidBody")
    return value


def read(req: Request) -> dict[str, Any]:
    body = req.body()
    _repo(req)
    path = clean_path(body.get("path"))
    start, end = _line(body, "startLine"), _line(body, "endLine")
    try:
        content = _existing(req, path).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, f"{path!r} is not UTF-8 text: download it with context runtime read-bytes",
                       "invalidBody") from None  # fmt: skip
    lines = content.splitlines(keepends=True)
    first = start or 1
    last = min(end if end is not None else len(lines), len(lines))
    if end is not None and end < first:
        raise ApiError(400, "endLine comes before startLine", "invalidBody")
    return {
        "path": path, "content": "".join(lines[first - 1 : last]), "startLine": first, "endLine": max(last, first - 1),
        "totalLines": len(lines),
    }  # fmt: skip


def read_bytes(req: Request) -> StreamResponse:
    _repo(req)
    path = clean_path(req.query.get("path"), reason="invalidQuery")
    content = _existing(req, path)
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    name = path.rsplit("/", 1)[-1].replace('"', "'")
    headers = {"content-length": str(len(content)), "content-disposition": f'attachment; filename="{name}"'}
    return StreamResponse([content], kind, headers)


def _message(body: dict[str, Any], default: str) -> str:
    return (text(body, "commitMessage") or "").strip() or default


def write(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    _repo(req)
    path = clean_path(body.get("path"))
    content = text(body, "content")
    if content is None:
        raise ApiError(400, "content is required (the whole new file; may be empty)", "invalidBody")
    data = content.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(413, f"A file is limited to {MAX_FILE_BYTES} bytes", "tooLarge")
    with ctx.db.transaction() as conn:
        paths = all_paths(ctx.db, ctx.workspace_uuid)
        if is_folder(paths, path):
            raise ApiError(400, f"{path!r} is a folder", "failedToWrite")
        clash = next((p for p in paths if path.startswith(p + "/")), None)
        if clash:
            raise ApiError(400, f"{clash!r} is a file, so it cannot hold {path!r}", "failedToWrite")
        verb = "Update" if path in paths else "Create"
        done = commit(conn, ctx.workspace_uuid, _message(body, f"{verb} {path}"), stamp_of(ctx), {path: data}, [])
    return {"commit": done}


def edit(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    _repo(req)
    path = clean_path(body.get("path"))
    old, new = text(body, "oldString"), text(body, "newString")
    if not old or new is None:
        raise ApiError(400, "oldString (not empty) and newString are required", "invalidBody")
    replace_all = bool(optional(body, "replaceAll", bool, False))
    if old == new:
        raise ApiError(400, "oldString and newString are the same: nothing would change", "noOp")
    with ctx.db.transaction() as conn:
        try:
            content = _existing(req, path).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, f"{path!r} is not UTF-8 text", "failedToEdit") from None
        count = content.count(old)
        if count == 0:
            raise ApiError(400, f"oldString does not occur in {path!r}", "stringNotFound")
        if count > 1 and not replace_all:
            raise ApiError(400, f"oldString occurs {count} times in {path!r}: give more context or replaceAll",
                           "stringNotUnique")  # fmt: skip
        updated = content.replace(old, new) if replace_all else content.replace(old, new, 1)
        done = commit(conn, ctx.workspace_uuid, _message(body, f"Edit {path}"), stamp_of(ctx),
                      {path: updated.encode("utf-8")}, [])  # fmt: skip
    return {"commit": done}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/context/repository")(get_repository)
    r("GET", "/v1/context/graph")(context_graph.get_graph)
    r("GET", "/v1/context/runtime")(browse)
    r("POST", "/v1/context/runtime/content")(read)
    r("PUT", "/v1/context/runtime/content")(write)
    r("PATCH", "/v1/context/runtime/content")(edit)
    r("GET", "/v1/context/runtime/raw")(read_bytes)
    r("POST", "/v1/context/runtime/execute")(context_shell.execute)


def seed_demo_context(db: Any, workspace_uuid: str, rng: random.Random) -> None:
    seed_context(db, workspace_uuid, random.Random(CONTEXT_SEED))
