"""The rest of the data platform: storage records, queries and syncs, segment changes, systems of
record, workspace administration, the user's own profile and initWorkspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.every_command.test_data_commands import _new_model
from tests.every_command.world import Cases, World, fetch_download

cases = Cases()


# -- storage records -------------------------------------------------------------------------
@cases.add(
    "storage record create",
    "storage record get",
    "storage record update",
    "storage record remove",
)
def _record_lifecycle(w: World) -> None:
    model = _new_model(w, "inbound")["uuid"]
    created = w.item("storage record create", {"model-uuid": model, "data": {"email": "a@x.io", "score": 3}})
    rid = created["_id"]
    assert (created["email"], created["score"]) == ("a@x.io", 3)
    got = w.item("storage record get", {"model-uuid": model, "id": rid})
    assert got["_id"] == rid and got["email"] == "a@x.io"
    updated = w.item("storage record update", {"model-uuid": model, "id": rid, "data": {"score": 9}})
    assert (updated["_id"], updated["score"], updated["email"]) == (rid, 9, "a@x.io")
    w.run("storage record remove", {"model-uuid": model, "id": rid})
    w.gone("storage record get", {"model-uuid": model, "id": rid})


@cases.add("storage record create-bulk", "storage record update-bulk", "storage record remove-bulk")
def _record_bulk(w: World) -> None:
    model = _new_model(w, "bulk_leads")["uuid"]
    rows = [{"data": {"email": f"{n}@x.io", "score": n}} for n in range(3)]
    created = w.items("storage record create-bulk", {"model-uuid": model, "records": rows})
    ids = [r["_id"] for r in created]
    assert sorted(r["email"] for r in created) == ["0@x.io", "1@x.io", "2@x.io"] and len(set(ids)) == 3
    changes = [{"id": rid, "data": {"score": 10}} for rid in ids]
    updated = w.items("storage record update-bulk", {"model-uuid": model, "records": changes})
    assert {r["_id"] for r in updated} == set(ids) and all(r["score"] == 10 for r in updated)
    w.run("storage record remove-bulk", {"model-uuid": model, "ids": ids[:2]})
    for rid in ids[:2]:
        w.gone("storage record get", {"model-uuid": model, "id": rid})
    assert w.item("storage record get", {"model-uuid": model, "id": ids[2]})["score"] == 10


COUNT_SQL = "SELECT COUNT(*) AS n FROM datasets_crm.models_companies"


@cases.add("storage query execute", "storage query download")
def _query(w: World) -> None:
    (row,) = w.items("storage query execute", {"sql": COUNT_SQL})
    assert row["n"] > 0
    text = fetch_download(w, "storage query download", {"query": COUNT_SQL, "format": "csv"})
    assert text.splitlines()[0].strip() == "n" and int(text.splitlines()[1]) == row["n"]


# -- storage syncs ---------------------------------------------------------------------------
@cases.add("storage run create", "storage run list", "storage run cancel", "storage model refresh")
def _runs(w: World) -> None:
    model = _new_model(w, "synced")["uuid"]
    run = w.item("storage run create", {"model-uuid": model, "is-force": True})
    assert run["modelUuid"] == model
    listed = w.items("storage run list", {"model-uuid": model})
    assert run["uuid"] in {r["uuid"] for r in listed} and all(r["modelUuid"] == model for r in listed)
    w.run("storage run cancel", {"run-uuid": run["uuid"]})
    (cancelled,) = [r for r in w.items("storage run list", {"model-uuid": model}) if r["uuid"] == run["uuid"]]
    assert cancelled["status"] == "cancelled"
    refreshed = w.item("storage model refresh", {"model-uuid": model})
    assert refreshed["uuid"] == model
    w.settle()
    statuses = {r["status"] for r in w.items("storage run list", {"model-uuid": model})}
    assert "success" in statuses, statuses


@cases.add("storage model exists-by-slug", "storage column exists-by-slug")
def _exists(w: World) -> None:
    crm = w.crm["uuid"]
    assert w.data("storage model exists-by-slug", {"dataset-uuid": crm, "slug": "companies"})["exists"] is True
    assert w.data("storage model exists-by-slug", {"dataset-uuid": crm, "slug": "nope"})["exists"] is False
    model = w.companies["uuid"]
    assert w.data("storage column exists-by-slug", {"model-uuid": model, "slug": "industry"})["exists"] is True
    assert w.data("storage column exists-by-slug", {"model-uuid": model, "slug": "nope"})["exists"] is False


@cases.add("storage model preview", "storage model preview-count")
def _preview(w: World) -> None:
    columns = [{"slug": "email", "type": "string", "label": "Email"}]
    args = {"dataset-uuid": w.crm["uuid"], "slug": "custom", "config": {"columns": columns}}
    records = w.data("storage model preview", args)["records"]
    assert isinstance(records, list)
    count = w.data("storage model preview-count", args)["count"]
    assert count == len(records)


@cases.add("storage column autocomplete")
def _autocomplete(w: World) -> None:
    args = {"model-uuid": w.companies["uuid"], "column": {"slug": "industry"}, "query": "Soft"}
    results = w.data("storage column autocomplete", args)["results"]
    assert results and all("Soft" in str(r) for r in results), results


@cases.add("storage relationship get")
def _relationship(w: World) -> None:
    first = w.items("storage relationship list", {"model-uuid": w.contacts["uuid"]})[0]
    got = w.item("storage relationship get", {"relationship-uuid": first["uuid"]})
    assert got == first
    w.gone("storage relationship get", {"relationship-uuid": "00000000-0000-4000-8000-000000000000"})


# -- segment changes -------------------------------------------------------------------------
@cases.add("segmentation change get", "segmentation change fetch", "segmentation change download")
def _change(w: World) -> None:
    change = w.items("segmentation change list", {"segment-uuid": w.segment["uuid"]})[0]
    got = w.item("segmentation change get", {"change-uuid": change["uuid"]})
    assert got["uuid"] == change["uuid"] and got["segmentUuid"] == w.segment["uuid"]
    fetched = w.data("segmentation change fetch", {"change-uuid": change["uuid"], "kinds": ["added", "unchanged"]})
    assert isinstance(fetched["records"], list) and fetched["count"] >= len(fetched["records"])
    text = fetch_download(w, "segmentation change download", {"change-uuid": change["uuid"], "kinds": ["added"]})
    assert isinstance(text, str)
    w.gone("segmentation change get", {"change-uuid": "00000000-0000-4000-8000-000000000000"})


@cases.add("segmentation record fetch")
def _record_fetch(w: World) -> None:
    (row,) = w.items("storage query execute", {"sql": "SELECT _id FROM datasets_crm.models_companies LIMIT 1"})
    records = w.items("segmentation record fetch", {"model-uuid": w.companies["uuid"], "ids": [row["_id"]]})
    assert [r["_id"] for r in records] == [row["_id"]]


# -- systems of record -----------------------------------------------------------------------
BIGQUERY = {
    "scope": "project",
    "location": "EU",
    "prefix": "acme",
    "storageBucketName": "acme-bucket",
    "stringifiedServiceAccount": '{"type": "service_account"}',
}


@cases.add(
    "system-of-record sor create",
    "system-of-record sor get",
    "system-of-record sor update",
    "system-of-record sor remove",
)
def _sor_lifecycle(w: World) -> None:
    sor = w.item("system-of-record sor create", {"kind": "bigQuery", "config": BIGQUERY})
    assert sor["kind"] == "bigQuery" and sor["config"]["prefix"] == "acme"
    assert sor["config"]["stringifiedServiceAccount"]["value"] == "********"  # kept masked
    got = w.item("system-of-record sor get", {"sor-uuid": sor["uuid"]})
    assert got["uuid"] == sor["uuid"]
    changed = {k: v for k, v in BIGQUERY.items() if k != "stringifiedServiceAccount"} | {"location": "US"}
    updated = w.item("system-of-record sor update", {"uuid": sor["uuid"], "config": changed})
    assert updated["config"]["location"] == "US"
    w.run("system-of-record sor remove", {"sor-uuid": sor["uuid"]})
    w.gone("system-of-record sor get", {"sor-uuid": sor["uuid"]})


@cases.add("system-of-record client list", "system-of-record log list", "system-of-record log get-metrics")
def _sor_admin(w: World) -> None:
    kinds = {c["slug"] for c in w.items("system-of-record client list")}
    assert kinds == {"bigQuery", "snowflake"}
    w.data("system-of-record client query", {"sql": COUNT_SQL})  # every warehouse query is logged
    logs = w.items("system-of-record log list")
    assert any(COUNT_SQL in str(log) for log in logs)
    today = datetime.fromtimestamp(w.clock(), UTC).date()
    span = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    metrics = w.items("system-of-record log get-metrics", span)
    assert len(metrics) == 2 and metrics[-1]["queriesCount"] >= 1, metrics


UNAVAILABLE_ONLY = ("system-of-record sor migrate", "system-of-record sor cutover")


@cases.add(*UNAVAILABLE_ONLY)
def _sor_moves(w: World) -> None:
    """Moving tables into an outside warehouse is that warehouse's work: refused by the sandbox."""
    sor = w.item("system-of-record sor create", {"kind": "bigQuery", "config": BIGQUERY | {"prefix": "moves"}})
    for name in UNAVAILABLE_ONLY:
        w.unavailable(name, {"sor-uuid": sor["uuid"]})


