"""Plays (segment-driven workflows): get, create, update, remove.

Creating a play creates, as the platform does, its own segment on the model (``fromPlay``: it is
edited through the play, not ``segment update``), its workflow and a first draft release. A new play
is disabled: it can be enabled once a release is deployed (``playNotDeployed`` before). Schedules
are checked and stored (cron and watch ones get the schedule id the client's type requires); the
sandbox does not fire them: start a play's work with ``batch create``.
"""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads
from cargo_shell.sandbox.domains.orchestration_owners import (
    create_workflow,
    remove_workflow,
    require_workflow,
    update_workflow,
)
from cargo_shell.sandbox.domains.orchestration_views import play_json
from cargo_shell.sandbox.domains.segmentation import count_records
from cargo_shell.sandbox.domains.segmentation_tracking import record_change
from cargo_shell.sandbox.engine.cron import CronError, parse
from cargo_shell.sandbox.fields import objects, optional, strings, text
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request
from cargo_shell.sandbox.records import build_query
from cargo_shell.sandbox.util import as_int, check_folder, iso, live_row, new_uuid, require, slugify
from cargo_shell.sandbox.warehouse import ModelInfo, load_model

CHANGE_KINDS = ("added", "removed", "unchanged", "updated")
RUN_CREATION_RULES = ("always", "noConcurrency", "once")
ACTION_KINDS = ("native", "connector", "tool", "agent")
MATCH_ALL = {"conjonction": "and", "groups": []}


def play_row(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "wf_plays", ws, uuid, "Play", "playNotFound")


