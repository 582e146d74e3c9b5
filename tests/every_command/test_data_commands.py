"""Storage, segmentation, system of record, connection, workspace, billing and whoami commands."""

from __future__ import annotations

from typing import Any

import pytest

from tests.every_command.world import Cases, World, fetch_download

cases = Cases()
EVERYONE: dict[str, Any] = {"conjonction": "and", "groups": []}


def software(world: World) -> dict[str, Any]:
    condition = {"kind": "string", "columnSlug": "industry", "operator": "is", "values": ["Software"]}
    return {"conjonction": "and", "groups": [{"conjonction": "and", "conditions": [condition]}]}


# -- storage ---------------------------------------------------------------------------------
@cases.add("storage dataset list", "storage dataset get")
def _datasets(w: World) -> None:
    assert {d["slug"] for d in w.items("storage dataset list")} >= {"crm"}
    got = w.item("storage dataset get", {"dataset-uuid": w.crm["uuid"]})
    assert (got["uuid"], got["kind"]) == (w.crm["uuid"], "native")


@cases.add("storage model list", "storage model get", "storage model get-ddl")
def _models(w: World) -> None:
    in_crm = w.items("storage model list", {"dataset-uuid": w.crm["uuid"]})
    assert {m["slug"] for m in in_crm} >= {"companies", "contacts"}
    assert all(m["datasetUuid"] == w.crm["uuid"] for m in in_crm)
    got = w.item("storage model get", {"model-uuid": w.companies["uuid"]})
    assert (got["uuid"], got["slug"]) == (w.companies["uuid"], "companies")
    ddl = w.data("storage model get-ddl", {"model-uuid": w.companies["uuid"]})
    assert "models_companies" in ddl["ddl"] and ddl["language"] == "sqlite"


def _new_model(w: World, slug: str) -> dict[str, Any]:
    columns = [{"slug": "email", "type": "string", "label": "Email"}, {"slug": "score", "type": "number"}]
    return w.item(
        "storage model create",
        {
            "slug": slug,
            "name": slug.title(),
            "dataset-uuid": w.crm["uuid"],
            "extractor-slug": "custom",
            "config": {"columns": columns},
        },
    )


@cases.add("storage model create", "storage model update", "storage model remove")
def _model_lifecycle(w: World) -> None:
    model = _new_model(w, "leads")
    assert model["slug"] == "leads" and model["datasetUuid"] == w.crm["uuid"]
    assert w.item("storage model get", {"model-uuid": model["uuid"]})["name"] == "Leads"
    updated = w.item("storage model update", {"uuid": model["uuid"], "description": "Inbound leads"})
    assert updated["description"] == "Inbound leads"
    w.run("storage model remove", {"model-uuid": model["uuid"]})
    w.gone("storage model get", {"model-uuid": model["uuid"]})


@cases.add(
    "storage column list",
    "storage column create",
    "storage column update",
    "storage column reorder",
    "storage column remove",
)
def _columns(w: World) -> None:
    model = _new_model(w, "column_play")["uuid"]

    def slugs() -> list[str]:
        columns = w.data("storage column list", {"model-uuid": model})["columns"]
        assert all(isinstance(c, str) for c in columns), columns  # the client types it string[]
        return list(columns)

    def labels() -> dict[str, str]:
        got = w.item("storage model get", {"model-uuid": model})
        return {c["slug"]: c["label"] for c in got["columns"] + got["additionalColumns"]}

    assert slugs() == ["email", "score"]
    column = {"slug": "tier", "type": "string", "label": "Tier", "kind": "custom"}
    w.run("storage column create", {"model-uuid": model, "column": column})
    assert slugs() == ["email", "score", "tier"]
    w.run("storage column update", {"model-uuid": model, "column": {**column, "label": "Account tier"}})
    assert labels()["tier"] == "Account tier"
    w.run("storage column reorder", {"model-uuid": model, "column-slug": "tier", "to-index": 0})
    assert slugs()[0] == "tier"
    w.run("storage column remove", {"model-uuid": model, "column-slug": "tier"})
    assert "tier" not in slugs()


@cases.add("storage relationship list")
def _relationships(w: World) -> None:
    (rel,) = w.items("storage relationship list", {"model-uuid": w.contacts["uuid"]})
    assert rel["fromModelUuid"] == w.contacts["uuid"] and rel["toModelUuid"] == w.companies["uuid"]


