from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import model_uuid, where

FETCH = "/v1/segmentation/segments/fetch"


def fetch(api: httpx.Client, model: str, flt: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = api.post(FETCH, json={"modelUuid": model, "filter": flt, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def sql_count(api: httpx.Client, sql: str) -> int:
    rows = api.post("/v1/systemOfRecordIntegration/clients/query", json={"query": sql}).json()["rows"]
    return int(next(iter(rows[0].values())))


def test_empty_filter_returns_every_record_with_columns(api: httpx.Client) -> None:
    contacts = model_uuid(api, "contacts")
    body = fetch(api, contacts, {"conjonction": "and", "groups": []}, fetchingLimit=5)
    assert body["count"] == 2000
    assert len(body["records"]) == 5
    assert body["isRefreshing"] is False
    slugs = {c["slug"] for c in body["columns"]}
    assert {"_id", "email", "company_name", "email_domain"} <= slugs
    assert all(c["modelUuid"] == contacts for c in body["columns"])


@pytest.mark.parametrize(
    ("condition", "sql_where"),
    [
        (
            {"kind": "string", "columnSlug": "job_title", "operator": "contains", "values": "founder"},
            "job_title LIKE '%founder%'",
        ),
        (
            {"kind": "string", "columnSlug": "country", "operator": "is", "values": ["FR", "DE"]},
            "country IN ('FR', 'DE')",
        ),
        ({"kind": "string", "columnSlug": "country", "operator": "isNot", "values": ["US"]}, "country <> 'US'"),
        ({"kind": "string", "columnSlug": "email", "operator": "endsWith", "values": [".fr"]}, "email LIKE '%.fr'"),
        (
            {"kind": "string", "columnSlug": "first_name", "operator": "startsWith", "values": ["Em", "Li"]},
            "first_name LIKE 'Em%' OR first_name LIKE 'Li%'",
        ),
        (
            {"kind": "string", "columnSlug": "job_title", "operator": "doesNotContain", "values": ["manager"]},
            "job_title NOT LIKE '%manager%'",
        ),
        ({"kind": "string", "columnSlug": "phone", "operator": "isNull"}, "phone IS NULL"),
        ({"kind": "string", "columnSlug": "phone", "operator": "isNotEmpty"}, "phone <> ''"),
        ({"kind": "number", "columnSlug": "lead_score", "operator": "greaterThan", "value": 90}, "lead_score > 90"),
        ({"kind": "number", "columnSlug": "lead_score", "operator": "lowerThan", "value": 5}, "lead_score < 5"),
        ({"kind": "number", "columnSlug": "lead_score", "operator": "is", "value": 50}, "lead_score = 50"),
        (
            {"kind": "number", "columnSlug": "lead_score", "operator": "between", "firstValue": 10, "lastValue": 20},
            "lead_score BETWEEN 10 AND 20",
        ),
        ({"kind": "boolean", "columnSlug": "is_subscribed", "operator": "isTrue"}, "is_subscribed = 1"),
        ({"kind": "boolean", "columnSlug": "is_subscribed", "operator": "isFalse"}, "is_subscribed = 0"),
        (
            {"kind": "date", "columnSlug": "signup_date", "operator": "greaterThan", "value": "2024-10-01"},
            "substr(signup_date, 1, 10) > '2024-10-01'",
        ),
    ],
)
def test_condition_matches_equivalent_sql(api: httpx.Client, condition: dict[str, Any], sql_where: str) -> None:
    body = fetch(api, model_uuid(api, "contacts"), where(condition), fetchingLimit=0)
    expected = sql_count(api, f"SELECT COUNT(*) FROM datasets_crm.models_contacts WHERE {sql_where}")
    assert body["count"] == expected
    assert 0 < expected < 2000


def test_groups_and_conjonctions(api: httpx.Client) -> None:
    fr = {"kind": "string", "columnSlug": "country", "operator": "is", "values": ["FR"]}
    hot = {"kind": "number", "columnSlug": "lead_score", "operator": "greaterThan", "value": 90}
    contacts = model_uuid(api, "contacts")
    both = fetch(api, contacts, where(fr, hot))["count"]
    either = fetch(api, contacts, where(fr, hot, conj="or"))["count"]
    groups = {"conjonction": "or", "groups": [where(fr)["groups"][0], where(hot)["groups"][0]]}  # type: ignore[index]
    assert fetch(api, contacts, groups)["count"] == either
    base = "SELECT COUNT(*) FROM datasets_crm.models_contacts WHERE "
    assert both == sql_count(api, base + "country = 'FR' AND lead_score > 90")
    assert either == sql_count(api, base + "country = 'FR' OR lead_score > 90")


def test_object_property_and_match_conditions(api: httpx.Client) -> None:
    companies = model_uuid(api, "companies")
    gold = {
        "kind": "objectProperty",
        "columnSlug": "attributes",
        "propertyName": "tier",
        "operator": "is",
        "value": "gold",
    }
    score = {
        "kind": "objectProperty",
        "columnSlug": "attributes",
        "propertyName": "score",
        "operator": "between",
        "value": "70",
        "otherValue": "100",
    }
    match = {
        "kind": "object",
        "columnSlug": "attributes",
        "operator": "matchConditions",
        "conjonction": "and",
        "propertyConditions": [gold, score],
    }
    count = fetch(api, companies, where(match))["count"]
    base = "SELECT COUNT(*) FROM datasets_crm.models_companies WHERE json_extract(attributes, '$.tier') = 'gold'"
    assert count == sql_count(api, base + " AND json_extract(attributes, '$.score') BETWEEN 70 AND 100")
    assert fetch(api, companies, where(gold))["count"] == sql_count(api, base)


def test_lookup_metric_and_related_conditions(api: httpx.Client) -> None:
    contacts, companies = model_uuid(api, "contacts"), model_uuid(api, "companies")
    lookup = {"kind": "string", "columnSlug": "company_industry", "operator": "is", "values": ["Fintech"]}
    related = {
        "kind": "string",
        "columnSlug": "industry",
        "operator": "is",
        "values": ["Fintech"],
        "relatedModelUuid": companies,
    }
    expected = sql_count(
        api,
        "SELECT COUNT(*) FROM datasets_crm.models_contacts c JOIN datasets_crm.models_companies"
        " o ON o.domain = c.company_domain WHERE o.industry = 'Fintech'",
    )
    assert fetch(api, contacts, where(lookup))["count"] == expected
    assert fetch(api, contacts, where(related))["count"] == expected
    metric = {"kind": "number", "columnSlug": "contacts_count", "operator": "greaterThan", "value": 5}
    body = fetch(api, companies, where(metric), sort=[{"columnSlug": "contacts_count", "kind": "desc"}])
    counts = [r["contacts_count"] for r in body["records"]]
    assert counts == sorted(counts, reverse=True) and counts[-1] > 5


def test_segment_occurrence_and_sql_conditions(api: httpx.Client) -> None:
    contacts, companies = model_uuid(api, "contacts"), model_uuid(api, "companies")
    segment = next(s for s in api.get("/v1/segmentation/segments/list").json()["segments"] if s["name"] == "Hot leads")
    member = {"kind": "segment", "operator": "in", "segmentUuid": segment["uuid"]}
    not_member = {**member, "operator": "notIn"}
    assert fetch(api, contacts, where(member))["count"] == segment["recordsCount"]
    assert fetch(api, contacts, where(not_member))["count"] == 2000 - segment["recordsCount"]
    occurrence = {
        "kind": "occurrence",
        "relatedModelUuid": contacts,
        "frequency": {"operator": "moreThan", "value": 6},
        "period": {"operator": "moreThan", "value": 0, "unit": "day"},
        "conjonction": "and",
        "conditions": [],
    }
    count = fetch(api, companies, where(occurrence))["count"]
    assert count == sql_count(
        api,
        "SELECT COUNT(*) FROM datasets_crm.models_companies o WHERE (SELECT COUNT(*) FROM"
        " datasets_crm.models_contacts c WHERE c.company_domain = o.domain) > 6",
    )
    raw = {"kind": "sql", "name": "big", "clause": "employees > 5000 AND country = 'US'"}
    base = "SELECT COUNT(*) FROM datasets_crm.models_companies WHERE employees > 5000 AND country = 'US'"
    assert fetch(api, companies, where(raw))["count"] == sql_count(api, base)


def test_enrollment_without_runs_means_never_entered(api: httpx.Client) -> None:
    never = {
        "kind": "enrollment",
        "workflowUuid": "00000000-0000-4000-8000-000000000001",
        "activityKind": "workflowEntered",
        "frequency": {"operator": "not"},
        "period": {"operator": "moreThan", "value": 0, "unit": "day"},
    }
    contacts = model_uuid(api, "contacts")
    assert fetch(api, contacts, where(never))["count"] == 2000
    once = {**never, "frequency": {"operator": "exactly", "value": 1}}
    assert fetch(api, contacts, where(once))["count"] == 0


def test_paging_sort_and_limit(api: httpx.Client) -> None:
    contacts = model_uuid(api, "contacts")
    everyone = {"conjonction": "and", "groups": []}
    sort = [{"columnSlug": "lead_score", "kind": "desc"}, {"columnSlug": "email", "kind": "asc"}]
    first = fetch(api, contacts, everyone, sort=sort, fetchingLimit=10)["records"]
    second = fetch(api, contacts, everyone, sort=sort, fetchingLimit=10, fetchingOffset=10)["records"]
    scores = [r["lead_score"] for r in first + second]
    assert scores == sorted(scores, reverse=True)
    assert not {r["_id"] for r in first} & {r["_id"] for r in second}
    capped = fetch(api, contacts, everyone, limit=15, fetchingLimit=10, fetchingOffset=10)
    assert capped["count"] == 15 and len(capped["records"]) == 5


@pytest.mark.parametrize(
    "flt",
    [
        {"conjunction": "and", "groups": []},
        where({"kind": "number", "columnSlug": "email", "operator": "greaterThan", "value": 3}),
        where({"kind": "string", "columnSlug": "nope", "operator": "is", "values": ["x"]}),
        where({"kind": "string", "columnSlug": "email", "operator": "explode", "values": ["x"]}),
        where({"kind": "number", "columnSlug": "lead_score", "operator": "is", "value": "ten"}),
        where({"kind": "sql", "name": "x", "clause": "1=1; DROP TABLE models_contacts"}),
    ],
)
def test_invalid_filters_are_400(api: httpx.Client, flt: dict[str, Any]) -> None:
    response = api.post(FETCH, json={"modelUuid": model_uuid(api, "contacts"), "filter": flt})
    assert response.status_code == 400
    assert response.json()["reason"] == "invalidFilter" or response.json()["reason"] == "columnNotFound"


@pytest.mark.parametrize(
    "payload",
    ["x' OR '1'='1", "'); DROP TABLE models_contacts; --", "%", "_", "\\", '" OR 1=1 --'],
)
def test_values_cannot_inject_sql(api: httpx.Client, payload: str) -> None:
    contacts = model_uuid(api, "contacts")
    for op in ("is", "contains", "startsWith"):
        cond = {"kind": "string", "columnSlug": "email", "operator": op, "values": [payload]}
        assert fetch(api, contacts, where(cond))["count"] == 0
    assert fetch(api, contacts, {"conjonction": "and", "groups": []})["count"] == 2000


@pytest.mark.parametrize("slug", ['email" OR 1=1 --', "email) OR (1=1", "_id; DROP TABLE x", "EMAIL"])
def test_column_slugs_cannot_inject_sql(api: httpx.Client, slug: str) -> None:
    contacts = model_uuid(api, "contacts")
    cond = {"kind": "string", "columnSlug": slug, "operator": "isNotNull"}
    response = api.post(FETCH, json={"modelUuid": contacts, "filter": where(cond)})
    assert response.status_code == 400
    sort = api.post(FETCH, json={"modelUuid": contacts, "filter": where(), "sort": [{"columnSlug": slug}]})
    assert sort.status_code == 400


def test_raw_sql_clause_runs_read_only(api: httpx.Client) -> None:
    companies = model_uuid(api, "companies")
    for clause in ("load_extension('/tmp/evil')", "writefile('/tmp/x', 'y') IS NULL"):
        cond = {"kind": "sql", "name": "x", "clause": clause}
        response = api.post(FETCH, json={"modelUuid": companies, "filter": where(cond)})
        assert response.status_code == 400, clause
    assert fetch(api, companies, where())["count"] == 500


def test_segment_crud_and_changes(api: httpx.Client, fake_clock: Any) -> None:
    contacts = model_uuid(api, "contacts")
    flt = where({"kind": "string", "columnSlug": "country", "operator": "is", "values": ["FR"]})
    created = api.post(
        "/v1/segmentation/segments", json={"name": "French contacts", "modelUuid": contacts, "filter": flt}
    )
    assert created.status_code == 200, created.text
    segment = created.json()["segment"]
    assert segment["recordsCount"] == fetch(api, contacts, flt)["count"]
    assert segment["slug"] == "french_contacts"
    fake_clock.advance(3600)
    narrower = where(
        {"kind": "string", "columnSlug": "country", "operator": "is", "values": ["FR"]},
        {"kind": "boolean", "columnSlug": "is_subscribed", "operator": "isTrue"},
    )
    updated = api.put(f"/v1/segmentation/segments/{segment['uuid']}", json={"filter": narrower, "name": "FR subs"})
    assert updated.status_code == 200
    assert updated.json()["segment"]["recordsCount"] < segment["recordsCount"]
    changes = api.get("/v1/segmentation/changes/list", params={"segmentUuid": segment["uuid"]}).json()["changes"]
    assert len(changes) == 2
    assert changes[0]["removedRecordsCount"] == segment["recordsCount"] - updated.json()["segment"]["recordsCount"]
    got = api.get(f"/v1/segmentation/segments/{segment['uuid']}").json()["segment"]
    assert got["name"] == "FR subs" and got["lastChange"]["uuid"] == changes[0]["uuid"]
    assert api.delete(f"/v1/segmentation/segments/{segment['uuid']}").status_code == 200
    again = api.delete(f"/v1/segmentation/segments/{segment['uuid']}")
    assert again.status_code == 404 and again.json()["reason"] == "segmentAlreadyRemoved"


def test_download_streams_csv_from_signed_url(api: httpx.Client) -> None:
    contacts = model_uuid(api, "contacts")
    flt = where({"kind": "string", "columnSlug": "country", "operator": "is", "values": ["DE"]})
    response = api.post(
        "/v1/segmentation/segments/download",
        json={"modelUuid": contacts, "filter": flt, "sort": [{"columnSlug": "email", "kind": "asc"}]},
    )
    assert response.status_code == 200
    (url,) = response.json()["urls"]
    assert "/_sandbox/downloads/" in url
    with httpx.Client(transport=api._transport, base_url=str(api.base_url)) as anonymous:  # signed: no token
        data = anonymous.get(url)
        assert data.status_code == 200
        assert anonymous.get(url.split("?")[0] + "?signature=wrong").status_code == 404
    rows = list(csv.DictReader(io.StringIO(data.text)))
    assert len(rows) == fetch(api, contacts, flt)["count"]
    assert [r["email"] for r in rows] == sorted(r["email"] for r in rows)
    assert all(r["country"] == "DE" for r in rows)
    assert rows[0]["company_name"]  # lookup columns are exported too