def _enum_list(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> list[str] | None:
    values = strings(body, name)
    for value in values or []:
        if value not in allowed:
            raise bad_request(f"{name}: {value!r} is not one of {', '.join(allowed)}", "invalidField")
    return values


def _enum(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = text(body, name)
    if value is not None and value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}", "invalidField")
    return value


def _schedule(db: Database, ws: str, value: Any, play_uuid: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, "schedule must be an object with a type", "failedToSchedule")
    kind = value.get("type")
    schedule_id = f"sandbox-play-{play_uuid}-schedule"
    if kind == "cron":
        try:
            cron = parse(str(value.get("cron") or ""))
        except CronError as exc:
            raise ApiError(400, f"schedule.cron: {exc}", "failedToSchedule") from None
        return {"type": "cron", "cron": cron.text, "temporalScheduleWorkflowId": schedule_id}
    if kind == "watch":
        meta = value.get("meta")
        return {"type": "watch", "temporalScheduleWorkflowId": schedule_id, **({"meta": meta} if meta else {})}
    if kind == "dbt" and isinstance(value.get("jobId"), str) and value["jobId"]:
        return {"type": "dbt", "jobId": value["jobId"]}
    if kind == "dependency" and isinstance(value.get("playUuid"), str):
        other = value["playUuid"]
        if (
            other == play_uuid
            or db.scalar(
                "SELECT 1 FROM wf_plays WHERE uuid = ? AND workspace_uuid = ? AND deleted_at IS NULL", (other, ws)
            )
            is None
        ):
            raise ApiError(400, f"schedule.playUuid {other} is not another play of this workspace", "failedToSchedule")
        return {"type": "dependency", "playUuid": other}
    if kind == "realtime":
        return {"type": "realtime"}
    raise ApiError(
        400, "schedule must be {type: cron, cron}, {type: watch}, {type: dbt, jobId}, {type: dependency, playUuid}"
        " or {type: realtime}", "failedToSchedule",
    )  # fmt: skip


def _actions(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    actions = objects(body, name) or []
    for i, action in enumerate(actions):
        if action.get("kind") not in ACTION_KINDS or not isinstance(action.get("config"), dict):
            raise bad_request(f"{name}[{i}] must be an action: {{kind: {'|'.join(ACTION_KINDS)}, config: {{}}}}")
    return actions


def _check_segment(db: Database, model: ModelInfo, seg: dict[str, Any], now: float) -> int:
    """Validate a play's filter, sort, limit and tracked columns on its model; returns the count."""
    count = count_records(db, model, seg["filter"], seg["limit"], now)
    build_query(db, model, seg["filter"], seg["sort"], now=now)
    for slug in seg["trackingColumnSlugs"] or []:
        model.column(slug)
    return count


def _segment_fields(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    if "filter" in body:
        out["filter"] = optional(body, "filter", dict) or MATCH_ALL
    if "sort" in body:
        out["sort"] = body["sort"]
    if "limit" in body:
        out["limit"] = None if body["limit"] is None else as_int(body["limit"], "limit")
    if "trackingColumnSlugs" in body:
        out["trackingColumnSlugs"] = strings(body, "trackingColumnSlugs")
    return out


def get_play(req: Request) -> dict[str, Any]:
    return {"play": play_json(play_row(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def create_play(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    db, ws, now = ctx.db, ctx.workspace_uuid, ctx.clock()
    name = require(body, "name")
    model = load_model(db, ws, require(body, "modelUuid"))
    change_kinds = _enum_list(body, "changeKinds", CHANGE_KINDS)
    if change_kinds is None:
        raise bad_request("changeKinds is required (added, removed, unchanged, updated)", "missingField")
    rule = _enum(body, "runCreationRule", RUN_CREATION_RULES)
    if rule is None:
        raise bad_request("runCreationRule is required (always, noConcurrency, once)", "missingField")
    folder = optional(body, "folderUuid", str) or None
    check_folder(db, ws, folder)
    uuid, segment, stamp = new_uuid(), new_uuid(), iso(now)
    seg = _segment_fields(body, {"filter": MATCH_ALL, "sort": None, "limit": None, "trackingColumnSlugs": None})
    count = _check_segment(db, model, seg, now)
    data = {"changeKinds": change_kinds, "runCreationRule": rule, "isEnabled": False, "healthThreshold": 0.5,
            "healthAlertActions": [], "schedule": _schedule(db, ws, body.get("schedule"), uuid)}  # fmt: skip
    with db.transaction():
        base = slugify(name)
        slug, n = base, 1
        while db.scalar(
            "SELECT 1 FROM segments WHERE workspace_uuid = ? AND slug = ? AND deleted_at IS NULL", (ws, slug)
        ):
            n += 1
            slug = f"{base}_{n}"
        db.execute(
            "INSERT INTO segments (uuid, workspace_uuid, user_uuid, model_uuid, slug, name, filter, sort, lim,"
            " from_play, data, records_count, synced_at, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,1,?,?,?,?,?)",
            (segment, ws, ctx.user_uuid, model.uuid, slug, name, dumps(seg["filter"]), dumps(seg["sort"]),
             seg["limit"], dumps({"trackingColumnSlugs": seg["trackingColumnSlugs"], "columnSlugs": None}), count,
             stamp, stamp, stamp),
        )  # fmt: skip
        record_change(db, db.one("SELECT * FROM segments WHERE uuid = ?", (segment,)) or {}, now)
        workflow = create_workflow(db, ws, ctx.user_uuid, "play", folder, stamp)
        db.execute(
            "INSERT INTO wf_plays (uuid, workspace_uuid, workflow_uuid, user_uuid, model_uuid, segment_uuid, name,"
            " description, folder_uuid, data, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (uuid, ws, workflow, ctx.user_uuid, model.uuid, segment, name, text(body, "description"), folder,
             dumps(data), stamp, stamp),
        )  # fmt: skip
    return {"play": play_json(play_row(db, ws, uuid))}


def update_play(req: Request) -> dict[str, Any]:
    from cargo_shell.sandbox.domains.orchestration_workflows import RELEASES

    ctx, body = req.ctx, req.body()
    db, ws, now = ctx.db, ctx.workspace_uuid, ctx.clock()
    row = play_row(db, ws, req.path_params["uuid"])
    data = loads(row["data"], {})
    name = require(body, "name") if "name" in body else row["name"]
    description = text(body, "description") if "description" in body else row["description"]
    folder = row["folder_uuid"]
    if "folderUuid" in body:
        folder = optional(body, "folderUuid", str) or None
        check_folder(db, ws, folder)
    if (kinds := _enum_list(body, "changeKinds", CHANGE_KINDS)) is not None:
        data["changeKinds"] = kinds
    if (rule := _enum(body, "runCreationRule", RUN_CREATION_RULES)) is not None:
        data["runCreationRule"] = rule
    if "schedule" in body:
        data["schedule"] = _schedule(db, ws, body["schedule"], row["uuid"])
    if "healthThreshold" in body:
        data["healthThreshold"] = optional(body, "healthThreshold", float)
    if "healthAlertActions" in body:
        data["healthAlertActions"] = _actions(body, "healthAlertActions")
    if (enabled := optional(body, "isEnabled", bool)) is not None:
        if enabled and RELEASES.deployed(db, ws, row["workflow_uuid"]) is None:
            raise ApiError(400, "You cannot enable a play that has no deployed release", "playNotDeployed")
        data["isEnabled"] = enabled
    segment = db.one("SELECT * FROM segments WHERE uuid = ? AND workspace_uuid = ?", (row["segment_uuid"], ws))
    if segment is None or segment["deleted_at"]:
        raise ApiError(404, "The play's segment is gone", "segmentNotFound")
    current = {"filter": loads(segment["filter"]), "sort": loads(segment["sort"]), "limit": segment["lim"],
               "trackingColumnSlugs": loads(segment["data"], {}).get("trackingColumnSlugs")}  # fmt: skip
    seg = _segment_fields(body, current)
    stamp = iso(now)
    with db.transaction() as conn:
        require_workflow(conn, ws, row["workflow_uuid"])
        if seg != current:
            count = _check_segment(db, load_model(db, ws, row["model_uuid"]), seg, now)
            extra = {**loads(segment["data"], {}), "trackingColumnSlugs": seg["trackingColumnSlugs"]}
            conn.execute(
                "UPDATE segments SET filter = ?, sort = ?, lim = ?, data = ?, records_count = ?, synced_at = ?,"
                " updated_at = ? WHERE uuid = ?",
                (dumps(seg["filter"]), dumps(seg["sort"]), seg["limit"], dumps(extra), count, stamp, stamp,
                 segment["uuid"]),
            )  # fmt: skip
            record_change(db, db.one("SELECT * FROM segments WHERE uuid = ?", (segment["uuid"],)) or {}, now)
        update_workflow(conn, row["workflow_uuid"], {**body, "folderUuid": folder}, stamp)
        conn.execute(
            "UPDATE wf_plays SET name = ?, description = ?, folder_uuid = ?, data = ?, updated_at = ? WHERE uuid = ?",
            (name, description, folder, dumps(data), stamp, row["uuid"]),
        )
    return {"play": play_json(play_row(db, ws, row["uuid"]))}


def remove_play(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    row = play_row(ctx.db, ctx.workspace_uuid, req.path_params["uuid"])
    stamp = iso(ctx.clock())
    with ctx.db.transaction() as conn:
        conn.execute("UPDATE wf_plays SET deleted_at = ?, updated_at = ? WHERE uuid = ?", (stamp, stamp, row["uuid"]))
        conn.execute(
            "UPDATE segments SET deleted_at = ?, updated_at = ?"
            " WHERE uuid = ? AND from_play = 1 AND deleted_at IS NULL",
            (stamp, stamp, row["segment_uuid"]),
        )
        remove_workflow(conn, row["workflow_uuid"], stamp)
    return {}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/orchestration/plays")(create_play)
    r("GET", "/v1/orchestration/plays/{uuid}")(get_play)
    r("PUT", "/v1/orchestration/plays/{uuid}")(update_play)
    r("DELETE", "/v1/orchestration/plays/{uuid}")(remove_play)
