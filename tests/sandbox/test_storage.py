from __future__ import annotations

import httpx

from tests.sandbox.conftest import model_uuid, where


def sor(api: httpx.Client, sql: str) -> list[dict[str, object]]:
    body = api.post("/v1/systemOfRecordIntegration/clients/query", json={"query": sql}).json()
    assert body["outcome"] == "queried", body
    return body["rows"]  # type: ignore[no-any-return]


def test_datasets_and_models(api: httpx.Client) -> None:
    datasets = api.get("/v1/storage/datasets/list").json()["datasets"]
    crm = next(d for d in datasets if d["slug"] == "crm")
    assert crm["kind"] == "native"
    assert any(d["kind"] == "connector" and d["connectorUuid"] for d in datasets)
    assert api.get(f"/v1/storage/datasets/{crm['uuid']}").json()["dataset"]["slug"] == "crm"
    model = api.get(f"/v1/storage/models/{model_uuid(api, 'contacts')}").json()["model"]
    assert model["datasetUuid"] == crm["uuid"]
    assert model["idColumnSlug"] == "email" and model["titleColumnSlug"] == "full_name"
    kinds = {c["kind"] for c in model["additionalColumns"]}
    assert kinds == {"custom", "computed", "lookup"}
    assert {c["kind"] for c in model["columns"]} == {"original"}
    companies = api.get(f"/v1/storage/models/{model_uuid(api, 'companies')}").json()["model"]
    assert "metric" in {c["kind"] for c in companies["additionalColumns"]}
    assert companies["segmentsCount"] == 2
    missing = api.get("/v1/storage/models/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["reason"] == "modelNotFound"


def test_ddl_is_real_and_queryable(api: httpx.Client) -> None:
    body = api.get(f"/v1/storage/models/{model_uuid(api, 'contacts')}/ddl").json()
    assert body["language"] == "sqlite"
    assert body["ddl"].startswith("CREATE TABLE datasets_crm.models_contacts (")
    assert "lead_score NUMERIC" in body["ddl"]
    assert sor(api, "SELECT COUNT(*) AS n FROM datasets_crm.models_contacts") == [{"n": 2000}]


def test_column_lifecycle_alters_the_table(api: httpx.Client) -> None:
    contacts = model_uuid(api, "contacts")
    column = {"slug": "tier", "type": "string", "label": "Tier", "kind": "custom"}
    assert api.post("/v1/storage/columns", json={"modelUuid": contacts, "column": column}).status_code == 200
    assert "tier TEXT" in api.get(f"/v1/storage/models/{contacts}/ddl").json()["ddl"]
    dup = api.post("/v1/storage/columns", json={"modelUuid": contacts, "column": column})
    assert dup.status_code == 400 and dup.json()["reason"] == "duplicateSlug"
    renamed = {**column, "label": "Customer tier"}
    assert api.put("/v1/storage/columns", json={"modelUuid": contacts, "column": renamed}).status_code == 200
    model = api.get(f"/v1/storage/models/{contacts}").json()["model"]
    assert next(c for c in model["additionalColumns"] if c["slug"] == "tier")["label"] == "Customer tier"
    assert "tier" in api.get("/v1/storage/columns/list", params={"modelUuid": contacts}).json()["columns"]
    move = api.put("/v1/storage/columns/reorder", json={"modelUuid": contacts, "columnSlug": "tier", "toIndex": 0})
    assert move.status_code == 200
    assert api.get("/v1/storage/columns/list", params={"modelUuid": contacts}).json()["columns"][0] == "tier"
    bad_index = api.put(
        "/v1/storage/columns/reorder", json={"modelUuid": contacts, "columnSlug": "tier", "toIndex": 99}
    )
    assert bad_index.json()["reason"] == "invalidIndex"
    assert (
        api.request("DELETE", "/v1/storage/columns", json={"modelUuid": contacts, "columnSlug": "tier"}).status_code
        == 200
    )
    assert "tier" not in api.get(f"/v1/storage/models/{contacts}/ddl").json()["ddl"]


def test_computed_metric_and_lookup_columns(api: httpx.Client) -> None:
    contacts, companies = model_uuid(api, "contacts"), model_uuid(api, "companies")
    rel = api.get("/v1/storage/relationships/list").json()["relationships"][0]
    metric = {
        "slug": "max_score",
        "type": "number",
        "label": "Max score",
        "kind": "metric",
        "relationshipUuid": rel["uuid"],
        "aggregation": {"function": "max", "columnSlug": "lead_score"},
    }
    assert api.post("/v1/storage/columns", json={"modelUuid": companies, "column": metric}).status_code == 200
    lookup = {
        "slug": "company_country",
        "type": "string",
        "label": "Company country",
        "kind": "lookup",
        "join": {"toModelUuid": companies, "fromColumnSlug": "company_domain", "toColumnSlug": "domain"},
        "extractColumnSlug": "country",
    }
    assert api.post("/v1/storage/columns", json={"modelUuid": contacts, "column": lookup}).status_code == 200
    computed = {
        "slug": "shout",
        "type": "string",
        "label": "Shout",
        "kind": "computed",
        "expression": {
            "kind": "jsExpression",
            "expression": "country + '!'",
            "instructTo": "none",
            "fromRecipe": False,
        },
    }
    assert api.post("/v1/storage/columns", json={"modelUuid": contacts, "column": computed}).status_code == 200
    top = api.post(
        "/v1/segmentation/segments/fetch",
        json={
            "modelUuid": companies,
            "filter": where(),
            "sort": [{"columnSlug": "max_score", "kind": "desc"}],
            "fetchingLimit": 1,
        },
    ).json()["records"][0]
    best = sor(
        api, f"SELECT MAX(lead_score) AS m FROM datasets_crm.models_contacts WHERE company_domain = '{top['domain']}'"
    )
    assert top["max_score"] == best[0]["m"]
    record = api.post(
        "/v1/segmentation/segments/fetch", json={"modelUuid": contacts, "filter": where(), "fetchingLimit": 1}
    ).json()["records"][0]
    assert record["company_country"] == record["country"]  # seeded contacts share their company's country
    assert record["shout"] in (None, record["country"] + "!")  # filled when the expression engine is present
    ai = {**computed, "slug": "ai_col", "expression": {**computed["expression"], "instructTo": "ai"}}  # type: ignore[dict-item]
    refused = api.post("/v1/storage/columns", json={"modelUuid": contacts, "column": ai})
    assert refused.status_code == 422 and refused.json()["reason"] == "unavailableInSandbox"
    original = {"slug": "x", "type": "string", "label": "X", "kind": "original"}
    assert api.post("/v1/storage/columns", json={"modelUuid": contacts, "column": original}).status_code == 400


def test_relationship_set_replaces_the_dataset_list(api: httpx.Client) -> None:
    contacts, companies = model_uuid(api, "contacts"), model_uuid(api, "companies")
    dataset = api.get(f"/v1/storage/models/{contacts}").json()["model"]["datasetUuid"]
    item = {
        "fromModelUuid": contacts,
        "fromColumnSlug": "company_domain",
        "toModelUuid": companies,
        "toColumnSlug": "domain",
        "relation": "manyToOne",
    }
    body = api.post("/v1/storage/relationships", json={"datasetUuid": dataset, "relationships": [item, item]}).json()
    assert len(body["relationships"]) == 2
    bad = api.post(
        "/v1/storage/relationships", json={"datasetUuid": dataset, "relationships": [{**item, "toColumnSlug": "nope"}]}
    )
    assert bad.status_code == 400 and bad.json()["reason"] == "invalidRelationships"


def test_record_list(api: httpx.Client) -> None:
    contacts = model_uuid(api, "contacts")
    body = api.post(
        "/v1/storage/records/list",
        json={"modelUuid": contacts, "limit": 3, "sort": {"kind": "desc", "columnSlug": "_id"}},
    ).json()
    ids = [r["_id"] for r in body["records"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    assert body["isRefreshing"] is False
    bad = api.post("/v1/storage/records/list", json={"modelUuid": contacts, "sort": {"columnSlug": "email"}})
    assert bad.status_code == 400


def test_model_from_uploaded_csv_and_removal(api: httpx.Client) -> None:
    dataset = next(d for d in api.get("/v1/storage/datasets/list").json()["datasets"] if d["slug"] == "crm")
    csv_text = "Email,Full Name,Score\nA@x.io,Ann,3\nb@y.io,Bob,5\n"
    up = api.post("/v1/workspaceManagement/files/upload", files={"file": ("leads.csv", csv_text, "text/csv")}).json()
    created = api.post(
        "/v1/storage/models",
        json={
            "slug": "leads",
            "name": "Leads",
            "datasetUuid": dataset["uuid"],
            "extractorSlug": "file",
            "config": {"s3Filename": up["s3Filename"], "idColumnSlug": "email", "titleColumnSlug": "full_name"},
        },
    )
    assert created.status_code == 200, created.text
    model = created.json()["model"]
    assert [c["slug"] for c in model["columns"]] == ["email", "full_name", "score"]
    assert sor(api, "SELECT _id, _title FROM datasets_crm.models_leads ORDER BY _id") == [
        {"_id": "A@x.io", "_title": "Ann"},
        {"_id": "b@y.io", "_title": "Bob"},
    ]
    dup = api.post(
        "/v1/storage/models",
        json={"slug": "leads", "name": "L", "datasetUuid": dataset["uuid"], "extractorSlug": "custom", "config": {}},
    )
    assert dup.json()["reason"] == "duplicateSlug"
    renamed = api.put(f"/v1/storage/models/{model['uuid']}", json={"name": "Hot leads", "description": "d"})
    assert renamed.json()["model"]["name"] == "Hot leads"
    assert api.delete(f"/v1/storage/models/{model['uuid']}").status_code == 200
    gone = api.post(
        "/v1/systemOfRecordIntegration/clients/query", json={"query": "SELECT * FROM datasets_crm.models_leads"}
    )
    assert gone.json()["outcome"] == "notQueried"
    blocked = api.delete(f"/v1/storage/models/{model_uuid(api, 'contacts')}")
    assert blocked.status_code == 400 and blocked.json()["reason"] == "hasSegments"


def test_connector_dataset_models_need_the_external_sync(api: httpx.Client) -> None:
    dataset = next(d for d in api.get("/v1/storage/datasets/list").json()["datasets"] if d["kind"] == "connector")
    response = api.post(
        "/v1/storage/models",
        json={"slug": "deals", "name": "Deals", "datasetUuid": dataset["uuid"], "extractorSlug": "deals", "config": {}},
    )
    assert response.status_code == 422 and response.json()["reason"] == "unavailableInSandbox"
