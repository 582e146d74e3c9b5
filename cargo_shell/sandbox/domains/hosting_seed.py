"""Demo hosting data: two apps and a worker, their deployments, variables and custom hostnames.

It tells one story per command: a dashboard app whose live deployment replaced an older one (and
whose latest build failed), a portal that never built, a webhook worker with a build still queued
(the sandbox has no build farm, so it waits until cancelled), and two hostnames under the demo
domain acme-outreach.com — one verified (its records are in the zone), one waiting for its records.
"""

from __future__ import annotations

import random
from typing import Any

from cargo_shell.sandbox.db import Database, dumps
from cargo_shell.sandbox.domains import domain_management
from cargo_shell.sandbox.domains.hosting_deployments import sources_digest
from cargo_shell.sandbox.domains.hosting_domains import CNAME_TARGET, verification
from cargo_shell.sandbox.domains.hosting_env import stored_value
from cargo_shell.sandbox.seed import SEED
from cargo_shell.sandbox.util import iso, new_uuid, seeded_now

DAY = 86400.0
APP_FILES = [
    {"path": "package.json", "content": '{"name": "pipeline-dashboard", "private": true, "scripts": {"build": '
     '"vite build"}, "dependencies": {"@cargo-ai/app-sdk": "^1.0.0"}}\n'},
    {"path": "index.html", "content": '<div id="root"></div><script type="module" src="/src/main.tsx"></script>\n'},
    {"path": "src/main.tsx", "content": 'import { createRoot } from "react-dom/client";\n'
     'createRoot(document.getElementById("root")!).render(<h1>Pipeline</h1>);\n'},
]  # fmt: skip
WORKER_FILES = [
    {"path": "package.json", "content": '{"name": "crm-webhooks", "private": true, "dependencies": '
     '{"@cargo-ai/worker-sdk": "^1.0.0"}}\n'},
    {"path": "src/index.ts", "content": "export default {\n  async fetch(request: Request): Promise<Response> {\n"
     '    return new Response("ok");\n  },\n};\n'},
]  # fmt: skip
TRIGGERS = [
    {"type": "cron", "name": "nightly-sync", "description": "Re-read deals changed during the day", "cron": "0 3 * * *",
     "path": "/sync", "method": "POST"},
]  # fmt: skip


def _log(ok: bool, error: str | None) -> str:
    lines = ["$ npm ci", "added 214 packages in 9s", "$ npm run build", "> vite build"]
    lines += ["✓ 38 modules transformed.", "dist/index.html  0.46 kB", "built in 2.31s"] if ok else [f"error: {error}"]
    return "\n".join(lines) + "\n"


def seed_hosting(db: Database, ws: str, _rng: random.Random) -> None:
    rng = random.Random(f"{SEED}:hosting")  # its own: independent of the other seed hooks' order
    now = seeded_now(db, ws)
    user = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'") or ""

    def slot(table: str, name: str, slug: str, description: str, age: float, triggers: Any = None) -> str:
        uuid, stamp = new_uuid(rng), iso(now - age * DAY)
        columns = "uuid, workspace_uuid, name, slug, description, user_uuid, charged_until, created_at, updated_at"
        values = [uuid, ws, name, slug, description, user, stamp, stamp, stamp]
        if triggers is not None:
            columns += ", triggers"
            values.append(dumps([{**t, "temporalScheduleWorkflowId": f"hosting-worker-{uuid}-trigger-{t['name']}"}
                                 for t in triggers]))  # fmt: skip
        db.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in values)})", values)
        return uuid

    def deploy(kind: str, owner: str, files: list[dict[str, str]], age: float, status: str,
               error: str | None = None, promoted: bool = False) -> str:  # fmt: skip
        uuid, created = new_uuid(rng), now - age * DAY
        built = status == "success"  # a bundle exists only once built; the digest is then the sources'
        meta = (
            {} if kind == "app" else {"bundleSha256": sources_digest(files) if built else "", "outboundAllowlist": []}
        )
        if kind == "worker" and built:
            meta["outboundAllowlist"] = ["api.hubapi.com"]
        finished = iso(created + 95) if status in ("success", "error") else None
        log = None if status == "pending" else _log(status == "success", error)
        db.execute(
            "INSERT INTO hosting_deployments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uuid, ws, kind, owner, status, error, log, dumps(files), dumps(meta), user,
             iso(created + 120) if promoted else None, user if promoted else None, finished, iso(created),
             finished or iso(created)),
        )  # fmt: skip
        if promoted:
            table = "hosting_apps" if kind == "app" else "hosting_workers"
            db.execute(f"UPDATE {table} SET promoted_deployment_uuid = ? WHERE uuid = ?", (uuid, owner))
        return uuid

    def env(kind: str, owner: str, key: str, value: str, secret: bool) -> None:
        kept, fingerprint = stored_value(value, secret)
        stamp = iso(now - 20 * DAY)
        db.execute(
            "INSERT INTO hosting_env_vars VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (new_uuid(rng), ws, kind, owner, key, kept, fingerprint, int(secret), user, stamp, stamp),
        )

    def hostname(kind: str, owner: str, name: str, verified_days_ago: float | None) -> None:
        stamp = iso(now - 4 * DAY)
        status, verified = "pending_verification", None
        if verified_days_ago is not None:
            status, verified = "active", iso(now - verified_days_ago * DAY)
            zone = domain_management.zone_for(db, ws, name)
            if zone is not None:  # the records that verified it stay in the zone
                relative = name.removesuffix("." + zone["name"])
                token = verification(ws, name)[1]["value"]
                domain_management.add_records(db, zone["uuid"], [
                    {"type": "CNAME", "name": relative, "value": CNAME_TARGET, "ttl": 3600, "priority": None},
                    {"type": "TXT", "name": f"_cargo-verification.{relative}", "value": token, "ttl": 3600,
                     "priority": None},
                ])  # fmt: skip
        db.execute(
            "INSERT INTO hosting_custom_domains VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new_uuid(rng), ws, kind, owner, name, status, verified, stamp, stamp, stamp),
        )

    with db.transaction():
        dashboard = slot("hosting_apps", "Pipeline dashboard", "acme-pipeline",
                         "Weekly pipeline and win rates for the revenue team.", 30)  # fmt: skip
        portal = slot("hosting_apps", "Partner portal", "acme-partner-portal", "Deal registration for partners.", 6)
        worker = slot("hosting_workers", "CRM webhooks", "acme-crm-webhooks",
                      "Receives HubSpot webhooks and routes new deals.", 12, TRIGGERS)  # fmt: skip
        deploy("app", dashboard, APP_FILES, 20, "success", promoted=True)
        deploy("app", dashboard, APP_FILES, 3, "success", promoted=True)
        deploy("app", dashboard, APP_FILES, 1, "error", "src/Chart.tsx(12,8): Cannot find module 'recharts'")
        deploy("app", portal, APP_FILES, 5, "error", "npm ci: package-lock.json is out of sync with package.json")
        deploy("worker", worker, WORKER_FILES, 10, "success", promoted=True)
        deploy("worker", worker, WORKER_FILES, 0.1, "pending")
        env("app", dashboard, "VITE_API_BASE_URL", "https://api.getcargo.io", False)
        env("app", dashboard, "VITE_DEFAULT_CURRENCY", "USD", False)
        env("worker", worker, "HUBSPOT_CLIENT_SECRET", "sandbox-placeholder-secret", True)
        env("worker", worker, "LOG_LEVEL", "info", False)
        hostname("app", dashboard, "app.acme-outreach.com", 3)
        hostname("worker", worker, "hooks.acme-outreach.com", None)
