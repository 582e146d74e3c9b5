"""Demo CRM data: dataset ``crm`` with related models ``companies`` (~500) and ``contacts`` (~2,000).

Columns of every kind: original, custom, computed (values materialised here), metric
(contacts per company) and lookup (company name/industry on contacts).
"""

from __future__ import annotations

import json
import random
from typing import Any

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.seed_words import COUNTRIES, FIRST, INDUSTRIES, LAST, PREFIXES, SUFFIXES, TITLES, TLDS
from cargo_shell.sandbox.util import iso, new_uuid
from cargo_shell.sandbox.warehouse import create_table, q

COMPANIES = 500
CONTACTS = 2000
COMPANY_COLUMNS: list[tuple[str, str, str]] = [
    ("domain", "string", "Domain"),
    ("name", "string", "Name"),
    ("industry", "string", "Industry"),
    ("employees", "number", "Employees"),
    ("country", "string", "Country"),
    ("founded_year", "number", "Founded"),
    ("annual_revenue", "number", "Annual revenue (USD)"),
    ("is_customer", "boolean", "Is customer"),
    ("created_date", "date", "Created"),
    ("attributes", "object", "Attributes"),
    ("tags", "array", "Tags"),
]
CONTACT_COLUMNS: list[tuple[str, str, str]] = [
    ("email", "string", "Email"),
    ("full_name", "string", "Full name"),
    ("first_name", "string", "First name"),
    ("last_name", "string", "Last name"),
    ("job_title", "string", "Job title"),
    ("seniority", "string", "Seniority"),
    ("company_domain", "string", "Company domain"),
    ("country", "string", "Country"),
    ("phone", "string", "Phone"),
    ("linkedin_url", "string", "LinkedIn URL"),
    ("is_subscribed", "boolean", "Subscribed"),
    ("signup_date", "date", "Signup date"),
    ("lead_score", "number", "Lead score"),
]


def _ascii(text: str) -> str:
    table = str.maketrans("éèêëàâäîïôöûüçñ", "eeeeaaaiioouucn")
    return text.lower().translate(table).replace(" ", "").replace("'", "")


def _size_bucket(employees: int) -> str:
    return "enterprise" if employees >= 1000 else "mid-market" if employees >= 200 else "smb"


def _add_model(
    db: Database,
    ws: str,
    dataset: str,
    slug: str,
    name: str,
    id_col: str,
    title_col: str,
    time_col: str | None,
    columns: list[tuple[str, str, str]],
    ts: str,
    rng: random.Random,
) -> str:
    uuid = new_uuid(rng)
    data = {
        "config": {"columns": [{"slug": s, "type": t, "label": lbl} for s, t, lbl in columns]},
        "position": {"x": 0, "y": 0},
        "schedule": None,
        "meta": None,
        "lastRun": {
            "uuid": new_uuid(rng),
            "status": "success",
            "errorMessage": None,
            "createdAt": ts,
            "finishedAt": ts,
        },
    }
    db.execute(
        "INSERT INTO models (uuid, workspace_uuid, dataset_uuid, slug, name, description, kind, extractor_slug,"
        " id_column_slug, title_column_slug, time_column_slug, data, last_emitted_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'native', 'custom', ?, ?, ?, ?, ?, ?, ?)",
        (
            uuid,
            ws,
            dataset,
            slug,
            name,
            f"Demo {name.lower()} of the sandbox CRM",
            id_col,
            title_col,
            time_col,
            dumps(data),
            ts,
            ts,
            ts,
        ),
    )
    for position, (col, col_type, label) in enumerate(columns):
        db.execute(
            "INSERT INTO columns VALUES (?, ?, ?, ?, 'original', ?, ?, ?)",
            (uuid, col, ws, position, col_type, label, dumps({"originalSlug": col})),
        )
    return uuid


def _add_column(
    db: Database, ws: str, model: str, slug: str, kind: str, col_type: str, label: str, extra: dict[str, Any]
) -> None:
    position = db.scalar("SELECT COUNT(*) FROM columns WHERE model_uuid = ?", (model,))
    db.execute(
        "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (model, slug, ws, position, kind, col_type, label, dumps(extra)),
    )


