"""Systems of record as stored objects: the warehouse kinds, and create/get/update/remove.

The sandbox's own warehouse (SQLite, presented as BigQuery) is the workspace's active system of
record. A BigQuery or Snowflake system of record can be created and edited as Cargo stores it: its
config is checked against the client's declared shapes and its secrets are kept only masked (the
sandbox never connects to it, so it stays inactive). Migrating the workspace's tables into one, and
cutting over to it, is work the outside warehouse does: 422 ``unavailableInSandbox``.
"""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains.system_of_record import system_json
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request, not_found, unavailable
from cargo_shell.sandbox.util import iso, new_uuid, require

MASKED = {"type": "encryption", "isEncrypted": True, "value": "********"}
SNOWFLAKE_BASE = ("account", "database", "role", "user", "warehouse")
#: kind → the config shapes the client declares: (fixed keys, required fields, optional fields, secret fields).
SHAPES: dict[str, list[tuple[dict[str, str], tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "bigQuery": [
        ({"scope": "project"}, ("location", "prefix", "storageBucketName"), (), ("stringifiedServiceAccount",)),
        ({"scope": "dataset"}, ("datasetName", "location", "storageBucketName"), (), ("stringifiedServiceAccount",)),
    ],
    "snowflake": [
        ({"scope": scope, "authentication": "password"}, SNOWFLAKE_BASE + extra, ("statementTimeoutSeconds",),
         ("password",))
        for scope, extra in (("schema", ("schema",)), ("database", ()))
    ] + [
        ({"scope": scope, "authentication": "rsa"}, SNOWFLAKE_BASE + extra, ("statementTimeoutSeconds", "passphrase"),
         ("privateKey",))
        for scope, extra in (("schema", ("schema",)), ("database", ()))
    ],
}  # fmt: skip
NAMES = {"bigQuery": "Google BigQuery", "snowflake": "Snowflake"}
#: Fields that say which warehouse it is: one warehouse serves one workspace.
IDENTITY = ("prefix", "datasetName", "account", "database", "schema")


def _shape_schema(
    fixed: dict[str, str], required: tuple[str, ...], optional: tuple[str, ...], secrets: tuple[str, ...]
) -> dict[str, Any]:
    props: dict[str, Any] = {key: {"const": value} for key, value in fixed.items()}
    props.update({name: {"type": "string"} for name in required + secrets})
    props.update({name: {"type": "number" if name.endswith("Seconds") else "string"} for name in optional})
    return {"type": "object", "properties": props, "required": sorted([*fixed, *required, *secrets])}


def manifest(kind: str) -> dict[str, Any]:
    schema = {"oneOf": [_shape_schema(*shape) for shape in SHAPES[kind]]}
    return {
        "slug": kind,
        "name": NAMES[kind],
        "description": f"Connect a {NAMES[kind]} warehouse as the workspace's system of record (stored by the "
        "sandbox, never connected: queries run on the sandbox's own warehouse)",
        "icon": kind.lower(),
        "config": {"jsonSchema": schema, "uiSchema": {}},
    }


def list_clients(req: Request) -> dict[str, Any]:
    return {"clients": [manifest(kind) for kind in SHAPES]}


def _checked_config(kind: str, config: Any) -> dict[str, Any]:
    """The config when it has one of the kind's declared shapes, secrets masked; 400 saying what is off."""
    if not isinstance(config, dict):
        raise bad_request("config must be an object", "invalidConfig")
    problems = []
    for fixed, required, optional, secrets in SHAPES[kind]:
        if any(config.get(k) != v for k, v in fixed.items()):
            continue
        missing = [name for name in (*required, *secrets) if config.get(name) in (None, "")]
        wrong = [
            name
            for name in (*required, *optional)
            if name in config and not isinstance(config[name], (int | float) if name.endswith("Seconds") else str)
        ]
        if not missing and not wrong:
            out = {k: config[k] for k in (*fixed, *required, *optional) if k in config}
            out.update({name: MASKED for name in secrets if name in config})
            return out
        problems.append(f"{fixed}: missing {missing}" if missing else f"{fixed}: wrong type for {wrong}")
    scopes = "; ".join(", ".join(f"{k}={v}" for k, v in fixed.items()) for fixed, *_ in SHAPES[kind])
    detail = f" ({'; '.join(problems)})" if problems else ""
    raise bad_request(f"config does not match a {kind} shape ({scopes}){detail}", "invalidConfig")


def _identity(kind: str, config: dict[str, Any]) -> str:
    return dumps([kind, *(config.get(k) for k in IDENTITY)])


def _system(db: Database, ws: str, uuid: str) -> dict[str, Any]:
    row = db.one(
        "SELECT * FROM system_of_records WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (uuid, ws)
    )
    if row is None:
        raise not_found("System of record", "systemOfRecordNotFound")
    return row


def _is_builtin(row: dict[str, Any]) -> bool:
    return bool(row["kind"] == "sqlite")


def create_system(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    kind = require(body, "kind")
    if kind not in SHAPES:
        raise bad_request(f"kind takes {' or '.join(SHAPES)}, not {kind!r}", "invalidField")
    config = _checked_config(kind, body.get("config"))
    identity = _identity(kind, config)
    for other in db.all(
        "SELECT workspace_uuid, kind, data FROM system_of_records WHERE workspace_uuid != ? AND deleted_at IS NULL",
        (ws,),
    ):
        if other["kind"] == kind and _identity(kind, loads(other["data"], {}).get("config", {})) == identity:
            raise ApiError(
                400, "This warehouse is already the system of record of another workspace",
                "systemOfRecordAlreadyUsedByAnotherWorkspace",
            )  # fmt: skip
    uuid, now = new_uuid(), iso(req.ctx.clock())
    data = {"config": config, "isActive": False, "useCredits": False, "lastMigration": None, "cutover": None}
    slug = f"{kind.lower()}_{uuid[:8]}"
    db.execute(
        "INSERT INTO system_of_records (uuid, workspace_uuid, slug, name, kind, data, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (uuid, ws, slug, NAMES[kind], kind, dumps(data), now, now),
    )
    return {"systemOfRecord": system_json(_system(db, ws, uuid))}


def get_system(req: Request) -> dict[str, Any]:
    return {"systemOfRecord": system_json(_system(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def update_system(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _system(db, ws, req.path_params["uuid"])
    if _is_builtin(row):
        raise bad_request("The sandbox's own warehouse has a fixed configuration", "invalidConfig")
    data = loads(row["data"], {})
    # a secret not sent again stays as it was (it is only ever answered masked)
    secrets = {k: v for k, v in data.get("config", {}).items() if v == MASKED}
    data["config"] = _checked_config(row["kind"], {**secrets, **require(body, "config", dict)})
    db.execute(
        "UPDATE system_of_records SET data = ?, updated_at = ? WHERE uuid = ?",
        (dumps(data), iso(req.ctx.clock()), row["uuid"]),
    )
    return {"systemOfRecord": system_json(_system(db, ws, row["uuid"]))}


def remove_system(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _system(db, ws, req.path_params["uuid"])
    if loads(row["data"], {}).get("isActive"):
        raise ApiError(
            400, "This is the workspace's active system of record: its queries run there; it cannot be removed",
            "systemOfRecordIsActive",
        )  # fmt: skip
    now = iso(req.ctx.clock())
    db.execute("UPDATE system_of_records SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
    removed = db.one("SELECT * FROM system_of_records WHERE uuid = ?", (row["uuid"],))
    assert removed is not None
    return {"systemOfRecord": system_json(removed)}


def _move(req: Request, what: str) -> JsonResponse:
    row = _system(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    if loads(row["data"], {}).get("isActive"):
        raise ApiError(
            400, "This is the workspace's active system of record: it already holds the tables (migrate and cut "
            "over to another system of record)", "systemOfRecordIsActive",
        )  # fmt: skip
    kind = NAMES.get(row["kind"], row["kind"])
    raise unavailable(f"{what.capitalize()} to the {kind} warehouse {row['slug']!r} (the work is that warehouse's)")


def migrate_system(req: Request) -> JsonResponse:
    return _move(req, "copying the workspace's tables")


def cutover_system(req: Request) -> JsonResponse:
    return _move(req, "switching the workspace's queries")


def register(router: Router) -> None:
    r = router.route
    base = "/v1/systemOfRecordIntegration"
    r("GET", f"{base}/clients/list")(list_clients)
    r("POST", f"{base}/systemOfRecords")(create_system)
    r("GET", f"{base}/systemOfRecords/{{uuid}}")(get_system)
    r("PUT", f"{base}/systemOfRecords/{{uuid}}")(update_system)
    r("DELETE", f"{base}/systemOfRecords/{{uuid}}")(remove_system)
    r("POST", f"{base}/systemOfRecords/{{uuid}}/migrate")(migrate_system)
    r("POST", f"{base}/systemOfRecords/{{uuid}}/cutover")(cutover_system)