@cases.add("storage relationship set")
def _set_relationship(w: World) -> None:
    # The documented flags carry only the two models; the API also needs column slugs and a
    # relation, so without the API-field flags the sandbox answers a 400 naming what is missing.
    args = {"from-model-uuid": w.contacts["uuid"], "to-model-uuid": w.companies["uuid"], "dataset-uuid": w.crm["uuid"]}
    error = w.fails("storage relationship set", args, status=400)
    assert error.reason == "invalidRelationships" and "relation" in error.message
    full = {**args, "from-column-slug": "company_domain", "to-column-slug": "domain", "relation": "oneToOne"}
    w.run("storage relationship set", full)
    (rel,) = w.items("storage relationship list", {"model-uuid": w.contacts["uuid"]})
    assert (rel["fromColumnSlug"], rel["toColumnSlug"], rel["relation"]) == ("company_domain", "domain", "oneToOne")


@cases.add("storage record list")
def _records(w: World) -> None:
    data = w.data("storage record list", {"model-uuid": w.companies["uuid"], "limit": 3})
    assert len(data["records"]) == 3 and all(r["_id"] and r["domain"] for r in data["records"])


# -- segmentation ----------------------------------------------------------------------------
@cases.add("segmentation segment list", "segmentation segment get")
def _segments(w: World) -> None:
    assert all(s["uuid"] for s in w.items("segmentation segment list"))
    got = w.item("segmentation segment get", {"segment-uuid": w.segment["uuid"]})
    assert (got["uuid"], got["modelUuid"]) == (w.segment["uuid"], w.companies["uuid"])


@cases.add("segmentation segment create", "segmentation segment update", "segmentation segment remove")
def _segment_lifecycle(w: World) -> None:
    args = {"name": "Software companies", "model-uuid": w.companies["uuid"], "filter": software(w)}
    created = w.item("segmentation segment create", args)
    assert created["name"] == "Software companies" and created["modelUuid"] == w.companies["uuid"]
    renamed = w.item("segmentation segment update", {"uuid": created["uuid"], "name": "Software accounts"})
    assert renamed["name"] == "Software accounts"
    assert w.item("segmentation segment get", {"segment-uuid": created["uuid"]})["name"] == "Software accounts"
    w.run("segmentation segment remove", {"segment-uuid": created["uuid"]})
    w.gone("segmentation segment get", {"segment-uuid": created["uuid"]})


@cases.add("segmentation segment fetch")
def _fetch(w: World) -> None:
    data = w.data("segmentation segment fetch", {"model-uuid": w.companies["uuid"], "filter": software(w)})
    assert data["records"] and all(r["industry"] == "Software" for r in data["records"])
    assert data["count"] >= len(data["records"])


@cases.add("segmentation segment download")
def _download(w: World) -> None:
    text = fetch_download(w, "segmentation segment download", {"model-uuid": w.companies["uuid"], "filter": EVERYONE})
    header, *rows = text.splitlines()
    assert "domain" in header.split(",") and len(rows) == 500


@cases.add("segmentation change list")
def _changes(w: World) -> None:
    changes = w.items("segmentation change list", {"segment-uuid": w.segment["uuid"]})
    assert all(c["segmentUuid"] == w.segment["uuid"] for c in changes)


# -- system of record ------------------------------------------------------------------------
COUNT_SQL = "SELECT COUNT(*) AS n FROM datasets_crm.models_companies"


@cases.add("system-of-record sor list", "system-of-record client get-documentation")
def _sor(w: World) -> None:
    (sor,) = w.items("system-of-record sor list")
    # a BigQuery-kind system of record (the client's kinds) whose SQL dialect is SQLite
    assert (sor["kind"], sor["config"]["scope"], sor["config"]["dialect"]) == ("bigQuery", "project", "sqlite")
    assert sor["isActive"] is True
    for slug in ("sandbox", "bigQuery"):
        doc = w.data("system-of-record client get-documentation", {"slug": slug})
        assert isinstance(doc, str) and "SQLite" in doc


@cases.add("system-of-record client query", "system-of-record client fetch")
def _sql(w: World) -> None:
    queried = w.data("system-of-record client query", {"sql": COUNT_SQL})
    assert queried["outcome"] == "queried" and queried["rows"] == [{"n": 500}]
    page = w.data(
        "system-of-record client fetch", {"query": "SELECT domain FROM datasets_crm.models_companies", "limit": 2}
    )
    assert len(page["records"]) == 2 and page["count"] == 500