def seed_crm(db: Database, ws: str, now: float, rng: random.Random) -> dict[str, str]:
    """Create the dataset, both models with their rows, the relationship and extra columns."""
    ts = iso(now - 60 * 86400)
    dataset = new_uuid(rng)
    db.execute("INSERT INTO datasets VALUES (?, ?, 'crm', 'CRM', 'native', NULL, ?, ?, NULL)", (dataset, ws, ts, ts))
    companies = _add_model(
        db, ws, dataset, "companies", "Companies", "domain", "name", "created_date", COMPANY_COLUMNS, ts, rng
    )
    contacts = _add_model(
        db, ws, dataset, "contacts", "Contacts", "email", "full_name", "signup_date", CONTACT_COLUMNS, ts, rng
    )
    relationship = new_uuid(rng)
    db.execute(
        "INSERT INTO relationships VALUES (?, ?, ?, ?, 'company_domain', ?, ?, 'domain', 'manyToOne', ?)",
        (relationship, ws, dataset, contacts, dataset, companies, dumps({})),
    )
    _add_column(db, ws, companies, "account_owner", "custom", "string", "Account owner", {})
    _add_column(
        db,
        ws,
        companies,
        "size_bucket",
        "computed",
        "string",
        "Size bucket",
        {
            "expression": {
                "kind": "jsExpression",
                "instructTo": "none",
                "fromRecipe": False,
                "expression": "employees >= 1000 ? 'enterprise' : employees >= 200 ? 'mid-market' : 'smb'",
            },
            "columnsUsed": ["employees"],
        },
    )
    _add_column(
        db,
        ws,
        companies,
        "contacts_count",
        "metric",
        "number",
        "Contacts",
        {"relationshipUuid": relationship, "aggregation": {"function": "COUNT", "columnSlug": "email"}},
    )
    _add_column(
        db,
        ws,
        companies,
        "avg_lead_score",
        "metric",
        "number",
        "Average lead score",
        {"relationshipUuid": relationship, "aggregation": {"function": "AVG", "columnSlug": "lead_score"}},
    )
    _add_column(db, ws, contacts, "notes", "custom", "string", "Notes", {})
    _add_column(
        db,
        ws,
        contacts,
        "email_domain",
        "computed",
        "string",
        "Email domain",
        {
            "expression": {
                "kind": "jsExpression",
                "instructTo": "none",
                "fromRecipe": False,
                "expression": "email.split('@')[1]",
            },
            "columnsUsed": ["email"],
        },
    )
    for slug, label, extract in (
        ("company_name", "Company name", "name"),
        ("company_industry", "Industry", "industry"),
        ("company_employees", "Company employees", "employees"),
    ):
        col_type = "number" if extract == "employees" else "string"
        _add_column(
            db,
            ws,
            contacts,
            slug,
            "lookup",
            col_type,
            label,
            {
                "join": {"toModelUuid": companies, "fromColumnSlug": "company_domain", "toColumnSlug": "domain"},
                "extractColumnSlug": extract,
            },
        )
    conn = db.dataset_conn(dataset)
    company_cols = [*((s, t) for s, t, _ in COMPANY_COLUMNS), ("account_owner", "string"), ("size_bucket", "string")]
    contact_cols = [*((s, t) for s, t, _ in CONTACT_COLUMNS), ("notes", "string"), ("email_domain", "string")]
    create_table(conn, "models_companies", company_cols)
    create_table(conn, "models_contacts", contact_cols)
    conn.execute("CREATE INDEX IF NOT EXISTS models_contacts_company ON models_contacts (company_domain)")
    owners = ("ada.admin@acme-demo.com", "grace.hopper@acme-demo.com", None)
    weights = [w for _, w in COUNTRIES]
    codes = [c for c, _ in COUNTRIES]
    company_rows: list[list[Any]] = []
    domains: list[tuple[str, str]] = []
    used: set[str] = set()
    while len(company_rows) < COMPANIES:
        name = f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)}"
        country = rng.choices(codes, weights)[0]
        domain = _ascii(name) + TLDS[country]
        if domain in used:
            continue
        used.add(domain)
        employees = int(rng.lognormvariate(4.5, 1.4)) + 2
        created = iso(now - rng.randint(1, 900) * 86400 - rng.randint(0, 86399))
        attrs = {"tier": rng.choice(("gold", "silver", "bronze")), "score": rng.randint(1, 100)}
        tags = rng.sample(("b2b", "saas", "plg", "enterprise", "startup", "public", "remote"), rng.randint(0, 3))
        row = [
            domain,
            name,
            created,
            domain,
            name,
            rng.choice(INDUSTRIES),
            employees,
            country,
            rng.randint(1950, 2023),
            employees * rng.randint(60, 400) * 1000,
            int(rng.random() < 0.18),
            created,
            json.dumps(attrs),
            json.dumps(tags),
            rng.choice(owners),
            _size_bucket(employees),
        ]
        company_rows.append(row)
        domains.append((domain, country))
    contact_rows: list[list[Any]] = []
    emails: set[str] = set()
    while len(contact_rows) < CONTACTS:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain, country = rng.choice(domains)
        email = f"{_ascii(first)}.{_ascii(last)}@{domain}"
        if email in emails:
            email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(2, 99)}@{domain}"
            if email in emails:
                continue
        emails.add(email)
        title, seniority = rng.choice(TITLES)
        signup = iso(now - rng.randint(0, 365) * 86400 - rng.randint(0, 86399))
        phone = (
            None if rng.random() < 0.3 else f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        )
        full = f"{first} {last}"
        slug_name = _ascii(first) + "-" + _ascii(last).replace(".", "")
        row = [
            email,
            full,
            signup,
            email,
            full,
            first,
            last,
            title,
            seniority,
            domain,
            country,
            phone,
            f"https://www.linkedin.com/in/{slug_name}-{rng.randint(100, 999)}",
            int(rng.random() < 0.6),
            signup,
            rng.randint(0, 100),
            None,
            email.split("@")[1],
        ]
        contact_rows.append(row)
    _insert(conn, "models_companies", company_cols, company_rows)
    _insert(conn, "models_contacts", contact_cols, contact_rows)
    return {"dataset": dataset, "companies": companies, "contacts": contacts, "relationship": relationship}


def _insert(conn: Any, table: str, cols: list[tuple[str, str]], rows: list[list[Any]]) -> None:
    names = ", ".join(["_id", "_title", "_emitted_at", *(q(c) for c, _ in cols)])
    marks = ", ".join("?" for _ in range(len(cols) + 3))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO {q(table)} ({names}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
