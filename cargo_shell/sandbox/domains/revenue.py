"""Revenue organization: the revenue team's members and the territories records are routed to.

All of it is Cargo's own state, served for real. Members are their own objects (not workspace
users): the seeded team holds the demo workspace's users plus sales reps who have no Cargo login.
``member sync`` without a connector brings the members up to date with the workspace's users
(the identity provider the sandbox holds); from a CRM connector it would need that CRM's user
list: 422 ``unavailableInSandbox``. Capacities and allocations are in ``revenue_capacities``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.domains import revenue_capacities
from cargo_shell.sandbox.domains.revenue_capacities import color
from cargo_shell.sandbox.fields import objects, optional, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request, unavailable
from cargo_shell.sandbox.util import iso, live_row, live_rows, new_uuid, require


@register_migration("451_revenue_organization_tables")
def _m451(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE revenue_members (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, user_uuid TEXT,"
        " email TEXT NOT NULL, first_name TEXT, last_name TEXT, profile_image TEXT, connectors TEXT NOT NULL,"
        " meta TEXT, archived_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE revenue_territories (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, label TEXT NOT NULL,"
        " color TEXT NOT NULL, description TEXT, members TEXT NOT NULL, fallback_member_uuid TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE revenue_capacities (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, name TEXT NOT NULL,"
        " color TEXT NOT NULL, description TEXT, member_capacity INTEGER, expiration_policy TEXT, model_uuid TEXT,"
        " id_column_slug TEXT, time_column_slug TEXT, filter TEXT, synced_at TEXT, created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL, deleted_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE revenue_allocations (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL,"
        " member_uuid TEXT NOT NULL, is_fallback_member INTEGER NOT NULL, allocated_by TEXT NOT NULL,"
        " capacity_uuid TEXT, record_ids TEXT NOT NULL, allocated_at TEXT NOT NULL, synced_at TEXT NOT NULL,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT)"
    )


# -- members ---------------------------------------------------------------------------------
def member_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "profileImage": row["profile_image"],
        "email": row["email"],
        "connectors": loads(row["connectors"], []),
        "meta": loads(row["meta"]),
        "workspaceUuid": row["workspace_uuid"],
        "archivedAt": row["archived_at"],
        "createdAt": row["created_at"],
    }


def member_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    if not isinstance(uuid, str):
        raise bad_request("A member reference must be a uuid string", "invalidField")
    row = db.one("SELECT * FROM revenue_members WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise ApiError(404, "Member not found", "memberNotFound")
    return row


def list_members(req: Request) -> dict[str, Any]:
    rows = req.ctx.db.all(
        "SELECT * FROM revenue_members WHERE workspace_uuid = ? ORDER BY created_at, email", (req.ctx.workspace_uuid,)
    )
    return {"members": [member_json(r) for r in rows]}


def get_member(req: Request) -> dict[str, Any]:
    return {"member": member_json(member_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def update_member(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = member_row(db, ws, req.path_params["uuid"])
    meta = optional(body, "meta", dict) if "meta" in body else loads(row["meta"])
    db.execute(
        "UPDATE revenue_members SET meta = ?, updated_at = ? WHERE uuid = ?",
        (dumps(meta) if meta is not None else None, iso(req.ctx.clock()), row["uuid"]),
    )
    return {"member": member_json(member_row(db, ws, row["uuid"]))}


def _archiving(archive: bool) -> Any:
    def handler(req: Request) -> dict[str, Any]:
        db, ws = req.ctx.db, req.ctx.workspace_uuid
        row = member_row(db, ws, req.path_params["uuid"])
        now = iso(req.ctx.clock())
        db.execute(
            "UPDATE revenue_members SET archived_at = ?, updated_at = ? WHERE uuid = ?",
            ((row["archived_at"] or now) if archive else None, now, row["uuid"]),
        )
        return {"member": member_json(member_row(db, ws, row["uuid"]))}

    return handler


def sync_members(req: Request) -> JsonResponse:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    connector = uuid_ref(body, "connectorUuid")
    if connector is not None:
        live_row(db, "connectors", ws, connector, "Connector", "connectorNotFound")
        raise unavailable("Syncing members from a CRM connector (the CRM's own user list)")
    now = iso(req.ctx.clock())
    users = db.all(
        "SELECT u.* FROM users u JOIN memberships m ON m.user_uuid = u.uuid WHERE m.workspace_uuid = ?"
        " ORDER BY u.email",
        (ws,),
    )
    with db.transaction():
        for user in users:
            member = db.one(
                "SELECT uuid FROM revenue_members WHERE workspace_uuid = ? AND (user_uuid = ? OR lower(email) = ?)",
                (ws, user["uuid"], user["email"].lower()),
            )
            if member is None:
                db.execute(
                    "INSERT INTO revenue_members VALUES (?, ?, ?, ?, ?, ?, NULL, '[]', NULL, NULL, ?, ?)",
                    (new_uuid(), ws, user["uuid"], user["email"], user["first_name"], user["last_name"], now, now),
                )
            else:
                db.execute(
                    "UPDATE revenue_members SET user_uuid = ?, email = ?, first_name = ?, last_name = ?, updated_at = ?"
                    " WHERE uuid = ?",
                    (user["uuid"], user["email"], user["first_name"], user["last_name"], now, member["uuid"]),
                )
    return JsonResponse({})


# -- territories -----------------------------------------------------------------------------
def territory_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "label": row["label"],
        "color": row["color"],
        "description": row["description"],
        "members": loads(row["members"], []),
        "fallbackMemberUuid": row["fallback_member_uuid"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def _territory(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "revenue_territories", ws, uuid, "Territory", "territoryNotFound")


def _active_member(db: Database, ws: str, uuid: Any, where: str) -> str:
    row = member_row(db, ws, uuid)
    if row["archived_at"]:
        raise bad_request(f"{where}: {row['email']} is archived; unarchive the member first", "memberArchived")
    return str(row["uuid"])


def _territory_members(db: Database, ws: str, value: Any) -> list[dict[str, Any]]:
    members = objects({"members": value}, "members")
    if members is None:
        raise bad_request('members is required: [{"uuid": "<member uuid>", "weight": 1}, ...]', "missingField")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(members):
        uuid = _active_member(db, ws, item.get("uuid"), f"members[{i}]")
        if any(m["uuid"] == uuid for m in out):
            raise bad_request(f"members[{i}]: this member is listed twice", "invalidField")
        weight = optional(item, "weight", float)
        if weight is not None and weight < 0:
            raise bad_request(f"members[{i}]: weight is a share of 0 or more (null: equal shares)", "invalidField")
        out.append({"uuid": uuid, "weight": int(weight) if weight is not None and weight.is_integer() else weight})
    return out


def _fallback(db: Database, ws: str, body: dict[str, Any]) -> str | None:
    uuid = uuid_ref(body, "fallbackMemberUuid")
    return _active_member(db, ws, uuid, "fallbackMemberUuid") if uuid is not None else None


def list_territories(req: Request) -> dict[str, Any]:
    rows = live_rows(req.ctx.db, "revenue_territories", req.ctx.workspace_uuid, "created_at, label")
    return {"territories": [territory_json(r) for r in rows]}


def get_territory(req: Request) -> dict[str, Any]:
    return {"territory": territory_json(_territory(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_territory(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    label, hue = require(body, "label"), color(body, required=True)
    members = _territory_members(db, ws, body.get("members"))
    fallback = _fallback(db, ws, body)
    uuid, now = new_uuid(), iso(req.ctx.clock())
    db.execute(
        "INSERT INTO revenue_territories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (uuid, ws, label, hue, text(body, "description"), dumps(members), fallback, now, now),
    )
    return {"territory": territory_json(_territory(db, ws, uuid))}


def update_territory(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _territory(db, ws, req.path_params["uuid"])
    label = text(body, "label")
    if label == "":
        raise bad_request("label cannot be empty", "invalidField")
    changes: dict[str, Any] = {"label": label or row["label"], "color": color(body, required=False) or row["color"]}
    if "description" in body:
        changes["description"] = text(body, "description")
    if body.get("members") is not None:
        changes["members"] = dumps(_territory_members(db, ws, body["members"]))
    if "fallbackMemberUuid" in body:
        changes["fallback_member_uuid"] = _fallback(db, ws, body)
    changes["updated_at"] = iso(req.ctx.clock())
    sets = ", ".join(f"{column} = ?" for column in changes)
    db.execute(f"UPDATE revenue_territories SET {sets} WHERE uuid = ?", [*changes.values(), row["uuid"]])
    return {"territory": territory_json(_territory(db, ws, row["uuid"]))}


def remove_territory(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _territory(db, ws, req.path_params["uuid"])
    now = iso(req.ctx.clock())
    db.execute("UPDATE revenue_territories SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
    return JsonResponse({})


def register(router: Router) -> None:
    r = router.route
    members, territories = "/v1/revenueOrganization/members", "/v1/revenueOrganization/territories"
    r("GET", f"{members}/list")(list_members)
    r("POST", f"{members}/sync")(sync_members)
    r("GET", f"{members}/{{uuid}}")(get_member)
    r("PUT", f"{members}/{{uuid}}")(update_member)
    r("POST", f"{members}/{{uuid}}/archive")(_archiving(True))
    r("POST", f"{members}/{{uuid}}/unarchive")(_archiving(False))
    r("GET", f"{territories}/list")(list_territories)
    r("POST", territories)(create_territory)
    r("GET", f"{territories}/{{uuid}}")(get_territory)
    r("PUT", f"{territories}/{{uuid}}")(update_territory)
    r("DELETE", f"{territories}/{{uuid}}")(remove_territory)
    revenue_capacities.register(router)
