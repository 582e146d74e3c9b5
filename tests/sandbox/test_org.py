"""Hosting, revenue organization and domain management in the sandbox: isolation, checks, secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.sandbox.app import build_router
from cargo_shell.sandbox.runtime import Sandbox
from tests.sandbox.conftest import add_workspace, make_client, model_uuid
from tests.support import FakeClock, open_copy

H, R, D = "/v1/hosting", "/v1/revenueOrganization", "/v1/domainManagement/domains"


def _one(api: httpx.Client, method: str, path: str, key: str, **kwargs: Any) -> Any:
    answer = api.request(method, path, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()[key]


def _app(api: httpx.Client, slug: str = "acme-pipeline") -> dict[str, Any]:
    return next(a for a in _one(api, "POST", f"{H}/apps/list", "apps", json={}) if a["slug"] == slug)


def _worker(api: httpx.Client) -> dict[str, Any]:
    (worker,) = _one(api, "POST", f"{H}/workers/list", "workers", json={})
    return dict(worker)


def _domain(api: httpx.Client, name: str) -> dict[str, Any]:
    return next(d for d in _one(api, "GET", D, "domains") if d["name"] == name)


def _reason(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    return str(answer.json()["reason"])


READ_LISTS = (
    (D, "domains"),
    (f"{R}/members/list", "members"),
    (f"{R}/territories/list", "territories"),
    (f"{R}/capacities/list", "capacities"),
    (f"{R}/allocations/list", "allocations"),
)
SEEDED = ("hosting_apps", "hosting_deployments", "domains", "revenue_members", "revenue_allocations")


def test_another_workspace_sees_none_of_it(sandbox: Sandbox, api: httpx.Client) -> None:
    app, worker, zone = _app(api), _worker(api), _domain(api, "acme-outreach.com")
    member = _one(api, "GET", f"{R}/members/list", "members")[0]
    territory = _one(api, "GET", f"{R}/territories/list", "territories")[0]
    capacity = _one(api, "GET", f"{R}/capacities/list", "capacities")[0]
    allocation = _one(api, "GET", f"{R}/allocations/list", "allocations")[0]
    deployment = _one(api, "POST", f"{H}/deployments/list", "deployments", json={})[0]
    other, token = add_workspace(sandbox)
    with make_client(sandbox, token, other) as them:
        for path, key in ((f"{H}/apps/list", "apps"), (f"{H}/workers/list", "workers"),
                          (f"{H}/deployments/list", "deployments")):  # fmt: skip
            assert _one(them, "POST", path, key, json={}) == []
        assert _one(them, "POST", f"{H}/deployments/count", "count", json={}) == 0
        for path, key in READ_LISTS:
            assert _one(them, "GET", path, key) == []
        gets = (f"{H}/apps/{app['uuid']}", f"{H}/workers/{worker['uuid']}", f"{H}/deployments/{deployment['uuid']}",
                f"{D}/{zone['uuid']}", f"{D}/{zone['uuid']}/dns-records", f"{R}/members/{member['uuid']}",
                f"{R}/territories/{territory['uuid']}", f"{R}/capacities/{capacity['uuid']}",
                f"{R}/allocations/{allocation['uuid']}")  # fmt: skip
        for path in gets:
            assert them.get(path).status_code == 404, path
        assert them.get(f"{H}/env-vars", params={"appUuid": app["uuid"]}).status_code == 404
        assert them.post(f"{H}/deployments/promote", json={"uuid": deployment["uuid"]}).status_code == 404
        assert them.request("DELETE", f"{H}/apps/{app['uuid']}", json={}).status_code == 404
        assert them.put(f"{D}/{zone['uuid']}/dns-records", json={"records": []}).status_code == 404
    assert _app(api)["uuid"] == app["uuid"]  # untouched


def test_a_secret_value_is_never_answered_nor_kept(sandbox: Sandbox, api: httpx.Client) -> None:
    secret = "sk_live_sandboxNeverKeepsThis42"
    body = {"kind": "app", "appUuid": _app(api)["uuid"], "key": "STRIPE_KEY", "value": secret, "isSecret": True}
    created = _one(api, "POST", f"{H}/env-vars", "envVar", json=body)
    assert created["value"] is None and created["isSecret"] is True
    listed = api.get(f"{H}/env-vars", params={"appUuid": body["appUuid"]}).text
    updated = api.patch(f"{H}/env-vars/{created['uuid']}", json={"value": secret + "2", "isSecret": True}).text
    assert secret not in listed + updated
    sandbox.app.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    on_disk = b"".join(p.read_bytes() for p in sandbox.data_dir.rglob("*") if p.is_file())
    assert secret.encode() not in on_disk  # only a fingerprint is stored
    plain = _one(api, "PATCH", f"{H}/env-vars/{created['uuid']}", "envVar", json={"value": "pk_1", "isSecret": False})
    assert plain["value"] == "pk_1"


@pytest.mark.parametrize(
    ("method", "path", "body", "reason"),
    [
        ("POST", f"{H}/apps", {"name": "x", "slug": "Not A Slug"}, "invalidSlug"),
        ("POST", f"{H}/apps", {"name": "x", "slug": "ab"}, "invalidSlug"),
        ("POST", f"{H}/workers", {"name": "x", "slug": "acme-w", "triggers": [{"type": "webhook"}]}, "invalidTrigger"),
        ("POST", f"{H}/env-vars", {"kind": "app", "key": "K", "value": "v", "isSecret": False}, "missingField"),
        ("POST", f"{H}/env-vars", {"kind": "pod", "key": "K", "value": "v", "isSecret": False}, "invalidField"),
        ("POST", f"{H}/custom-domains", {"kind": "worker", "hostname": "x.example.com"}, "missingField"),
        ("POST", f"{H}/deployments/list", {"statuses": ["done"]}, "invalidField"),
        ("POST", f"{H}/deployments/list", {"createdAfter": "yesterday"}, "invalidRequest"),
        ("POST", f"{R}/territories", {"label": "X", "color": "blue", "members": []}, "invalidField"),
        ("POST", f"{R}/territories", {"label": "X", "color": "red"}, "missingField"),
        ("POST", f"{R}/capacities", {"name": "X", "color": "red", "allocationExpirationPolicy": {"interval": "daily",
                                                                                                  "day": 3}},
         "invalidRequest"),
        ("POST", f"{R}/capacities", {"name": "X", "color": "red", "filter": {"conjonction": "and", "groups": [
            {"conjonction": "and", "conditions": [{"kind": "string", "columnSlug": "industry", "operator": "is",
                                                   "values": ["Software"]}]}]}}, "invalidFilter"),
        ("POST", f"{R}/capacities", {"name": "X", "color": "red", "memberCapacity": 2.5}, "invalidField"),
        ("GET", f"{D}/search?name=not%20a%20domain", None, "invalidDomainName"),
        ("POST", D, {"name": "acme-outreach.com"}, "domainAlreadyExists"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_problem(
    api: httpx.Client, method: str, path: str, body: Any, reason: str
) -> None:
    assert _reason(api.request(method, path, json=body), 400) == reason


def test_custom_domain_checks_run_against_the_stored_zone(api: httpx.Client) -> None:
    app = _app(api)
    (verified,) = _one(api, "GET", f"{H}/custom-domains/list", "customDomains", params={"appUuid": app["uuid"]})
    zone = _domain(api, "acme-outreach.com")
    cname = next(v for v in verified["verification"] if v["recordType"] == "CNAME")
    # drop the CNAME that verified app.acme-outreach.com: the next check finds it missing
    kept = [r for r in zone["dnsRecords"] if not (r["type"] == "CNAME" and r["name"] == "app")]
    assert len(kept) == len(zone["dnsRecords"]) - 1
    _one(api, "PUT", f"{D}/{zone['uuid']}/dns-records", "domain", json={"records": kept})
    failed = _one(api, "POST", f"{H}/custom-domains/{verified['uuid']}/refresh-status", "customDomain")
    assert failed["status"] == "failed" and failed["verifiedAt"] == verified["verifiedAt"]
    record = {"type": "CNAME", "name": cname["name"] + ".", "value": cname["value"], "ttl": None, "priority": None}
    _one(api, "PUT", f"{D}/{zone['uuid']}/dns-records", "domain", json={"records": [*kept, record]})
    again = _one(api, "POST", f"{H}/custom-domains/{verified['uuid']}/refresh-status", "customDomain")
    assert again["status"] == "active" and again["verifiedAt"] != verified["verifiedAt"]
    taken = {"kind": "worker", "workerUuid": _worker(api)["uuid"], "hostname": "APP.acme-outreach.com."}
    assert _reason(api.post(f"{H}/custom-domains", json=taken), 400) == "hostnameAlreadyAttached"


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"type": "A", "name": "www", "value": "not-an-ip"}, "IPv4"),
        ({"type": "AAAA", "name": "www", "value": "192.0.2.1"}, "IPv6"),
        ({"type": "TXT", "name": "bad name", "value": "x"}, "name"),
        ({"type": "TXT", "name": "@", "value": "a\nb"}, "single-line"),
        ({"type": "TXT", "name": "@", "value": "x", "ttl": 5}, "ttl"),
        ({"type": "PTR", "name": "@", "value": "x"}, "type"),
    ],
)
def test_dns_records_are_checked_before_the_zone_changes(
    api: httpx.Client, record: dict[str, Any], problem: str
) -> None:
    zone = _domain(api, "acme-outreach.com")
    answer = api.put(f"{D}/{zone['uuid']}/dns-records", json={"records": [{"ttl": None, "priority": None, **record}]})
    assert _reason(answer, 400) == "invalidDnsRecord" and problem in answer.json()["errorMessage"]
    clash = [{"type": "CNAME", "name": "www", "value": "a.example.net", "ttl": None, "priority": None},
             {"type": "TXT", "name": "www", "value": "x", "ttl": None, "priority": None}]  # fmt: skip
    assert _reason(api.put(f"{D}/{zone['uuid']}/dns-records", json={"records": clash}), 400) == "invalidDnsRecord"
    assert _domain(api, "acme-outreach.com")["dnsRecords"] == zone["dnsRecords"]


def test_refusals_check_their_input_first_then_name_what_is_missing(api: httpx.Client) -> None:
    files = [{"path": "index.ts", "content": "export {}"}]
    unknown = {"kind": "app", "appUuid": "00000000-0000-4000-8000-000000000001", "files": files}
    assert _reason(api.post(f"{H}/deployments", json=unknown), 404) == "appNotFound"
    escaping = {"kind": "app", "appUuid": _app(api)["uuid"], "files": [{"path": "../x", "content": ""}]}
    assert _reason(api.post(f"{H}/deployments", json=escaping), 400) == "invalidField"
    hubspot = next(c for c in api.get("/v1/connection/connectors/list").json()["connectors"]
                   if c["integrationSlug"] == "hubspot")  # fmt: skip
    for answer, missing in (
        (api.post(f"{H}/deployments", json={**escaping, "files": files}), "build farm"),
        (api.get(f"{D}/search", params={"name": "acme-signals.com"}), "registrar"),
        (api.get(f"{D}/suggestions", params={"name": "acme"}), "registrar"),
        (api.post(D, json={"name": "acme-signals.com"}), "registrar"),
        (api.post(f"{D}/{_domain(api, 'acme-outreach.com')['uuid']}/refresh-status"), "registrar"),
        (api.post(f"{R}/members/sync", json={"connectorUuid": hubspot["uuid"]}), "CRM"),
    ):
        assert _reason(answer, 422) == "unavailableInSandbox" and missing in answer.json()["errorMessage"]


def test_capacity_columns_and_filter_follow_its_model(api: httpx.Client) -> None:
    contacts = model_uuid(api, "contacts")
    body = {
        "name": "Leads",
        "color": "red",
        "modelUuid": contacts,
        "idColumnSlug": "email",
        "timeColumnSlug": "signup_date",
    }
    capacity = _one(api, "POST", f"{R}/capacities", "capacity", json=body)
    # moving it to another model keeps the columns, which that model does not have
    companies = model_uuid(api, "companies")
    moved = api.put(f"{R}/capacities/{capacity['uuid']}", json={"modelUuid": companies, "filter": None})
    assert _reason(moved, 400) == "invalidIdColumnSlug"
    fixed = {"modelUuid": companies, "idColumnSlug": "domain", "timeColumnSlug": "created_date", "filter": None}
    assert _one(api, "PUT", f"{R}/capacities/{capacity['uuid']}", "capacity", json=fixed)["modelUuid"] == companies
    assert _reason(api.put(f"{R}/capacities/{capacity['uuid']}", json={"name": "No filter key"}), 400) == "missingField"


def test_a_folder_holding_an_app_cannot_be_removed(api: httpx.Client) -> None:
    folder = _one(api, "POST", "/v1/workspaceManagement/folders", "folder",
                  json={"name": "Apps", "emojiSlug": "rocket", "kind": "app"})  # fmt: skip
    app = _one(
        api, "POST", f"{H}/apps", "app", json={"name": "A", "slug": "acme-in-folder", "folderUuid": folder["uuid"]}
    )
    tool_folder = next(
        f for f in _one(api, "GET", "/v1/workspaceManagement/folders/list", "folders") if f["kind"] == "tool"
    )
    wrong = api.put(f"{H}/apps/{app['uuid']}", json={"folderUuid": tool_folder["uuid"]})
    assert _reason(wrong, 400) == "folderNotCompatible"
    assert _reason(api.delete(f"/v1/workspaceManagement/folders/{folder['uuid']}"), 400) == "folderNotEmpty"
    assert api.request("DELETE", f"{H}/apps/{app['uuid']}", json={}).status_code == 200
    assert api.delete(f"/v1/workspaceManagement/folders/{folder['uuid']}").status_code == 200


def test_literal_segments_are_not_taken_for_uuids() -> None:
    router = build_router()
    for method, path, template in (
        ("GET", f"{H}/deployments/promoted", f"{H}/deployments/promoted"),
        ("POST", f"{H}/deployments/list", f"{H}/deployments/list"),
        ("GET", f"{H}/custom-domains/list", f"{H}/custom-domains/list"),
        ("GET", f"{D}/search", f"{D}/search"),
        ("GET", f"{D}/suggestions", f"{D}/suggestions"),
        ("GET", f"{R}/members/list", f"{R}/members/list"),
        ("POST", f"{R}/members/sync", f"{R}/members/sync"),
    ):
        matched = router.match(method, path)
        assert matched is not None and matched[0].template == template, path


def test_seeding_is_deterministic(tmp_path: Path, seeded_sandbox_template: Path) -> None:
    def ids(box: Sandbox) -> list[str]:
        return [r["uuid"] for t in SEEDED for r in box.app.db.all(f"SELECT uuid FROM {t} ORDER BY uuid")]

    fresh = Sandbox.open(tmp_path / "fresh", clock=FakeClock())
    copy = open_copy(seeded_sandbox_template, tmp_path / "copy", FakeClock())
    try:
        assert ids(fresh) == ids(copy) and len(ids(fresh)) == 2 + 6 + 3 + 5 + 3
    finally:
        fresh.close()
        copy.close()
