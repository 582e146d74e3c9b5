"""Connection domain: connectors, the integration catalogue, the native integration."""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.fields import optional
from cargo_shell.sandbox.http import (
    UNAVAILABLE_STATUS,
    ApiError,
    JsonResponse,
    Request,
    Router,
    StreamResponse,
    bad_request,
)
from cargo_shell.sandbox.integrations import INTEGRATIONS, documentation, native_integration, public
from cargo_shell.sandbox.util import check_identifier, iso, live_row, new_uuid, require

RATE_UNITS = ("day", "hour", "minute", "second")


def _table_has(db: Database, table: str, *columns: str) -> bool:
    names = (
        {r["name"] for r in db.all(f"PRAGMA table_info({table})")}
        if db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        else set()
    )
    return set(columns) <= names


def _workflow_usage(db: Database, connector_uuid: str) -> tuple[int, int]:
    """(plays, tools) whose workflow releases mention this connector."""
    if not _table_has(db, "wf_releases", "workflow_uuid", "nodes"):
        return 0, 0
    counts = []
    for table in ("wf_plays", "wf_tools"):
        if not _table_has(db, table, "workflow_uuid", "deleted_at"):
            counts.append(0)
            continue
        counts.append(
            int(
                db.scalar(
                    f"SELECT COUNT(DISTINCT p.uuid) FROM {table} p"
                    " JOIN wf_releases r ON r.workflow_uuid = p.workflow_uuid"
                    " WHERE p.deleted_at IS NULL AND r.nodes LIKE ?",
                    (f"%{connector_uuid}%",),
                )
                or 0
            )
        )
    return counts[0], counts[1]


