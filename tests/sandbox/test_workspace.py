from __future__ import annotations

import httpx

from cargo_shell.sandbox.domains.workspace import MASKED_TOKEN
from cargo_shell.sandbox.runtime import Sandbox
from tests.sandbox.conftest import add_workspace, make_client, model_uuid

BASE = "/v1/workspaceManagement"


def test_whoami_endpoints(api: httpx.Client, sandbox: Sandbox) -> None:
    user = api.get("/v1/userManagement/users/current").json()["user"]
    assert user["email"] == "ada.admin@acme-demo.com" and user["role"]["slug"] == "admin"
    assert api.get(f"{BASE}/users/current").json()["user"]["uuid"] == user["uuid"]
    workspace = api.get(f"{BASE}/workspaces/current").json()["workspace"]
    assert workspace == {**workspace, "uuid": sandbox.workspace_uuid, "name": "Acme Demo"}


def test_created_token_authenticates_until_removed(api: httpx.Client, sandbox: Sandbox) -> None:
    created = api.post(f"{BASE}/tokens", json={"name": "ci", "description": "for CI", "permissions": None})
    token = created.json()["token"]
    assert token["token"].startswith("cai_sandbox_") and token["workspaceUuid"] == sandbox.workspace_uuid
    listed = api.get(f"{BASE}/tokens/list").json()["tokens"]
    assert any(t["uuid"] == token["uuid"] for t in listed)
    # the secret is shown once; lists carry the key the client requires, masked
    assert {t["token"] for t in listed} == {MASKED_TOKEN} and token["token"] not in str(listed)
    with make_client(sandbox, token=token["token"]) as ci:
        assert ci.get(f"{BASE}/roles/list").status_code == 200
        assert api.delete(f"{BASE}/tokens/{token['uuid']}").status_code == 200
        after = ci.get(f"{BASE}/roles/list")
        assert after.status_code == 401 and after.json()["errorMessage"] == "Unauthorized"


def test_users_invite_role_change_and_last_admin(api: httpx.Client) -> None:
    roles = {r["slug"] for r in api.get(f"{BASE}/roles/list").json()["roles"]}
    assert {"admin", "member"} <= roles
    assert api.post(f"{BASE}/users", json={"userEmail": "new@acme-demo.com", "roleSlug": "member"}).status_code == 200
    users = api.get(f"{BASE}/users/list").json()["users"]
    new = next(u for u in users if u["email"] == "new@acme-demo.com")
    assert new["role"]["slug"] == "member" and new["workspaceUuid"]
    again = api.post(f"{BASE}/users", json={"userEmail": "new@acme-demo.com", "roleSlug": "member"})
    assert again.status_code == 400
    bad_role = api.put(f"{BASE}/users/{new['uuid']}", json={"roleSlug": "owner"})
    assert bad_role.json()["reason"] == "roleNotFound"
    assert api.put(f"{BASE}/users/{new['uuid']}", json={"roleSlug": "admin"}).status_code == 200
    assert api.request("DELETE", f"{BASE}/users", json={"userUuid": new["uuid"]}).status_code == 200
    me = api.get(f"{BASE}/users/current").json()["user"]
    last = api.request("DELETE", f"{BASE}/users", json={"userUuid": me["uuid"]})
    assert last.status_code == 400 and last.json()["reason"] == "lastAdmin"


def test_folders_crud(api: httpx.Client) -> None:
    made = api.post(f"{BASE}/folders", json={"name": "Q3 plays", "emojiSlug": "rocket", "kind": "play"}).json()
    folder = made["folder"]
    assert folder["kind"] == "play" and folder["parentUuid"] is None
    child = api.post(
        f"{BASE}/folders", json={"name": "EMEA", "emojiSlug": "globe", "kind": "play", "parentUuid": folder["uuid"]}
    ).json()["folder"]
    dup = api.post(f"{BASE}/folders", json={"name": "Q3 plays", "emojiSlug": "x", "kind": "play"})
    assert dup.json()["reason"] == "duplicateName"
    assert api.put(f"{BASE}/folders/{child['uuid']}", json={"name": "Europe"}).json()["folder"]["name"] == "Europe"
    busy = api.delete(f"{BASE}/folders/{folder['uuid']}")
    assert busy.status_code == 400
    assert api.delete(f"{BASE}/folders/{child['uuid']}").status_code == 200
    assert api.delete(f"{BASE}/folders/{folder['uuid']}").status_code == 200
    assert api.get(f"{BASE}/folders/{folder['uuid']}").json()["reason"] == "folderNotFound"


