"""Custom hostnames of hosted apps and workers, verified against DNS records.

``attach`` answers the two records that prove ownership (a CNAME to the hosting edge and a TXT
token). ``refresh-status`` really checks them where the sandbox can see DNS: for a hostname under
one of the workspace's own domains (domainManagement), the zone stored there is the DNS, so the
status becomes ``active`` once ``domain set-dns-records`` has put both records in place. Any
other hostname would need a public DNS lookup: 422 ``unavailableInSandbox``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.domains import domain_management
from cargo_shell.sandbox.domains.hosting_common import owner_key, owner_of
from cargo_shell.sandbox.fields import text
from cargo_shell.sandbox.http import ApiError, Request, Router, bad_request, not_found, unavailable
from cargo_shell.sandbox.util import iso, new_uuid

CNAME_TARGET = "custom-domains.sandbox.invalid"
RESERVED_SUFFIXES = (".sandbox.invalid", ".cargo.app")


def verification(ws: str, hostname: str) -> list[dict[str, str]]:
    """The records that prove the workspace controls ``hostname`` (the token is stable per workspace)."""
    token = hashlib.sha256(f"{ws}:{hostname}".encode()).hexdigest()[:32]
    return [
        {"recordType": "CNAME", "name": hostname, "value": CNAME_TARGET},
        {"recordType": "TXT", "name": f"_cargo-verification.{hostname}", "value": f"cargo-verification={token}"},
    ]


def custom_domain_json(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    return {
        "uuid": row["uuid"],
        "workspaceUuid": row["workspace_uuid"],
        "kind": kind,
        owner_key(kind): row["owner_uuid"],
        "hostname": row["hostname"],
        "status": row["status"],
        "verifiedAt": row["verified_at"],
        "verification": verification(row["workspace_uuid"], row["hostname"]),
        "cnameTarget": CNAME_TARGET,
        "providerRef": {},  # the edge provider's own bookkeeping: nothing of it is kept here
        "chargedUntil": row["charged_until"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def _custom_domain(db: Database, ws: str, uuid: Any) -> dict[str, Any]:
    if not isinstance(uuid, str):
        raise bad_request("uuid must be a custom domain uuid", "invalidField")
    row = db.one("SELECT * FROM hosting_custom_domains WHERE uuid = ? AND workspace_uuid = ?", (uuid, ws))
    if row is None:
        raise not_found("Custom domain", "customDomainNotFound")
    return row


def _hostname(body: dict[str, Any]) -> str:
    name = (text(body, "hostname") or "").strip().lower().rstrip(".")
    if not name:
        raise bad_request("hostname is required", "missingField")
    if not domain_management.DOMAIN_NAME_RE.match(name) or name.endswith(RESERVED_SUFFIXES):
        raise bad_request(f"{name[:80]!r} is not a hostname of your own such as portal.example.com", "invalidHostname")
    return name


def list_custom_domains(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    kind, owner = owner_of(db, ws, req.query, kind_required=False)
    rows = db.all(
        "SELECT * FROM hosting_custom_domains WHERE workspace_uuid = ? AND kind = ? AND owner_uuid = ?"
        " ORDER BY hostname",
        (ws, kind, owner["uuid"]),
    )
    return {"customDomains": [custom_domain_json(r) for r in rows]}


def get_custom_domain(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    return {"customDomain": custom_domain_json(_custom_domain(db, ws, req.path_params["uuid"]))}


def attach(req: Request) -> dict[str, Any]:
    db, ws, body = req.ctx.db, req.ctx.workspace_uuid, req.body()
    kind, owner = owner_of(db, ws, body, kind_required=True)
    hostname = _hostname(body)
    if db.scalar("SELECT 1 FROM hosting_custom_domains WHERE hostname = ?", (hostname,)):
        raise ApiError(400, f"{hostname} is already attached to an app or a worker", "hostnameAlreadyAttached")
    uuid, now = new_uuid(), iso(req.ctx.clock())
    db.execute(
        "INSERT INTO hosting_custom_domains VALUES (?, ?, ?, ?, ?, 'pending_verification', NULL, ?, ?, ?)",
        (uuid, ws, kind, owner["uuid"], hostname, now, now, now),
    )
    return {"customDomain": custom_domain_json(_custom_domain(db, ws, uuid))}


def detach(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _custom_domain(db, ws, req.path_params["uuid"])
    db.execute("DELETE FROM hosting_custom_domains WHERE uuid = ?", (row["uuid"],))
    return {"outcome": "detached"}


def verified(db: Database, ws: str, hostname: str) -> bool | None:
    """Whether the stored zone holding ``hostname`` has both verification records (None: no such zone)."""
    zone = domain_management.zone_for(db, ws, hostname)
    if zone is None:
        return None
    entries = domain_management.zone_entries(zone)
    wanted = {(v["recordType"], v["name"].lower(), v["value"].lower()) for v in verification(ws, hostname)}
    return wanted <= entries


def refresh_status(req: Request) -> dict[str, Any]:
    db, ws = req.ctx.db, req.ctx.workspace_uuid
    row = _custom_domain(db, ws, req.path_params["uuid"])
    found = verified(db, ws, row["hostname"])
    if found is None:
        raise unavailable(
            f"Checking the DNS records of {row['hostname']} (a public DNS lookup; hostnames under the workspace's"
            " own active domains, see `domain list`, are checked against their stored records)"
        )
    now = iso(req.ctx.clock())
    if found:  # verified now (again, after a failure: from now)
        status, verified_at = "active", row["verified_at"] if row["status"] == "active" else now
    else:  # records missing: never verified yet, or verified once and broken since
        status, verified_at = ("failed" if row["verified_at"] else "pending_verification"), row["verified_at"]
    db.execute(
        "UPDATE hosting_custom_domains SET status = ?, verified_at = ?, updated_at = ? WHERE uuid = ?",
        (status, verified_at, now, row["uuid"]),
    )
    return {"customDomain": custom_domain_json(_custom_domain(db, ws, row["uuid"]))}


def register(router: Router) -> None:
    r = router.route
    base = "/v1/hosting/custom-domains"
    r("POST", base)(attach)
    r("GET", f"{base}/list")(list_custom_domains)
    r("GET", f"{base}/{{uuid}}")(get_custom_domain)
    r("DELETE", f"{base}/{{uuid}}")(detach)
    r("POST", f"{base}/{{uuid}}/refresh-status")(refresh_status)
