"""Helpers shared by the orchestration/ai sandbox tests."""

from __future__ import annotations

import random
from typing import Any

import httpx

from cargo_shell.sandbox.app import hash_token
from cargo_shell.sandbox.engine import credits
from cargo_shell.sandbox.runtime import Sandbox
from cargo_shell.sandbox.seed import seed_workspace


def tool(api: httpx.Client, name: str) -> dict[str, Any]:
    tools = api.get("/v1/orchestration/tools/list").json()["tools"]
    return next(t for t in tools if t["name"] == name)


def node(
    uuid: str, slug: str, action: str, children: list[str], config: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "uuid": uuid, "slug": slug, "kind": "native", "actionSlug": action, "config": config or {},
        "childrenUuids": children, "fallbackOnFailure": False, "position": {"x": 0, "y": 0},
    }  # fmt: skip


def flaky_graph() -> list[dict[str, Any]]:
    """start -> branch(ok) -> yes: end / no: httpRequest (fails: no network) -> end."""
    return [
        node("n-start", "start", "start", ["n-branch"]),
        node("n-branch", "ok", "branch", ["n-end", "n-http"], {"condition": "{{nodes.start.ok}}"}),
        node("n-http", "call", "httpRequest", ["n-end"], {"url": "https://example.com"}),
        node(
            "n-end",
            "end",
            "end",
            [],
            {"variables": [{"name": "n", "type": "number", "value": "{{nodes.start.n * 2}}"}]},
        ),
    ]


def agent_graph() -> list[dict[str, Any]]:
    """start -> native agent (1 credit) -> end."""
    return [
        node("a-start", "start", "start", ["a-agent"]),
        node("a-agent", "think", "agent", ["a-end"], {"prompt": "Summarise {{nodes.start.name}}"}),
        node("a-end", "end", "end", [], {"variables": [{"name": "answer", "type": "any", "value": "{{nodes.think}}"}]}),
    ]


def set_remaining_credits(box: Sandbox, amount: float) -> None:
    """Adjust the subscription so exactly ``amount`` credits are left."""
    db = box.app.db
    with db.transaction() as conn:
        left = credits.remaining(conn, box.workspace_uuid)
        row = conn.execute(
            "SELECT available_credits FROM subscriptions WHERE workspace_uuid = ?", (box.workspace_uuid,)
        ).fetchone()
        assert row is not None, "the seed gives the demo workspace a subscription"
        conn.execute(
            "UPDATE subscriptions SET available_credits = ? WHERE workspace_uuid = ?",
            (row[0] - left + amount, box.workspace_uuid),
        )


def second_workspace_client(box: Sandbox) -> httpx.Client:
    """A client on a fresh, empty workspace of the same sandbox (own admin token)."""
    db = box.app.db
    with db.transaction():
        ids = seed_workspace(db, box.app.clock(), random.Random(99), name="Other Co")
        db.execute(
            "INSERT INTO tokens (uuid, workspace_uuid, user_uuid, name, token_hash, created_at)"
            " VALUES (?, ?, ?, 'other', ?, '2025-01-01T00:00:00.000Z')",
            ("tok-other", ids["workspace"], ids["admin"], hash_token("other-token")),
        )
    headers = {"authorization": "Bearer other-token", "selected-workspace-uuid": ids["workspace"]}
    return httpx.Client(transport=httpx.WSGITransport(app=box.app), base_url=box.base_url, headers=headers)
