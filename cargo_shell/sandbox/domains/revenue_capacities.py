"""Capacities (how many records of a model each member holds) and allocations (who holds which).

A capacity names a real storage model; its id and time columns are checked against the model's
columns and its filter is compiled against the model like a segment's (``invalidFilter``), so a
capacity that reads fine here also selects real records. Allocations list the ``_id`` values of
that model's records; the demo ones were made by the seeded capacities (workflows that allocate
through territories would add more on the platform).
"""

from __future__ import annotations

import re
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains.segmentation import count_records
from cargo_shell.sandbox.fields import optional, strings, text, uuid_ref
from cargo_shell.sandbox.http import ApiError, JsonResponse, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, live_row, live_rows, new_uuid, require
from cargo_shell.sandbox.warehouse import load_model

COLORS = ("orange", "red", "purple", "green", "yellow", "grey")
#: interval -> the keys a policy of that interval may have besides ``interval``
POLICY_KEYS = {
    "hourly": ("minute",),
    "daily": ("time",),
    "weekly": ("time", "weekDay"),
    "monthly": ("time", "day"),
    "quarterly": ("time", "day", "month"),
    "yearly": ("time", "day", "month"),
}
POLICY_RANGES = {"minute": (0, 59), "weekDay": (0, 6), "day": (1, 31), "month": (1, 12)}
TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


