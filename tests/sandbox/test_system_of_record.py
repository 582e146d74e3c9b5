from __future__ import annotations

import csv
import io

import httpx
import pytest

BASE = "/v1/systemOfRecordIntegration"


def test_list_and_documentation(api: httpx.Client) -> None:
    systems = api.get(f"{BASE}/systemOfRecords").json()["systemOfRecords"]
    assert systems[0]["isActive"] is True and systems[0]["kind"] == "bigQuery"
    assert systems[0]["config"]["prefix"] == "datasets_" and systems[0]["config"]["dialect"] == "sqlite"
    secret = systems[0]["config"]["stringifiedServiceAccount"]
    assert secret["type"] == "encryption" and secret["isEncrypted"] is True
    doc = api.get(f"{BASE}/clients/sandbox/documentation").text
    assert "datasets_crm.models_contacts" in doc


def test_query_fetch_download(api: httpx.Client) -> None:
    sql = (
        "SELECT o.industry, COUNT(*) AS n FROM datasets_crm.models_contacts c JOIN datasets_crm.models_companies o"
        " ON o.domain = c.company_domain GROUP BY o.industry ORDER BY n DESC, o.industry"
    )
    body = api.post(f"{BASE}/clients/query", json={"query": sql}).json()
    assert body["outcome"] == "queried" and sum(r["n"] for r in body["rows"]) == 2000
    page = api.post(f"{BASE}/clients/fetch", json={"query": sql, "limit": 2, "offset": 1}).json()
    assert page["count"] == len(body["rows"]) and page["records"] == body["rows"][1:3]
    (url,) = api.post(f"{BASE}/clients/download", json={"query": sql}).json()["urls"]
    rows = list(csv.DictReader(io.StringIO(api.get(url).text)))
    assert [r["industry"] for r in rows] == [r["industry"] for r in body["rows"]]


def test_blob_columns_are_base64_in_json_and_csv(api: httpx.Client) -> None:
    sql = "SELECT x'00ff10' AS b, 'text' AS t"
    body = api.post(f"{BASE}/clients/query", json={"query": sql}).json()
    assert body["rows"] == [{"b": "AP8Q", "t": "text"}]
    page = api.post(f"{BASE}/clients/fetch", json={"query": sql}).json()
    assert page["records"] == body["rows"]
    (url,) = api.post(f"{BASE}/clients/download", json={"query": sql}).json()["urls"]
    assert list(csv.DictReader(io.StringIO(api.get(url).text))) == [{"b": "AP8Q", "t": "text"}]


def test_sql_errors_are_not_queried_outcomes(api: httpx.Client) -> None:
    body = api.post(f"{BASE}/clients/query", json={"query": "SELECT nope FROM datasets_crm.models_contacts"}).json()
    assert body["outcome"] == "notQueried" and "nope" in body["errorMessage"]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM datasets_crm.models_contacts", "readOnlyQuery"),
        ("UPDATE datasets_crm.models_contacts SET email = 'x'", "readOnlyQuery"),
        ("DROP TABLE datasets_crm.models_contacts", "readOnlyQuery"),
        ("CREATE TABLE t (x)", "readOnlyQuery"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "readOnlyQuery"),
        ("PRAGMA writable_schema = 1", "readOnlyQuery"),
        ("SELECT 1; DELETE FROM datasets_crm.models_contacts", "multipleStatements"),
        ("WITH x AS (SELECT 1) INSERT INTO datasets_crm.models_contacts (_id) SELECT 1", "readOnlyQuery"),
    ],
)
def test_writes_and_multiple_statements_are_refused(api: httpx.Client, sql: str, reason: str) -> None:
    for endpoint in ("query", "fetch", "download"):
        response = api.post(f"{BASE}/clients/{endpoint}", json={"query": sql})
        assert response.status_code == 400, (endpoint, response.text)
        assert response.json()["reason"] == reason
    count = api.post(f"{BASE}/clients/query", json={"query": "SELECT COUNT(*) AS n FROM datasets_crm.models_contacts"})
    assert count.json()["rows"] == [{"n": 2000}]


def test_metadata_tables_are_not_reachable(api: httpx.Client) -> None:
    for table in ("tokens", "main.tokens", "users", "credit_ledger"):
        body = api.post(f"{BASE}/clients/query", json={"query": f"SELECT * FROM {table}"}).json()
        assert body["outcome"] == "notQueried"