def connector_json(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    plays, tools = _workflow_usage(db, row["uuid"])
    models = db.scalar("SELECT COUNT(*) FROM models WHERE connector_uuid = ? AND deleted_at IS NULL", (row["uuid"],))
    use_credits = bool(row["use_credits"])
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "userUuid": row["user_uuid"],
        "name": row["name"],
        "slug": row["slug"],
        "integrationSlug": row["integration_slug"],
        "rateLimit": loads(row["rate_limit"]),
        "cacheTtlMilliseconds": row["cache_ttl_ms"],
        "isDefault": bool(row["is_default"]),
        "playsCount": plays,
        "toolsCount": tools,
        "modelsCount": models,
        "useCredits": use_credits,
        "config": None if use_credits else _masked(loads(row["config"], {})),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def _masked(config: Any) -> Any:
    """Credentials are write-only: show that a value is set, never the value."""
    if not isinstance(config, dict):
        return config
    return {k: ("********" if isinstance(v, str) and v else v) for k, v in config.items()}


def _connector(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    return live_row(db, "connectors", ws, uuid, "Connector", "connectorNotFound")


def _integration(slug: Any) -> dict[str, Any]:
    integration = INTEGRATIONS.get(slug) if isinstance(slug, str) else None
    if integration is None:
        raise ApiError(404, f"Integration {slug!r} not found", "integrationNotFound")
    return integration


def _rate_limit(value: Any) -> Any:
    if value is None:
        return None
    ok = isinstance(value, dict) and value.get("unit") in RATE_UNITS and isinstance(value.get("max"), int)
    if not ok or value.get("strategy", "spread") not in ("spread", "burst"):
        raise bad_request("rateLimit is {unit: day|hour|minute|second, max: int, strategy: spread|burst}")
    return value


# -- connectors ----------------------------------------------------------------------
def list_connectors(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    sql, params = "SELECT * FROM connectors WHERE workspace_uuid = ? AND deleted_at IS NULL", [req.ctx.workspace_uuid]
    if isinstance(req.query.get("integrationSlug"), str):
        sql += " AND integration_slug = ?"
        params.append(req.query["integrationSlug"])
    return {"connectors": [connector_json(db, r) for r in db.all(sql + " ORDER BY created_at, slug", params)]}


def get_connector(req: Request) -> dict[str, Any]:
    db = req.ctx.db
    return {"connector": connector_json(db, _connector(db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_connector(req: Request) -> dict[str, Any]:
    db, ws, body, now = req.ctx.db, req.ctx.workspace_uuid, req.body(), iso(req.ctx.clock())
    name = require(body, "name")
    slug = check_identifier(require(body, "slug"), "connector slug")
    integration = _integration(require(body, "integrationSlug"))
    config = body.get("config")
    if config is not None and not isinstance(config, dict):
        raise bad_request("config must be an object", "invalidConfig")
    use_credits = config is None
    if use_credits and not integration["connector"]["credits"]["isCompatible"]:
        needed = integration["connector"]["config"]["jsonSchema"]["required"]
        if needed:
            raise bad_request(
                f"{integration['name']} has no credit-based access: pass config with {', '.join(needed)}",
                "invalidConfig",
            )
        config, use_credits = {}, False
    if db.scalar("SELECT 1 FROM connectors WHERE workspace_uuid = ? AND slug = ? AND deleted_at IS NULL", (ws, slug)):
        raise ApiError(400, f"A connector with slug {slug!r} already exists", "duplicateSlug")
    if db.scalar("SELECT 1 FROM datasets WHERE workspace_uuid = ? AND slug = ? AND deleted_at IS NULL", (ws, slug)):
        raise ApiError(400, f"A dataset named {slug!r} already exists; pick another connector slug", "duplicateSlug")
    ttl = body.get("cacheTtlMilliseconds")
    if ttl is not None and (not isinstance(ttl, int) or ttl < 0):
        raise bad_request("cacheTtlMilliseconds must be a non-negative integer")
    uuid, dataset = new_uuid(), new_uuid()
    first = not db.scalar(
        "SELECT 1 FROM connectors WHERE workspace_uuid = ? AND integration_slug = ? AND deleted_at IS NULL",
        (ws, integration["slug"]),
    )
    with db.transaction():
        db.execute(
            "INSERT INTO connectors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                uuid,
                ws,
                req.ctx.user_uuid,
                name,
                slug,
                integration["slug"],
                int(use_credits),
                int(first),
                None if use_credits else dumps(config),
                dumps(_rate_limit(body.get("rateLimit"))),
                ttl,
                now,
                now,
            ),
        )
        db.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?, 'connector', ?, ?, ?, NULL)",
            (dataset, ws, slug, name, uuid, now, now),
        )
    from cargo_shell.sandbox.domains.storage_models import dataset_json

    dataset_row = db.one("SELECT * FROM datasets WHERE uuid = ?", (dataset,))
    assert dataset_row is not None
    return {"connector": connector_json(db, _connector(db, ws, uuid)), "dataset": dataset_json(dataset_row)}


def update_connector(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _connector(db, ws, req.path_params["uuid"])
    name = body.get("name", row["name"])
    if not isinstance(name, str) or not name:
        raise bad_request("name must be a non-empty string")
    config = optional(body, "config", dict) if "config" in body else loads(row["config"])
    use_credits = row["use_credits"] if "config" not in body else int(config is None)
    is_default = optional(body, "isDefault", bool, bool(row["is_default"]))
    rate = _rate_limit(body.get("rateLimit", loads(row["rate_limit"])))
    with db.transaction():
        if is_default:
            db.execute(
                "UPDATE connectors SET is_default = 0 WHERE workspace_uuid = ? AND integration_slug = ?",
                (ws, row["integration_slug"]),
            )
        db.execute(
            "UPDATE connectors SET name = ?, config = ?, use_credits = ?, is_default = ?, rate_limit = ?,"
            " cache_ttl_ms = ?, updated_at = ? WHERE uuid = ?",
            (
                name,
                dumps(config) if config is not None else None,
                use_credits,
                int(bool(is_default)),
                dumps(rate),
                optional(body, "cacheTtlMilliseconds", int, row["cache_ttl_ms"]),
                iso(req.ctx.clock()),
                row["uuid"],
            ),
        )
    return {"connector": connector_json(db, _connector(db, ws, row["uuid"]))}


def remove_connector(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _connector(db, ws, req.path_params["uuid"])
    used = connector_json(db, row)
    if used["playsCount"] or used["toolsCount"]:
        raise ApiError(400, "Plays or tools still use this connector", "connectorIsUsedInWorkflows")
    if used["modelsCount"]:
        raise ApiError(400, "Models still sync from this connector", "connectorIsUsedInModels")
    now = iso(req.ctx.clock())
    with db.transaction():
        db.execute("UPDATE connectors SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
        db.execute("UPDATE datasets SET deleted_at = ? WHERE connector_uuid = ?", (now, row["uuid"]))
    return JsonResponse({})


def exists_by_slug(req: Request) -> dict[str, Any]:
    slug = req.query.get("slug")
    if not isinstance(slug, str) or not slug:
        raise bad_request("slug is required", "missingField")
    found = req.ctx.db.scalar(
        "SELECT 1 FROM connectors WHERE workspace_uuid = ? AND slug = ? AND deleted_at IS NULL",
        (req.ctx.workspace_uuid, slug),
    )
    return {"exists": found is not None}


def autocomplete(req: Request) -> dict[str, Any]:
    db, body = req.ctx.db, req.body()
    row = _connector(db, req.ctx.workspace_uuid, req.path_params["connectorUuid"])
    slug = require(body, "slug")
    if not isinstance(body.get("params", {}), dict):
        raise bad_request("params must be an object")
    options = _integration(row["integration_slug"]).get("sandboxOptions", {}).get(slug)
    if options is None:
        raise ApiError(
            400,
            f"Integration {row['integration_slug']} has no autocomplete {slug!r}",
            "failedToGetIntegrationAutocomplete",
        )
    needle = str(body.get("value") or "").lower()
    return {"results": [o for o in options if needle in o["label"].lower() or needle in o["value"].lower()]}


# -- integrations --------------------------------------------------------------------
def list_integrations(req: Request) -> dict[str, Any]:
    q = req.query
    items = list(INTEGRATIONS.values())
    if isinstance(q.get("category"), str):
        items = [i for i in items if i["category"] == q["category"]]
    if isinstance(q.get("slug"), str):
        items = [i for i in items if i["slug"] == q["slug"]]
    if isinstance(q.get("search"), str):
        needle = q["search"].lower()
        items = [i for i in items if needle in i["name"].lower() or needle in i["description"].lower()]
    for flag, key in (("hasActions", "actions"), ("hasExtractors", "extractors")):
        if isinstance(q.get(flag), str):
            want = q[flag].lower() == "true"
            items = [i for i in items if bool(i[key]) == want]
    return {"integrations": [public(i) for i in items]}


def get_integration(req: Request) -> dict[str, Any]:
    return {"integration": public(_integration(req.path_params["slug"]))}


def integration_documentation(req: Request) -> StreamResponse:
    text = documentation(_integration(req.path_params["slug"]))
    return StreamResponse([text.encode()], "text/markdown; charset=utf-8")


def complete_oauth(req: Request) -> JsonResponse:
    _integration(req.path_params["slug"])
    raise ApiError(
        UNAVAILABLE_STATUS,
        "OAuth cannot be completed in the sandbox: it needs the provider's authorization server."
        " Create the connector with config credentials instead.",
        "unavailableInSandbox",
    )


def get_native_integration(req: Request) -> dict[str, Any]:
    return {"nativeIntegration": native_integration()}


def register(router: Router) -> None:
    r = router.route
    r("GET", "/v1/connection/connectors/list")(list_connectors)
    r("GET", "/v1/connection/connectors/existsBySlug")(exists_by_slug)
    r("GET", "/v1/connection/connectors/{uuid}")(get_connector)
    r("POST", "/v1/connection/connectors")(create_connector)
    r("PUT", "/v1/connection/connectors/{uuid}")(update_connector)
    r("DELETE", "/v1/connection/connectors/{uuid}")(remove_connector)
    r("POST", "/v1/connection/connectors/{connectorUuid}/autocomplete")(autocomplete)
    r("GET", "/v1/connection/integrations/list")(list_integrations)
    r("GET", "/v1/connection/integrations/{slug}")(get_integration)
    r("GET", "/v1/connection/integrations/{slug}/documentation")(integration_documentation)
    r("POST", "/v1/connection/integrations/{slug}/completeOauth")(complete_oauth)
    r("GET", "/v1/connection/nativeIntegrations")(get_native_integration)