# -- workspace administration ----------------------------------------------------------------
@cases.add("workspace token update")
def _token_update(w: World) -> None:
    token = w.items("workspace token list")[0]
    updated = w.item("workspace token update", {"uuid": token["uuid"], "description": "rotated by ops"})
    assert (updated["uuid"], updated["description"]) == (token["uuid"], "rotated by ops")


@cases.add("workspace user upsert-permission", "workspace user remove-permission")
def _permissions(w: World) -> None:
    member = next(u for u in w.items("workspace user list") if u["uuid"] != w.admin["uuid"])
    grant = {"effect": "deny", "resource-uuid": w.agent["uuid"]}
    w.run("workspace user upsert-permission", {**grant, "action": "ai:read", "user-uuids": [member["uuid"]]})
    w.run("workspace user remove-permission", {**grant, "user-uuid": member["uuid"]})
    error = w.fails("workspace user remove-permission", {**grant, "user-uuid": member["uuid"]}, status=404)
    assert error.reason == "permissionNotFound"


@cases.add("workspace report create", "workspace session upsert")
def _reports(w: World) -> None:
    report = w.item("workspace report create", {"title": "Churn", "description": "Accounts lost this quarter"})
    assert (report["title"], report["userUuid"]) == ("Churn", w.admin["uuid"])
    first = w.item("workspace session upsert", {"session-id": "s-1", "title": "Triage", "summary": "started"})
    again = w.item("workspace session upsert", {"session-id": "s-1", "title": "Triage", "summary": "done"})
    assert again["uuid"] == first["uuid"] and again["summary"] == "done"


@cases.add("workspace workspace list", "workspace workspace create", "workspace workspace update")
def _workspaces(w: World) -> None:
    assert w.box.workspace_uuid in {ws["uuid"] for ws in w.items("workspace workspace list")}
    created = w.item("workspace workspace create", {"name": "Acme Labs"})
    assert created["name"] == "Acme Labs" and created["uuid"] != w.box.workspace_uuid
    assert created["uuid"] in {ws["uuid"] for ws in w.items("workspace workspace list")}
    updated = w.item("workspace workspace update", {"name": "Acme Demo (renamed)"})
    assert (updated["uuid"], updated["name"]) == (w.box.workspace_uuid, "Acme Demo (renamed)")


@cases.add("workspace user update-current")
def _profile(w: World) -> None:
    w.run("workspace user update-current", {"first-name": "Ada"})
    assert w.item("workspace user get-current")["firstName"] == "Ada"


@cases.add("workspace initialisation get")
def _initialisation(w: World) -> None:
    data = w.data("workspace initialisation get")
    assert isinstance(data, dict) and data


def test_refused_as_unavailable(world: World) -> None:
    _sor_moves(world)


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
