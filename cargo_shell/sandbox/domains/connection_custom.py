"""Custom integrations, a connector's language models and dynamic schemas, and starting OAuth.

A custom integration is stored for real: an ``external`` one points at a base URL, a ``worker``
one at a hosting worker of the workspace (looked up in the hosting domain's ``hosting_workers``
table when the sandbox has one; without it no worker exists, so ``workerNotFound``).

A connector's language models are what its provider lists for the connected account: the
sandbox answers the list its demo account of the provider holds (``sandboxLanguageModels`` in the
integration catalogue). Dynamic schemas are computed from the live account (its custom fields,
its lists) and OAuth starts at the provider, so both answer 422 ``unavailableInSandbox``.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from cargo_shell.sandbox.db import Database, register_migration
from cargo_shell.sandbox.fields import optional, text, uuid_ref
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request
from cargo_shell.sandbox.integrations import INTEGRATIONS
from cargo_shell.sandbox.util import iso, live_row, new_uuid

KINDS = ("external", "worker")
#: The demo custom integration's ids come from their own generator, so it changes no other seeded id.
CUSTOM_SEED = 20250404
DEMO_BASE_URL = "https://hooks.acme-demo.com/cargo"
WORKERS_TABLE = "hosting_workers"


@register_migration("404_custom_integrations")
def _m404(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE custom_integrations (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, slug TEXT NOT NULL,"
        " kind TEXT NOT NULL, base_url TEXT, worker_uuid TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " deleted_at TEXT)"
    )


def custom_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "uuid": row["uuid"], "workspaceUuid": row["workspace_uuid"], "slug": row["slug"], "kind": row["kind"],
        "createdAt": row["created_at"], "updatedAt": row["updated_at"], "deletedAt": None,
    }  # fmt: skip
    if row["kind"] == "external":
        out["baseUrl"] = row["base_url"]
    else:
        out["workerUuid"] = row["worker_uuid"]
    return out


def _custom(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "custom_integrations", ws, uuid, "Custom integration", "customIntegrationNotFound")


def _base_url(body: dict[str, Any]) -> str:
    url = (text(body, "baseUrl") or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad_request("baseUrl must be an http:// or https:// URL with a host", "invalidField")
    return url.rstrip("/")


def _worker(db: Database, ws: str, body: dict[str, Any]) -> str:
    worker = uuid_ref(body, "workerUuid")
    if worker is None:
        raise bad_request("workerUuid is required for a worker integration", "missingField")
    columns = {r["name"] for r in db.all(f"PRAGMA table_info({WORKERS_TABLE})")}
    live = " AND deleted_at IS NULL" if "deleted_at" in columns else ""
    found = {"uuid", "workspace_uuid"} <= columns and db.scalar(
        f"SELECT 1 FROM {WORKERS_TABLE} WHERE uuid = ? AND workspace_uuid = ?{live}", (worker, ws)
    )
    if not found:
        raise ApiError(404, "Worker not found (hosting workers of this workspace)", "workerNotFound")
    return worker


def list_custom(req: Request) -> dict[str, Any]:
    rows = req.ctx.db.all(
        "SELECT * FROM custom_integrations WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY created_at, rowid",
        (req.ctx.workspace_uuid,),
    )
    return {"customIntegrations": [custom_json(r) for r in rows]}


def get_custom(req: Request) -> dict[str, Any]:
    return {"connector": custom_json(_custom(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_custom(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    kind = text(body, "kind")
    if kind not in KINDS:
        raise bad_request(f"kind must be one of {', '.join(KINDS)}", "invalidField")
    base_url = _base_url(body) if kind == "external" else None
    worker = _worker(ctx.db, ctx.workspace_uuid, body) if kind == "worker" else None
    uuid, stamp = new_uuid(), iso(ctx.clock())
    ctx.db.execute(
        "INSERT INTO custom_integrations (uuid, workspace_uuid, slug, kind, base_url, worker_uuid, created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?)",
        (uuid, ctx.workspace_uuid, f"custom-{uuid[:8]}", kind, base_url, worker, stamp, stamp),
    )
    return {"customIntegration": custom_json(_custom(ctx.db, ctx.workspace_uuid, uuid))}


def update_custom(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    row = _custom(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    base_url, worker = row["base_url"], row["worker_uuid"]
    if body.get("baseUrl") is not None:
        if row["kind"] != "external":
            raise ApiError(400, "baseUrl belongs to external integrations; this one runs on a worker",
                           "customIntegrationNotExternal")  # fmt: skip
        base_url = _base_url(body)
    if body.get("workerUuid") is not None:
        if row["kind"] != "worker":
            raise ApiError(400, "workerUuid belongs to worker integrations; this one is external",
                           "customIntegrationNotWorker")  # fmt: skip
        worker = _worker(ctx.db, ctx.workspace_uuid, body)
    ctx.db.execute(
        "UPDATE custom_integrations SET base_url = ?, worker_uuid = ?, updated_at = ? WHERE uuid = ?",
        (base_url, worker, iso(ctx.clock()), row["uuid"]),
    )
    return {"customIntegration": custom_json(_custom(ctx.db, ctx.workspace_uuid, row["uuid"]))}


def remove_custom(req: Request) -> dict[str, Any]:
    row = _custom(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    req.ctx.db.execute(
        "UPDATE custom_integrations SET deleted_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), row["uuid"])
    )
    return {}


# -- connectors' provider-side data ---------------------------------------------------------
def _connector_integration(req: Request) -> dict[str, Any]:
    row = live_row(req.ctx.db, "connectors", req.ctx.workspace_uuid, req.path_params["connectorUuid"], "Connector",
                   "connectorNotFound")  # fmt: skip
    integration = INTEGRATIONS.get(row["integration_slug"])
    if integration is None:
        raise ApiError(404, f"Integration {row['integration_slug']!r} not found", "integrationNotFound")
    return integration


def language_models(req: Request) -> dict[str, Any]:
    integration = _connector_integration(req)
    models = integration.get("sandboxLanguageModels")
    if models is None:
        raise ApiError(400, f"{integration['name']} offers no language models", "languageModelsNotSupported")
    return {"languageModels": [dict(m) for m in models]}


def dynamic_schema(req: Request) -> dict[str, Any]:
    integration = _connector_integration(req)
    if optional(req.body(), "params", dict) is None:
        raise bad_request("params is required (an object; {} when none)", "missingField")
    raise ApiError(
        UNAVAILABLE_STATUS,
        f"Dynamic schemas are not available in the sandbox: {integration['name']} computes them from the connected "
        "account, which the sandbox cannot reach",
        "unavailableInSandbox",
    )


def initiate_oauth(req: Request) -> dict[str, Any]:
    slug = req.path_params["slug"]
    if slug not in INTEGRATIONS:
        raise ApiError(404, f"Integration {slug!r} not found", "integrationNotFound")
    raise ApiError(
        UNAVAILABLE_STATUS,
        "OAuth is not available in the sandbox: consent happens at the provider, which the sandbox cannot reach."
        " Create the connector with an API key in --config instead",
        "unavailableInSandbox",
    )


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/connection/customIntegrations/list")(list_custom)
    r("POST", "/v1/connection/customIntegrations")(create_custom)
    r("GET", "/v1/connection/customIntegrations/{uuid}")(get_custom)
    r("PUT", "/v1/connection/customIntegrations/{uuid}")(update_custom)
    r("DELETE", "/v1/connection/customIntegrations/{uuid}")(remove_custom)
    r("GET", "/v1/connection/connectors/{connectorUuid}/languageModels")(language_models)
    r("POST", "/v1/connection/connectors/{connectorUuid}/dynamicSchemas/{slug}")(dynamic_schema)
    r("POST", "/v1/connection/integrations/{slug}/initiateOauth")(initiate_oauth)


def seed_custom_integration(db: Database, ws: str, rng: random.Random) -> None:
    """The demo workspace's own enrichment service, an external custom integration."""
    created = str(db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (ws,)))
    uuid = new_uuid(random.Random(CUSTOM_SEED))
    db.execute(
        "INSERT INTO custom_integrations (uuid, workspace_uuid, slug, kind, base_url, created_at, updated_at)"
        " VALUES (?,?,?,'external',?,?,?)",
        (uuid, ws, f"custom-{uuid[:8]}", DEMO_BASE_URL, created, created),
    )
