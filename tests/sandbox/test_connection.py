from __future__ import annotations

import httpx

BASE = "/v1/connection"


def test_connector_crud_and_exists_by_slug(api: httpx.Client) -> None:
    created = api.post(
        f"{BASE}/connectors",
        json={"name": "Sheets", "slug": "sheets_ops", "integrationSlug": "googleSheets", "config": {}},
    )
    assert created.status_code == 200, created.text
    connector, dataset = created.json()["connector"], created.json()["dataset"]
    assert connector["integrationSlug"] == "googleSheets" and dataset["kind"] == "connector"
    assert dataset["connectorUuid"] == connector["uuid"]
    assert api.get(f"{BASE}/connectors/existsBySlug", params={"slug": "sheets_ops"}).json() == {"exists": True}
    assert api.get(f"{BASE}/connectors/existsBySlug", params={"slug": "nope"}).json() == {"exists": False}
    updated = api.put(
        f"{BASE}/connectors/{connector['uuid']}",
        json={"name": "Ops sheets", "rateLimit": {"unit": "minute", "max": 60}},
    )
    assert updated.json()["connector"]["name"] == "Ops sheets"
    assert updated.json()["connector"]["rateLimit"]["max"] == 60
    listed = api.get(f"{BASE}/connectors/list", params={"integrationSlug": "googleSheets"}).json()["connectors"]
    assert [c["uuid"] for c in listed] == [connector["uuid"]]
    assert api.delete(f"{BASE}/connectors/{connector['uuid']}").status_code == 200
    assert api.get(f"{BASE}/connectors/{connector['uuid']}").json()["reason"] == "connectorNotFound"


def test_connector_secrets_are_masked_and_credits_hide_config(api: httpx.Client) -> None:
    connectors = {c["integrationSlug"]: c for c in api.get(f"{BASE}/connectors/list").json()["connectors"]}
    assert connectors["hubspot"]["config"] == {"accessToken": "********"}
    assert connectors["clearbit"]["useCredits"] is True and connectors["clearbit"]["config"] is None
    unknown = api.post(f"{BASE}/connectors", json={"name": "x", "slug": "x", "integrationSlug": "nope"})
    assert unknown.status_code == 404 and unknown.json()["reason"] == "integrationNotFound"
    no_creds = api.post(f"{BASE}/connectors", json={"name": "x", "slug": "x2", "integrationSlug": "slack"})
    assert no_creds.status_code == 400


def test_integrations_catalogue(api: httpx.Client) -> None:
    everything = api.get(f"{BASE}/integrations/list").json()["integrations"]
    assert {"hubspot", "clearbit", "slack"} <= {i["slug"] for i in everything}
    enrichment = api.get(f"{BASE}/integrations/list", params={"category": "enrichment"}).json()["integrations"]
    assert {i["category"] for i in enrichment} == {"enrichment"}
    clearbit = api.get(f"{BASE}/integrations/clearbit").json()["integration"]
    assert "enrichCompany" in clearbit["actions"] and "sandboxOptions" not in clearbit
    doc = api.get(f"{BASE}/integrations/clearbit/documentation")
    assert doc.headers["content-type"].startswith("text/markdown") and "enrichCompany" in doc.text
    assert api.get(f"{BASE}/integrations/nope").status_code == 404
    native = api.get(f"{BASE}/nativeIntegrations").json()["nativeIntegration"]
    assert "file" in native["extractors"]


def test_autocomplete_and_oauth(api: httpx.Client) -> None:
    slack = next(c for c in api.get(f"{BASE}/connectors/list").json()["connectors"] if c["integrationSlug"] == "slack")
    body = api.post(
        f"{BASE}/connectors/{slack['uuid']}/autocomplete", json={"slug": "channels", "params": {}, "value": "sales"}
    ).json()
    assert body["results"] == [{"label": "#sales", "value": "C0SBX002"}]
    unknown = api.post(f"{BASE}/connectors/{slack['uuid']}/autocomplete", json={"slug": "users", "params": {}})
    assert unknown.json()["reason"] == "failedToGetIntegrationAutocomplete"
    oauth = api.post(f"{BASE}/integrations/hubspot/completeOauth", json={"params": {"code": "x"}})
    assert oauth.status_code == 422 and "OAuth" in oauth.json()["errorMessage"]
