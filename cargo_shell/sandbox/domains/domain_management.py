"""Domains bought through Cargo (domainManagement): the stored registrations and their DNS zones.

Served for real: list, get, cancel, and the DNS records (list and replace). The zone is stored
here, so ``hosting custom-domain refresh-status`` checks what ``set-dns-records`` wrote.
Refused with 422 ``unavailableInSandbox``: search, suggestions, purchase and refresh-status —
availability, prices and the registration itself are the registrar's (Mailpool), which the
sandbox cannot reach. Inventing an "available" answer would invite a purchase decision on fiction.
"""

from __future__ import annotations

import ipaddress
import random
import re
import sqlite3
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.fields import objects, optional, text
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request, unavailable
from cargo_shell.sandbox.seed import SEED
from cargo_shell.sandbox.util import as_int, iso, live_row, new_uuid, seeded_now

RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV", "TXT")
MAX_RECORDS = 200
_LABEL = r"(?:\*|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)"
RECORD_NAME_RE = re.compile(rf"^(?:@|{_LABEL}(?:\.{_LABEL})*\.?)$")
DOMAIN_NAME_RE = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DAY = 86400.0


@register_migration("452_domain_management_tables")
def _m452(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE domains (uuid TEXT PRIMARY KEY, workspace_uuid TEXT NOT NULL, name TEXT NOT NULL,"
        " status TEXT NOT NULL, dns_records TEXT NOT NULL, price_credits INTEGER, billing_usage_uuid TEXT,"
        " expires_at TEXT, renewal_charged_until TEXT, auto_renew INTEGER NOT NULL, user_uuid TEXT NOT NULL,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT)"
    )
    conn.execute("CREATE INDEX domains_by_workspace ON domains (workspace_uuid, name)")


def domain_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "name": row["name"],
        "status": row["status"],
        "registrar": "mailpool",
        "providerRef": {},  # the registrar's own bookkeeping: nothing of it is kept here
        "dnsRecords": loads(row["dns_records"], []),
        "priceCredits": row["price_credits"],
        "billingUsageUuid": row["billing_usage_uuid"],
        "expiresAt": row["expires_at"],
        "renewalChargedUntil": row["renewal_charged_until"],
        "autoRenew": bool(row["auto_renew"]),
        "userUuid": row["user_uuid"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": row["deleted_at"],
    }


def _domain(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    return live_row(db, "domains", ws, uuid, "Domain", "domainNotFound")


def _domain_name(src: dict[str, Any], field: str = "name") -> str:
    name = (text(src, field) or "").strip().lower().rstrip(".")
    if not name:
        raise bad_request(f"{field} is required", "missingField")
    if not DOMAIN_NAME_RE.match(name):
        raise bad_request(f"{name[:80]!r} is not a domain name such as acme-outreach.com", "invalidDomainName")
    return name


# -- DNS records -----------------------------------------------------------------------------
def check_records(value: Any) -> list[dict[str, Any]]:
    """A record set as the API stores it; 400 ``invalidDnsRecord`` naming the record at fault."""
    records = objects({"records": value}, "records")
    if records is None:
        raise bad_request("records is required (an empty list removes every record)", "missingField")
    if len(records) > MAX_RECORDS:
        raise bad_request(f"At most {MAX_RECORDS} records per domain", "invalidDnsRecord")
    out = [_record(record, f"records[{i}]") for i, record in enumerate(records)]
    names: dict[str, list[str]] = {}
    for record in out:
        names.setdefault(record["name"].lower().rstrip("."), []).append(record["type"])
    for name, types in names.items():
        if "CNAME" in types and len(types) > 1:
            raise bad_request(
                f"A CNAME record cannot share its name {name!r} with any other record", "invalidDnsRecord"
            )
    return out


def _record(record: dict[str, Any], where: str) -> dict[str, Any]:
    def bad(problem: str) -> ApiError:
        return bad_request(f"{where}: {problem}", "invalidDnsRecord")

    kind = record.get("type")
    if kind not in RECORD_TYPES:
        raise bad(f"type must be one of {', '.join(RECORD_TYPES)}")
    name = text(record, "name") or ""
    if len(name) > 253 or not RECORD_NAME_RE.match(name):
        raise bad("name must be @ (the domain itself) or a host name such as www or _dmarc")
    value = text(record, "value") or ""
    if not value or len(value) > 4096 or _CONTROL.search(value):
        raise bad("value must be a non-empty single-line text")
    if kind in ("A", "AAAA"):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or address.version != (4 if kind == "A" else 6):
            raise bad(f"an {kind} record's value is an IPv{4 if kind == 'A' else 6} address")
    ttl = optional(record, "ttl", int)
    if ttl is not None and not 60 <= ttl <= 604800:
        raise bad("ttl is between 60 and 604800 seconds (or null)")
    priority = optional(record, "priority", int)
    if priority is not None and not 0 <= priority <= 65535:
        raise bad("priority is between 0 and 65535 (or null)")
    if kind in ("MX", "SRV") and priority is None:
        raise bad(f"an {kind} record needs a priority")
    return {"type": kind, "name": name, "value": value, "ttl": ttl, "priority": priority}


def zone_for(db: Database, ws: str, hostname: str) -> dict[str, Any] | None:
    """The workspace's active domain whose zone holds ``hostname`` (the longest match), if any."""
    best: dict[str, Any] | None = None
    for row in db.all(
        "SELECT * FROM domains WHERE workspace_uuid = ? AND status = 'active' AND deleted_at IS NULL", (ws,)
    ):
        name = row["name"]
        if (hostname == name or hostname.endswith("." + name)) and (best is None or len(name) > len(best["name"])):
            best = row
    return best


def zone_entries(zone: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(type, fully qualified name, value) of every record of a zone, lower-cased, trailing dots dropped."""
    domain = zone["name"]
    out: set[tuple[str, str, str]] = set()
    for record in loads(zone["dns_records"], []):
        name = str(record["name"]).lower()
        if name == "@":
            fqdn = domain
        elif name.endswith("."):
            fqdn = name.rstrip(".")
        elif name == domain or name.endswith("." + domain):
            fqdn = name
        else:
            fqdn = f"{name}.{domain}"
        out.add((record["type"], fqdn, str(record["value"]).lower().rstrip(".")))
    return out


def add_records(db: Database, zone_uuid: str, records: list[dict[str, Any]]) -> None:
    """Append records to a stored zone (seeding: the records a hosted hostname is verified with)."""
    row = db.one("SELECT dns_records FROM domains WHERE uuid = ?", (zone_uuid,))
    if row is not None:
        current = loads(row["dns_records"], [])
        db.execute("UPDATE domains SET dns_records = ? WHERE uuid = ?", (dumps(current + records), zone_uuid))


# -- routes ----------------------------------------------------------------------------------
def list_domains(req: Request) -> dict[str, Any]:
    limit = as_int(req.query.get("limit"), "limit", 100, maximum=1000)
    offset = as_int(req.query.get("offset"), "offset", 0)
    rows = req.ctx.db.all(
        "SELECT * FROM domains WHERE workspace_uuid = ? AND deleted_at IS NULL ORDER BY created_at, name"
        " LIMIT ? OFFSET ?",
        (req.ctx.workspace_uuid, limit, offset),
    )
    return {"domains": [domain_json(r) for r in rows]}


def get_domain(req: Request) -> dict[str, Any]:
    return {"domain": domain_json(_domain(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"]))}


def list_dns_records(req: Request) -> dict[str, Any]:
    row = _domain(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    return {"dnsRecords": loads(row["dns_records"], [])}


def set_dns_records(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    row = _domain(db, ws, req.path_params["uuid"])
    records = check_records(body.get("records"))
    if row["status"] != "active":
        raise ApiError(
            400, f"The domain is {row['status']}: only an active domain takes DNS records", "domainNotActive"
        )
    db.execute(
        "UPDATE domains SET dns_records = ?, updated_at = ? WHERE uuid = ?",
        (dumps(records), iso(req.ctx.clock()), row["uuid"]),
    )
    return {"domain": domain_json(_domain(db, ws, row["uuid"]))}


def cancel_domain(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _domain(db, ws, req.path_params["uuid"])
    if row["status"] not in ("active", "pending"):
        raise ApiError(400, f"The domain is already {row['status']}", "domainNotCancellable")
    db.execute(
        "UPDATE domains SET status = 'cancelled', auto_renew = 0, updated_at = ? WHERE uuid = ?",
        (iso(req.ctx.clock()), row["uuid"]),
    )
    return {"domain": domain_json(_domain(db, ws, row["uuid"]))}


def refresh_status(req: Request) -> dict[str, Any]:
    _domain(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuid"])
    raise unavailable("Refreshing a domain's status (the registrar holds the registration)")


def search(req: Request) -> dict[str, Any]:
    _domain_name(req.query)
    raise unavailable("Domain search (availability and prices are the registrar's)")


def suggestions(req: Request) -> dict[str, Any]:
    if not (text(req.query, "name") or "").strip():
        raise bad_request("name is required", "missingField")
    raise unavailable("Domain suggestions (availability and prices are the registrar's)")


def purchase(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    name = _domain_name(req.body())
    if db.scalar(
        "SELECT 1 FROM domains WHERE workspace_uuid = ? AND name = ? AND status IN ('active', 'pending')"
        " AND deleted_at IS NULL",
        (ws, name),
    ):
        raise ApiError(400, f"The workspace already owns {name}", "domainAlreadyExists")
    raise unavailable("Buying a domain (it is registered and paid at the registrar)")


def register(router: Router) -> None:
    r = router.route
    base = "/v1/domainManagement/domains"
    r("GET", base)(list_domains)
    r("POST", base)(purchase)
    r("GET", f"{base}/search")(search)
    r("GET", f"{base}/suggestions")(suggestions)
    r("GET", f"{base}/{{uuid}}")(get_domain)
    r("DELETE", f"{base}/{{uuid}}")(cancel_domain)
    r("POST", f"{base}/{{uuid}}/refresh-status")(refresh_status)
    r("GET", f"{base}/{{uuid}}/dns-records")(list_dns_records)
    r("PUT", f"{base}/{{uuid}}/dns-records")(set_dns_records)


# -- demo data -------------------------------------------------------------------------------
#: (name, status, age in days, days to expiry or None, price in credits, auto-renew, records)
DEMO_DOMAINS: tuple[tuple[str, str, int, int | None, int, bool, list[dict[str, Any]]], ...] = (
    (
        "acme-outreach.com", "active", 200, 165, 12, True,
        [
            {"type": "MX", "name": "@", "value": "mx1.mailpool-demo.example.net", "ttl": 3600, "priority": 10},
            {"type": "TXT", "name": "@", "value": "v=spf1 include:spf.mailpool-demo.example.net ~all", "ttl": 3600,
             "priority": None},
            {"type": "TXT", "name": "_dmarc", "value": "v=DMARC1; p=none", "ttl": 3600, "priority": None},
        ],
    ),
    ("acme-demo.io", "pending", 1, None, 35, True, []),
    ("tryacme.co", "expired", 400, -20, 9, False, []),
)  # fmt: skip


def seed_domains(db: Database, ws: str, _rng: random.Random) -> None:
    rng = random.Random(f"{SEED}:domainManagement")  # its own: independent of the other seed hooks' order
    now = seeded_now(db, ws)
    user = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'") or ""
    with db.transaction():
        for name, status, age, expiry, price, renew, records in DEMO_DOMAINS:
            created = iso(now - age * DAY)
            expires = iso(now + expiry * DAY) if expiry is not None else None
            db.execute(
                "INSERT INTO domains VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, NULL)",
                (new_uuid(rng), ws, name, status, dumps(records), price, expires, expires, int(renew), user, created,
                 created),
            )  # fmt: skip
