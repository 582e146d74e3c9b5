"""Segment changes from real membership: which records entered, left, changed or stayed.

Each segment keeps its members as of its latest change (record id and a digest of the tracked
columns: ``trackingColumnSlugs``, or every column). A new change evaluates the segment's filter on
the model as it is now and compares: ``added`` (new members), ``removed`` (members no longer
matching or gone), ``updated`` (members whose tracked values differ) and ``unchanged``. Each
change keeps the ids of every kind, so ``change fetch`` and ``change download`` answer real records.
Changes are recorded when a segment is created or edited and when its model syncs (a storage run).
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Iterable
from typing import Any

from cargo_shell.sandbox.db import Database, loads, register_migration
from cargo_shell.sandbox.records import build_query, iterate
from cargo_shell.sandbox.util import iso, new_uuid
from cargo_shell.sandbox.warehouse import load_model

KINDS = ("added", "removed", "unchanged", "updated")


@register_migration("302_segment_members")
def _tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE segment_members (segment_uuid TEXT NOT NULL, record_id TEXT NOT NULL, digest TEXT NOT NULL,"
        " PRIMARY KEY (segment_uuid, record_id))"
    )
    conn.execute(
        "CREATE TABLE change_records (change_uuid TEXT NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL,"
        " PRIMARY KEY (change_uuid, record_id))"
    )
    conn.execute("CREATE INDEX change_records_kind ON change_records (change_uuid, kind, record_id)")


def members_now(db: Database, segment: dict[str, Any], now: float) -> dict[str, str]:
    """Record id → digest of the tracked values, for every record the segment holds now."""
    model = load_model(db, segment["workspace_uuid"], segment["model_uuid"])
    query = build_query(db, model, loads(segment["filter"]), loads(segment["sort"]), now=now, limit=segment["lim"])
    tracked = loads(segment["data"], {}).get("trackingColumnSlugs") or None
    members: dict[str, str] = {}
    for record in iterate(db, model, query):
        values = {k: record.get(k) for k in tracked} if tracked else {k: v for k, v in record.items() if k[0] != "_"}
        text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
        members[str(record["_id"])] = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    return members


def _previous(db: Database, segment_uuid: str) -> dict[str, str]:
    rows = db.all("SELECT record_id, digest FROM segment_members WHERE segment_uuid = ?", (segment_uuid,))
    return {r["record_id"]: r["digest"] for r in rows}


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for rid, digest in after.items():
        if rid not in before:
            kinds["added"].append(rid)
        elif before[rid] != digest:
            kinds["updated"].append(rid)
        else:
            kinds["unchanged"].append(rid)
    kinds["removed"] = [rid for rid in before if rid not in after]
    return {kind: sorted(ids) for kind, ids in kinds.items()}


def store_change(
    db: Database,
    ws: str,
    segment_uuid: str,
    kinds: dict[str, list[str]],
    members: dict[str, str],
    at: float,
    change_uuid: str | None = None,
) -> str:
    """Insert the change (counts and ids) and make ``members`` the segment's membership."""
    uuid = change_uuid or new_uuid()
    counts = {kind: len(kinds[kind]) for kind in KINDS}
    total = counts["added"] + counts["updated"] + counts["unchanged"]
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO changes (uuid, workspace_uuid, segment_uuid, slug, total, added, updated, removed, unchanged,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                uuid,
                ws,
                segment_uuid,
                iso(at)[:10],
                total,
                counts["added"],
                counts["updated"],
                counts["removed"],
                counts["unchanged"],
                iso(at),
            ),
        )
        conn.executemany("INSERT INTO change_records VALUES (?, ?, ?)", _rows(uuid, kinds))
        conn.execute("DELETE FROM segment_members WHERE segment_uuid = ?", (segment_uuid,))
        conn.executemany(
            "INSERT INTO segment_members VALUES (?, ?, ?)", ((segment_uuid, rid, d) for rid, d in members.items())
        )
        conn.execute(
            "UPDATE segments SET records_count = ?, synced_at = ? WHERE uuid = ?", (total, iso(at), segment_uuid)
        )
    return uuid


def _rows(change_uuid: str, kinds: dict[str, list[str]]) -> Iterable[tuple[str, str, str]]:
    for kind, ids in kinds.items():
        for rid in ids:
            yield change_uuid, rid, kind


def record_change(db: Database, segment: dict[str, Any], now: float) -> str:
    """Evaluate the segment now, record the change since its last one; returns the change's uuid."""
    members = members_now(db, segment, now)
    kinds = diff(_previous(db, segment["uuid"]), members)
    return store_change(db, segment["workspace_uuid"], segment["uuid"], kinds, members, now)


def record_model_changes(db: Database, ws: str, model_uuid: str, now: float) -> list[str]:
    """A change for every live segment of the model (its records were just synced)."""
    segments = db.all(
        "SELECT * FROM segments WHERE workspace_uuid = ? AND model_uuid = ? AND deleted_at IS NULL ORDER BY created_at",
        (ws, model_uuid),
    )
    return [record_change(db, segment, now) for segment in segments]


def seed_history(
    db: Database,
    segment: dict[str, Any],
    first: tuple[str, float],
    last: tuple[str, float],
    entered: int,
    left: int,
) -> None:
    """Two past changes for a seeded segment that end in its real membership: a first one that added
    every member of the time, then one where ``entered`` records came in, ``left`` records left (taken
    among the model's other records) and a few members were updated."""
    members = members_now(db, segment, last[1])
    ids = sorted(members)
    pick = random.Random(f"history:{segment['uuid']}")
    newcomers = set(pick.sample(ids, min(entered, len(ids))))
    model = load_model(db, segment["workspace_uuid"], segment["model_uuid"])
    conn = db.dataset_conn(model.dataset_uuid, readonly=True)
    others = [str(r[0]) for r in conn.execute(f'SELECT _id FROM "{model.table}" ORDER BY _id LIMIT 2000')]
    outside = [rid for rid in others if rid not in members]
    leavers = pick.sample(outside, min(left, len(outside)))
    before = {rid: d for rid, d in members.items() if rid not in newcomers}
    before.update({rid: "seeded" for rid in leavers})
    kept = sorted(set(before) - set(leavers))
    for rid in pick.sample(kept, min(3, len(kept))):
        before[rid] = "seeded-before-update"
    ws = segment["workspace_uuid"]
    store_change(db, ws, segment["uuid"], diff({}, before), before, first[1], first[0])
    store_change(db, ws, segment["uuid"], diff(before, members), members, last[1], last[0])