def capacity_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "name": row["name"],
        "color": row["color"],
        "description": row["description"],
        "memberCapacity": row["member_capacity"],
        "allocationExpirationPolicy": loads(row["expiration_policy"]),
        "modelUuid": row["model_uuid"],
        "idColumnSlug": row["id_column_slug"],
        "timeColumnSlug": row["time_column_slug"],
        "filter": loads(row["filter"]),
        "syncedAt": row["synced_at"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def _capacity(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "revenue_capacities", ws, uuid, "Capacity", "capacityNotFound")


def check_policy_interval(value: dict[str, Any]) -> str | None:
    interval = value.get("interval")
    return interval if isinstance(interval, str) and interval in POLICY_KEYS else None


def check_policy(value: Any, field: str = "allocationExpirationPolicy") -> dict[str, Any] | None:
    """An expiration policy ({interval, ...} with the keys its interval allows), or None."""
    if value is None:
        return None
    if not isinstance(value, dict) or check_policy_interval(value) is None:
        raise bad_request(f"{field}.interval must be one of {', '.join(POLICY_KEYS)}", "invalidField")
    allowed = POLICY_KEYS[value["interval"]]
    extra = sorted(set(value) - {"interval", *allowed})
    if extra:
        raise bad_request(f"{field}: a {value['interval']} policy takes {', '.join(allowed)}, not {extra}")
    for key in allowed:
        if key not in value:
            continue
        if key == "time":
            if not isinstance(value[key], str) or not TIME_RE.match(value[key]):
                raise bad_request(f"{field}.time is HH:MM (24 h, UTC)", "invalidField")
            continue
        low, high = POLICY_RANGES[key]
        number = optional(value, key, int)
        if number is None or not low <= number <= high:
            raise bad_request(f"{field}.{key} is an integer from {low} to {high}", "invalidField")
    return value


def color(body: dict[str, Any], required: bool) -> str | None:
    value = body.get("color")
    if value is None and not required:
        return None
    if value not in COLORS:
        raise bad_request(f"color must be one of {', '.join(COLORS)}", "invalidField")
    return str(value)


def _settings(db: Database, ws: str, body: dict[str, Any], row: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """The capacity's model, columns, filter, limit and policy after this request, checked together
    (a field the request leaves out keeps its current value)."""

    def after(field: str, column: str) -> Any:
        if field in body:
            return body[field]
        return row[column] if row is not None else None

    model_uuid = uuid_ref(body, "modelUuid") if "modelUuid" in body else after("modelUuid", "model_uuid")
    model = load_model(db, ws, model_uuid) if model_uuid is not None else None
    id_slug, time_slug = after("idColumnSlug", "id_column_slug"), after("timeColumnSlug", "time_column_slug")
    for slug, reason, what in ((id_slug, "invalidIdColumnSlug", "idColumnSlug"),
                               (time_slug, "invalidTimeColumnSlug", "timeColumnSlug")):  # fmt: skip
        if slug is None:
            continue
        if not isinstance(slug, str) or model is None or not model.has_column(slug):
            where = f"model {model.slug}" if model is not None else "the capacity, which has no model"
            raise bad_request(f"{what} {str(slug)[:80]!r} is not a column of {where}", reason)
        if what == "timeColumnSlug" and model.column(slug).type != "date":
            raise bad_request(f"timeColumnSlug {slug!r} is a {model.column(slug).type} column, not a date", reason)
    flt = body["filter"] if "filter" in body else (loads(row["filter"]) if row is not None else None)
    if flt is not None:
        if not isinstance(flt, dict):
            raise bad_request("filter must be a filter object {conjonction, groups} or null", "invalidFilter")
        groups = flt.get("groups")
        if isinstance(groups, list) and not any(isinstance(g, dict) and g.get("conditions") for g in groups):
            raise bad_request("The filter has no condition: send null to count every record", "emptyFilter")
        if model is None:
            raise bad_request("A filter needs the capacity's model (modelUuid)", "invalidFilter")
        try:
            count_records(db, model, flt, None, now)
        except ApiError as exc:
            if exc.status != 400:
                raise
            raise bad_request(f"Invalid filter: {exc.message}", "invalidFilter") from None
    if "memberCapacity" in body:
        limit = optional(body, "memberCapacity", float)
        if limit is not None and (limit < 1 or not limit.is_integer() or limit > 1_000_000_000):
            raise bad_request("memberCapacity is a whole number of records, at least 1", "invalidField")
        member_capacity = int(limit) if limit is not None else None
    else:
        member_capacity = row["member_capacity"] if row is not None else None
    policy_field = "allocationExpirationPolicy"
    if policy_field in body:
        policy = check_policy(body[policy_field])
        expiration = dumps(policy) if policy is not None else None
    else:
        expiration = row["expiration_policy"] if row is not None else None
    return {
        "model_uuid": model_uuid,
        "id_column_slug": id_slug,
        "time_column_slug": time_slug,
        "filter": dumps(flt) if flt is not None else None,
        "member_capacity": member_capacity,
        "expiration_policy": expiration,
    }


def list_capacities(req: Request) -> dict[str, Any]:
    rows = live_rows(req.ctx.db, "revenue_capacities", req.ctx.workspace_uuid, "created_at, name")
    return {"capacities": [capacity_json(r) for r in rows]}


def get_capacity(req: Request) -> dict[str, Any]:
    return {"capacity": capacity_json(_capacity(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_capacity(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    name, hue = require(body, "name"), color(body, required=True)
    settings = _settings(db, ws, body, None, req.ctx.clock())
    uuid, now = new_uuid(), iso(req.ctx.clock())
    columns = {"uuid": uuid, "workspace_uuid": ws, "name": name, "color": hue,
               "description": text(body, "description"), **settings, "synced_at": None, "created_at": now,
               "updated_at": now}  # fmt: skip
    db.execute(
        f"INSERT INTO revenue_capacities ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        list(columns.values()),
    )
    return {"capacity": capacity_json(_capacity(db, ws, uuid))}


def update_capacity(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _capacity(db, ws, req.path_params["uuid"])
    if "filter" not in body:
        raise bad_request("filter is required on every update (null removes the filter)", "missingField")
    name = text(body, "name")
    if name == "":
        raise bad_request("name cannot be empty", "invalidField")
    hue = color(body, required=False) or row["color"]
    changes = {"name": name or row["name"], "color": hue, **_settings(db, ws, body, row, req.ctx.clock())}
    if "description" in body:
        changes["description"] = text(body, "description")
    changes["updated_at"] = iso(req.ctx.clock())
    sets = ", ".join(f"{column} = ?" for column in changes)
    db.execute(f"UPDATE revenue_capacities SET {sets} WHERE uuid = ?", [*changes.values(), row["uuid"]])
    return {"capacity": capacity_json(_capacity(db, ws, row["uuid"]))}


def remove_capacity(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _capacity(db, ws, req.path_params["uuid"])
    now = iso(req.ctx.clock())
    with db.transaction():
        db.execute(
            "UPDATE revenue_capacities SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"])
        )
        db.execute("UPDATE revenue_allocations SET capacity_uuid = NULL WHERE capacity_uuid = ?", (row["uuid"],))
    return JsonResponse({})


# -- allocations -----------------------------------------------------------------------------
def allocation_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "memberUuid": row["member_uuid"],
        "isFallbackMember": bool(row["is_fallback_member"]),
        "workspaceUuid": row["workspace_uuid"],
        "allocatedBy": loads(row["allocated_by"]),
        "capacityUuid": row["capacity_uuid"],
        "recordIds": loads(row["record_ids"], []),
        "allocatedAt": row["allocated_at"],
        "syncedAt": row["synced_at"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def _allocation(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "revenue_allocations", ws, uuid, "Allocation", "allocationNotFound")


def _policy_matches(wanted: dict[str, Any], stored: Any) -> bool:
    policy = loads(stored) if isinstance(stored, str) else None
    return isinstance(policy, dict) and all(str(policy.get(k)) == str(v) for k, v in wanted.items())


def list_allocations(req: Request) -> dict[str, Any]:
    db, ws, query = req.ctx.db, req.ctx.workspace_uuid, req.query
    sql = (
        "SELECT a.*, c.expiration_policy FROM revenue_allocations a LEFT JOIN revenue_capacities c"
        " ON c.uuid = a.capacity_uuid WHERE a.workspace_uuid = ? AND a.deleted_at IS NULL"
    )
    params: list[Any] = [ws]
    capacity = uuid_ref(query, "capacityUuid")
    if capacity is not None:
        sql += " AND a.capacity_uuid = ?"
        params.append(capacity)
    members = strings(query, "membersUuids")
    if members is not None:
        sql += f" AND a.member_uuid IN ({', '.join('?' for _ in members)})" if members else " AND 0"
        params += members
    territory = uuid_ref(query, "territoryUuid")
    if territory is not None:
        sql += " AND json_extract(a.allocated_by, '$.territoryUuid') = ?"
        params.append(territory)
    wanted = query.get("expirationPolicy")
    if wanted is not None and (not isinstance(wanted, dict) or check_policy_interval(wanted) is None):
        raise bad_request(f"expirationPolicy[interval] must be one of {', '.join(POLICY_KEYS)}", "invalidField")
    limit = as_int(query.get("limit"), "limit", 100, maximum=1000)
    offset = as_int(query.get("offset"), "offset", 0)
    rows = db.all(sql + " ORDER BY a.allocated_at, a.uuid", params)
    if wanted is not None:
        rows = [r for r in rows if _policy_matches(wanted, r["expiration_policy"])]
    return {"allocations": [allocation_json(r) for r in rows[offset : offset + limit]]}


def get_allocation(req: Request) -> dict[str, Any]:
    return {"allocation": allocation_json(_allocation(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def remove_allocation(req: Request) -> JsonResponse:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _allocation(db, ws, req.path_params["uuid"])
    now = iso(req.ctx.clock())
    db.execute("UPDATE revenue_allocations SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (now, now, row["uuid"]))
    return JsonResponse({})


def register(router: Router) -> None:
    r = router.route
    capacities, allocations = "/v1/revenueOrganization/capacities", "/v1/revenueOrganization/allocations"
    r("GET", f"{capacities}/list")(list_capacities)
    r("POST", capacities)(create_capacity)
    r("GET", f"{capacities}/{{uuid}}")(get_capacity)
    r("PUT", f"{capacities}/{{uuid}}")(update_capacity)
    r("DELETE", f"{capacities}/{{uuid}}")(remove_capacity)
    r("GET", f"{allocations}/list")(list_allocations)
    r("GET", f"{allocations}/{{uuid}}")(get_allocation)
    r("DELETE", f"{allocations}/{{uuid}}")(remove_allocation)