@cases.add("system-of-record client download")
def _sql_download(w: World) -> None:
    text = fetch_download(w, "system-of-record client download", {"query": COUNT_SQL})
    assert text.splitlines() == ["n", "500"]


# -- connection ------------------------------------------------------------------------------
@cases.add("connection connector list", "connection connector get", "connection connector exists-by-slug")
def _connectors(w: World) -> None:
    assert {c["integrationSlug"] for c in w.items("connection connector list", {"integration-slug": "slack"})} == {
        "slack"
    }
    got = w.item("connection connector get", {"connector-uuid": w.slack["uuid"]})
    assert (got["uuid"], got["slug"]) == (w.slack["uuid"], w.slack["slug"])
    assert w.data("connection connector exists-by-slug", {"slug": w.slack["slug"]})["exists"] is True
    assert w.data("connection connector exists-by-slug", {"slug": "no_such_connector"})["exists"] is False


@cases.add("connection connector create", "connection connector update", "connection connector remove")
def _connector_lifecycle(w: World) -> None:
    args = {"integration-slug": "slack", "slug": "slack_ops", "name": "Slack #ops", "config": {"botToken": "xoxb-1"}}
    created = w.data("connection connector create", args)["connector"]
    assert created["slug"] == "slack_ops" and "xoxb-1" not in str(created)  # credentials come back masked
    updated = w.item("connection connector update", {"uuid": created["uuid"], "name": "Slack #ops-alerts"})
    assert updated["name"] == "Slack #ops-alerts"
    w.run("connection connector remove", {"connector-uuid": created["uuid"]})
    w.gone("connection connector get", {"connector-uuid": created["uuid"]})
    assert w.data("connection connector exists-by-slug", {"slug": "slack_ops"})["exists"] is False


@cases.add("connection connector autocomplete")
def _autocomplete(w: World) -> None:
    args = {"connector-uuid": w.slack["uuid"], "slug": "channels", "params": {}, "value": "sales"}
    results = w.items("connection connector autocomplete", args)
    assert [r["label"] for r in results] == ["#sales"]


@cases.add("connection integration list", "connection integration get", "connection integration get-documentation")
def _integrations(w: World) -> None:
    assert "slack" in {i["slug"] for i in w.items("connection integration list")}
    got = w.item("connection integration get", {"slug": "clearbit"})
    assert got["slug"] == "clearbit" and got["category"] == "enrichment"
    doc = w.data("connection integration get-documentation", {"slug": "slack"})
    assert isinstance(doc, str) and doc.startswith("# Slack")


@cases.add("connection native-integration get")
def _native(w: World) -> None:
    native = w.item("connection native-integration get")
    assert native["actions"] and isinstance(native["extractors"], dict)


# -- workspace -------------------------------------------------------------------------------
@cases.add("workspace user list", "workspace user get-current", "workspace role list")
def _users(w: World) -> None:
    users = w.items("workspace user list")
    assert w.admin["uuid"] in {u["uuid"] for u in users} and w.admin["email"] == "ada.admin@acme-demo.com"
    assert {r["slug"] for r in w.items("workspace role list")} == {"admin", "member", "viewer"}


@cases.add("workspace user create", "workspace user update", "workspace user remove")
def _user_lifecycle(w: World) -> None:
    w.run("workspace user create", {"user-email": "new.hire@acme-demo.com", "role-slug": "viewer"})

    def member() -> dict[str, Any] | None:
        found = [u for u in w.items("workspace user list") if u["email"] == "new.hire@acme-demo.com"]
        return found[0] if found else None

    invited = member()
    assert invited is not None and invited["role"]["slug"] == "viewer"
    w.run("workspace user update", {"user-uuid": invited["uuid"], "role-slug": "member"})
    assert (member() or {})["role"]["slug"] == "member"
    w.run("workspace user remove", {"user-uuid": invited["uuid"]})
    assert member() is None


READ_ONLY = [{"effect": "allow", "actions": ["storage:read", "segmentation:read"], "resources": ["*"]}]


@cases.add("workspace token list", "workspace token create", "workspace token remove")
def _tokens(w: World) -> None:
    created = w.item("workspace token create", {"name": "ci", "permissions": READ_ONLY})
    assert created["name"] == "ci" and created["token"]
    assert created["uuid"] in {t["uuid"] for t in w.items("workspace token list")}
    w.run("workspace token remove", {"token-uuid": created["uuid"]})
    assert created["uuid"] not in {t["uuid"] for t in w.items("workspace token list")}


