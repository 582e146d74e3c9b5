"""Fixtures for sandbox tests: a seeded sandbox in tmp_path, an in-process client, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cargo_shell.sandbox.runtime import Sandbox
from tests.support import FakeClock, open_copy


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path: Path, fake_clock: FakeClock, seeded_sandbox_template: Path) -> Iterator[Sandbox]:
    box = open_copy(seeded_sandbox_template, tmp_path, fake_clock)
    yield box
    box.close()


def make_client(box: Sandbox, token: str | None = None, workspace_uuid: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token or box.token}"}
    headers["selected-workspace-uuid"] = workspace_uuid or box.workspace_uuid
    return httpx.Client(transport=httpx.WSGITransport(app=box.app), base_url=box.base_url, headers=headers)


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with make_client(sandbox) as client:
        yield client


def add_workspace(box: Sandbox, name: str = "Other Co", seed: int = 99) -> tuple[str, str]:
    """A second seeded workspace (same demo users, its own data); returns (workspace uuid, admin token)."""
    import random
    import secrets

    from cargo_shell.sandbox.app import hash_token
    from cargo_shell.sandbox.seed import seed_demo_data, seed_workspace
    from cargo_shell.sandbox.util import iso, new_uuid

    db, now, rng = box.app.db, box.app.clock(), random.Random(seed)
    with db.transaction():
        ids = seed_workspace(db, now, rng, name=name)
        seed_demo_data(db, ids["workspace"], ids["admin"], now, rng)
        token = "cai_sandbox_" + secrets.token_urlsafe(16)
        db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, 'other admin', NULL, ?, NULL, ?, NULL)",
            (new_uuid(), ids["workspace"], ids["admin"], hash_token(token), iso(now)),
        )
    return ids["workspace"], token


def model_uuid(api: httpx.Client, slug: str) -> str:
    models = api.get("/v1/storage/models/list").json()["models"]
    return next(m["uuid"] for m in models if m["slug"] == slug)


def where(*conditions: dict[str, object], conj: str = "and") -> dict[str, object]:
    return {"conjonction": "and", "groups": [{"conjonction": conj, "conditions": list(conditions)}]}
