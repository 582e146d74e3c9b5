"""Hosting deployments: the builds of apps and workers, and which one is live.

The sandbox has no build farm: ``create`` checks its input, then answers 422
``unavailableInSandbox``. The seeded deployments are real stored objects: they are listed,
counted, promoted (the app or worker then serves that deployment) and cancelled while still
waiting (a queued one never starts here), and their build logs and source files are downloads
served by the sandbox from what it stores.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterable
from typing import Any

from cargo_shell.sandbox.db import Database, loads
from cargo_shell.sandbox.domains.hosting_common import SLOTS, owner_key, owner_of, slot_row
from cargo_shell.sandbox.downloads import create_download, register_download_kind
from cargo_shell.sandbox.fields import objects, strings, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request, not_found, unavailable
from cargo_shell.sandbox.util import as_int, iso, parse_iso

STATUSES = ("pending", "building", "success", "error", "cancelled")
MAX_FILES = 2000


def deployment_json(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    kind, uuid = row["kind"], row["uuid"]
    slug = db.scalar(f"SELECT slug FROM {SLOTS[kind][0]} WHERE uuid = ?", (row["owner_uuid"],)) or kind
    prefix = f"hosting/{row['workspace_uuid']}/deployments/{uuid}"
    return {
        "uuid": uuid,
        "workspaceUuid": row["workspace_uuid"],
        "kind": kind,
        owner_key(kind): row["owner_uuid"],
        "status": row["status"],
        "sourceS3Path": f"{prefix}/source.tar.gz",
        "bundleS3Path": f"{prefix}/bundle.tar.gz" if row["status"] == "success" else None,
        "buildLogS3Filename": f"{prefix}/build.log" if row["build_log"] is not None else None,
        "errorMessage": row["error_message"],
        "url": f"https://{uuid[:8]}--{slug}.{kind}.sandbox.invalid",
        "userUuid": row["user_uuid"],
        "promotedAt": row["promoted_at"],
        "promotedByUserUuid": row["promoted_by_user_uuid"],
        "finishedAt": row["finished_at"],
        "temporalWorkflowId": f"hosting-deployment-{uuid}",
        "meta": loads(row["meta"], {}),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def deployment_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    if not isinstance(uuid, str) or not uuid:
        raise bad_request("uuid must be a deployment uuid", "invalidField")
    row = db.one("SELECT * FROM hosting_deployments WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise not_found("Deployment", "deploymentNotFound")
    return row


def _filters(ws: str, body: dict[str, Any]) -> tuple[str, list[Any]]:
    sql, params = " FROM hosting_deployments WHERE workspace_uuid = ?", [ws]
    for field, kind in (("appUuid", "app"), ("workerUuid", "worker")):
        uuid = uuid_ref(body, field)
        if uuid is not None:
            sql += " AND kind = ? AND owner_uuid = ?"
            params += [kind, uuid]
    statuses = strings(body, "statuses")
    if statuses is not None:
        unknown = sorted(set(statuses) - set(STATUSES))
        if unknown:
            raise bad_request(f"Unknown statuses {unknown}: use {', '.join(STATUSES)}", "invalidField")
        sql += f" AND status IN ({', '.join('?' for _ in statuses)})" if statuses else " AND 0"
        params += statuses
    user = uuid_ref(body, "userUuid")
    if user is not None:
        sql += " AND user_uuid = ?"
        params.append(user)
    for field, op in (("createdAfter", ">="), ("createdBefore", "<")):
        value = text(body, field)
        if value is not None:
            sql += f" AND created_at {op} ?"
            params.append(iso(parse_iso(value)))
    return sql, params


def list_deployments(req: Request) -> dict[str, Any]:
    db, body = req.ctx.db, req.body()
    where, params = _filters(req.ctx.workspace_uuid, body)
    limit = as_int(body.get("limit"), "limit", 20, maximum=1000)
    offset = as_int(body.get("offset"), "offset", 0)
    rows = db.all(f"SELECT *{where} ORDER BY created_at DESC, uuid LIMIT ? OFFSET ?", [*params, limit, offset])
    count = db.scalar(f"SELECT COUNT(*){where}", params)
    return {"deployments": [deployment_json(db, r) for r in rows], "count": count}


def count_deployments(req: Request) -> dict[str, Any]:
    where, params = _filters(req.ctx.workspace_uuid, req.body())
    return {"count": req.ctx.db.scalar(f"SELECT COUNT(*){where}", params)}


def get_deployment(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    return {"deployment": deployment_json(db, deployment_row(db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def get_promoted(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    kind, slot = owner_of(db, req.ctx.workspace_uuid, req.query, kind_required=False)
    uuid = slot["promoted_deployment_uuid"]
    row = db.one("SELECT * FROM hosting_deployments WHERE uuid = ?", (uuid,)) if uuid else None
    if row is None:
        raise ApiError(404, f"No deployment of this {kind} has been promoted yet", "deploymentNotFound")
    return {"deployment": deployment_json(db, row)}


def create_deployment(req: Request) -> dict[str, Any]:
    body = req.body()
    owner_of(req.ctx.db, req.ctx.workspace_uuid, body, kind_required=True)
    files = objects(body, "files")
    if not files:
        raise bad_request('files is required: [{"path": ..., "content": ...}, ...]', "missingField")
    if len(files) > MAX_FILES:
        raise bad_request(f"At most {MAX_FILES} files per deployment", "invalidField")
    for i, item in enumerate(files):
        path, content = text(item, "path"), text(item, "content")
        if not path or path.startswith("/") or ".." in path.split("/") or content is None:
            raise bad_request(f"files[{i}] needs a relative path (no ..) and a text content", "invalidField")
    raise unavailable("Building a deployment (the hosting build farm)")


def _transition(req: Request, allowed: tuple[str, ...], reason: str, what: str) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = deployment_row(db, ws, req.body().get("uuid"))
    if row["status"] not in allowed:
        raise ApiError(400, f"A deployment with status {row['status']} cannot be {what}", reason)
    return row


def promote(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _transition(req, ("success",), "deploymentNotPromotable", "promoted (only success can)")
    slot = slot_row(db, ws, row["kind"], row["owner_uuid"])
    now = iso(req.ctx.clock())
    with db.transaction():
        db.execute(
            "UPDATE hosting_deployments SET promoted_at = ?, promoted_by_user_uuid = ?, updated_at = ? WHERE uuid = ?",
            (now, req.ctx.user_uuid, now, row["uuid"]),
        )
        db.execute(
            f"UPDATE {SLOTS[row['kind']][0]} SET promoted_deployment_uuid = ?, updated_at = ? WHERE uuid = ?",
            (row["uuid"], now, slot["uuid"]),
        )
    return {"deployment": deployment_json(db, deployment_row(db, ws, row["uuid"]))}


def cancel(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _transition(req, ("pending", "building"), "deploymentNotCancellable", "cancelled")
    now = iso(req.ctx.clock())
    db.execute(
        "UPDATE hosting_deployments SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE uuid = ?",
        (now, now, row["uuid"]),
    )
    return {"deployment": deployment_json(db, deployment_row(db, ws, row["uuid"]))}


# -- downloads -------------------------------------------------------------------------------
def build_log_url(req: Request) -> dict[str, Any]:
    row = deployment_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    if row["build_log"] is None:
        raise ApiError(404, "This deployment has no build log: it never started building", "buildLogNotFound")
    return {"url": create_download(req.ctx, "hosting_build_log", {"deployment": row["uuid"]})}


def source_archive_url(req: Request) -> dict[str, Any]:
    row = deployment_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    return {"url": create_download(req.ctx, "hosting_source_archive", {"deployment": row["uuid"]})}


@register_download_kind("hosting_build_log")
def _stream_log(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    row = deployment_row(db, ws, spec.get("deployment"))
    return [str(row["build_log"] or "").encode()], "text/plain; charset=utf-8", f"build-{row['uuid'][:8]}.log"


@register_download_kind("hosting_source_archive")
def _stream_sources(db: Database, ws: str, spec: dict[str, Any]) -> tuple[Iterable[bytes], str, str]:
    row = deployment_row(db, ws, spec.get("deployment"))
    return [source_archive(row)], "application/gzip", f"source-{row['uuid'][:8]}.tar.gz"


def source_archive(row: dict[str, Any]) -> bytes:
    """The deployment's files as a .tar.gz, byte for byte the same every time (fixed times and owners)."""
    mtime = int(parse_iso(row["created_at"]))
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for item in loads(row["source_files"], []):
            data = str(item["content"]).encode()
            info = tarfile.TarInfo(str(item["path"]))
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def sources_digest(files: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for item in files:
        digest.update(f"{item['path']}\0{item['content']}\0".encode())
    return digest.hexdigest()


def register(router: Router) -> None:
    r = router.route
    base = "/v1/hosting/deployments"
    r("POST", base)(create_deployment)
    r("POST", f"{base}/list")(list_deployments)
    r("POST", f"{base}/count")(count_deployments)
    r("POST", f"{base}/cancel")(cancel)
    r("POST", f"{base}/promote")(promote)
    r("GET", f"{base}/promoted")(get_promoted)
    r("GET", f"{base}/{{uuid}}")(get_deployment)
    r("GET", f"{base}/{{uuid}}/build-log-url")(build_log_url)
    r("GET", f"{base}/{{uuid}}/source-archive-url")(source_archive_url)