@cases.add(
    "workspace folder list",
    "workspace folder get",
    "workspace folder create",
    "workspace folder update",
    "workspace folder remove",
)
def _folders(w: World) -> None:
    assert {f["kind"] for f in w.items("workspace folder list")} >= {"agent", "tool", "play"}
    created = w.item("workspace folder create", {"name": "Reports", "emoji-slug": "rocket", "kind": "play"})
    assert (created["name"], created["kind"]) == ("Reports", "play")
    assert w.item("workspace folder get", {"folder-uuid": created["uuid"]})["emojiSlug"] == "rocket"
    assert w.item("workspace folder update", {"uuid": created["uuid"], "name": "Weekly"})["name"] == "Weekly"
    w.run("workspace folder remove", {"folder-uuid": created["uuid"]})
    w.gone("workspace folder get", {"folder-uuid": created["uuid"]})


@cases.add("workspace file upload", "workspace file list-columns")
def _workspace_file(w: World) -> None:
    path = w.box.data_dir.parent / "people.csv"
    path.write_text("email,name\na@b.example,A\n")
    uploaded = w.data("workspace file upload", {"file-path": str(path)})
    assert uploaded["name"] == "people.csv" and uploaded["s3Filename"]
    columns = w.items("workspace file list-columns", {"s3-filename": uploaded["s3Filename"]})
    assert [c.get("slug", c.get("name")) for c in columns] == ["email", "name"]


# -- billing ---------------------------------------------------------------------------------
@cases.add("billing usage get-metrics")
def _metrics(w: World) -> None:
    metrics = w.items("billing usage get-metrics", {"from": "2025-01-01", "to": "2025-01-15"})
    assert metrics[0]["date"].startswith("2025-01-01") and all("items" in m for m in metrics)


@cases.add("billing subscription get", "billing subscription get-invoices", "billing subscription get-credit-card")
def _subscription(w: World) -> None:
    assert w.item("billing subscription get")["subscriptionStatus"] == "active"
    assert all(i["id"] and i["currency"] == "usd" for i in w.items("billing subscription get-invoices"))
    assert w.item("billing subscription get-credit-card")["last4"] == "4242"


# -- session ---------------------------------------------------------------------------------
@cases.add("whoami")
def _whoami(w: World) -> None:
    data = w.data("whoami")
    assert data["user"]["uuid"] == w.admin["uuid"] and data["workspace"]["uuid"] == w.box.workspace_uuid


# -- refused by the sandbox ------------------------------------------------------------------
#: What the sandbox deliberately refuses (it needs an outside service): (command, args, why).
#: Each must answer a 4xx RequestError with reason unavailableInSandbox and say so.
def unavailable_cases(w: World) -> list[tuple[str, dict[str, Any], str]]:
    hubspot = w._pick("storage dataset list", kind="connector")
    expression = {"kind": "prompt", "expression": "Summarise {{name}}", "instructTo": "ai"}
    ai_column = {"slug": "summary", "type": "string", "kind": "computed", "expression": expression}
    return [
        ("connection integration complete-oauth", {"slug": "hubspot", "params": {"code": "abc"}}, "OAuth provider"),
        ("billing subscription create-portal-session", {}, "hosted by the payment provider"),
        (
            "segmentation segment fetch",
            {"model-uuid": w.companies["uuid"], "filter": EVERYONE, "enrich": True},
            "enrich/sync call external integrations",
        ),
        (
            "storage model create",
            {
                "slug": "deals",
                "name": "Deals",
                "dataset-uuid": hubspot["uuid"],
                "extractor-slug": "deals",
                "config": {},
            },
            "models on a connector dataset sync from the provider",
        ),
        ("storage column create", {"model-uuid": w.contacts["uuid"], "column": ai_column}, "AI columns need an LLM"),
    ]


UNAVAILABLE_ONLY = ("connection integration complete-oauth", "billing subscription create-portal-session")


@cases.add(*UNAVAILABLE_ONLY)
def _only_unavailable(w: World) -> None:
    """Commands the sandbox serves only as a refusal (checked in test_refused_as_unavailable)."""
    for name, args, _why in unavailable_cases(w):
        if name in UNAVAILABLE_ONLY:
            w.unavailable(name, args)


def test_refused_as_unavailable(world: World) -> None:
    entries = unavailable_cases(world)
    assert len(entries) <= 6, "the sandbox should refuse only a handful of things"
    for name, args, why in entries:
        assert why
        world.unavailable(name, args)


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