def test_folder_holding_an_mcp_server_is_not_empty_and_deleted_folders_take_nothing(api: httpx.Client) -> None:
    folder = api.post(f"{BASE}/folders", json={"name": "Servers", "emojiSlug": "gear", "kind": "mcpServer"}).json()
    uuid = folder["folder"]["uuid"]
    body = {"name": "Tools", "actions": [], "resources": [], "folderUuid": uuid}
    server = api.post("/v1/ai/mcpServers", json=body).json()["mcpServer"]
    assert api.delete(f"{BASE}/folders/{uuid}").json()["reason"] == "folderNotEmpty"
    assert api.delete(f"/v1/ai/mcpServers/{server['uuid']}").status_code == 200
    assert api.delete(f"{BASE}/folders/{uuid}").status_code == 200
    assert api.post("/v1/ai/mcpServers", json=body).json()["reason"] == "folderNotFound"


def test_file_upload_and_columns(api: httpx.Client) -> None:
    up = api.post(f"{BASE}/files/upload", files={"file": ("people.csv", b"email,name\na@b.c,A\n", "text/csv")})
    body = up.json()
    assert body["name"] == "people.csv" and body["contentType"] == "text/csv"
    columns = api.get(f"{BASE}/files/listColumns", params={"s3Filename": body["s3Filename"]}).json()["columns"]
    assert columns == [{"name": "email", "type": "string"}, {"name": "name", "type": "string"}]
    assert api.post(f"{BASE}/files/upload", data={"x": "y"}, files={"other": ("a", b"")}).json()["reason"] == "noFile"


def test_member_cannot_manage_users(api: httpx.Client, sandbox: Sandbox) -> None:
    grace = next(u for u in api.get(f"{BASE}/users/list").json()["users"] if u["email"].startswith("grace"))
    db = sandbox.app.db
    import secrets

    from cargo_shell.sandbox.app import hash_token

    secret = "cai_sandbox_" + secrets.token_urlsafe(8)
    db.execute(
        "INSERT INTO tokens VALUES ('t-grace', ?, ?, 'g', NULL, ?, NULL, '2025-01-01T00:00:00.000Z', NULL)",
        (sandbox.workspace_uuid, grace["uuid"], hash_token(secret)),
    )
    with make_client(sandbox, token=secret) as member:
        denied = member.post(f"{BASE}/users", json={"userEmail": "z@z.z", "roleSlug": "member"})
        assert denied.status_code == 403


def test_workspaces_are_isolated(api: httpx.Client, sandbox: Sandbox) -> None:
    other_ws, other_token = add_workspace(sandbox)
    mine_contacts = model_uuid(api, "contacts")
    mine_segment = api.get("/v1/segmentation/segments/list").json()["segments"][0]["uuid"]
    with make_client(sandbox, token=other_token, workspace_uuid=other_ws) as other:
        assert other.get(f"/v1/storage/models/{mine_contacts}").status_code == 404
        assert other.get(f"/v1/segmentation/segments/{mine_segment}").status_code == 404
        flt = {"conjonction": "and", "groups": []}
        assert (
            other.post("/v1/segmentation/segments/fetch", json={"modelUuid": mine_contacts, "filter": flt}).status_code
            == 404
        )
        theirs = model_uuid(other, "contacts")
        assert theirs != mine_contacts
        first_mine = api.post("/v1/storage/records/list", json={"modelUuid": mine_contacts, "limit": 1}).json()
        email = first_mine["records"][0]["_id"]
        rows = other.post(
            "/v1/systemOfRecordIntegration/clients/query",
            json={"query": f"SELECT COUNT(*) AS n FROM datasets_crm.models_contacts WHERE _id = '{email}'"},
        ).json()["rows"]
        mine_rows = api.post(
            "/v1/systemOfRecordIntegration/clients/query",
            json={"query": f"SELECT COUNT(*) AS n FROM datasets_crm.models_contacts WHERE _id = '{email}'"},
        ).json()["rows"]
        assert mine_rows == [{"n": 1}]
        assert rows == [{"n": 0}] or email not in str(rows)
        assert {t["workspaceUuid"] for t in other.get(f"{BASE}/tokens/list").json()["tokens"]} == {other_ws}
        wrong = other.get(f"{BASE}/roles/list", headers={"selected-workspace-uuid": sandbox.workspace_uuid})
        assert wrong.status_code == 403
