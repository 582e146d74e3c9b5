"""What the sandbox cannot do answers a 4xx refusal, so clients neither retry nor doubt a write."""

from __future__ import annotations

import httpx
import pytest

from cargo_shell.api.client import CargoClient
from cargo_shell.errors import RequestError
from cargo_shell.executor import Executor, Policy
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.runtime import Sandbox
from tests.sandbox.conftest import model_uuid
from tests.support import FakeClock

EVERYONE = {"conjonction": "and", "groups": []}


def test_every_refusal_is_a_422_with_its_reason(api: httpx.Client) -> None:
    companies = model_uuid(api, "companies")
    answers = [
        api.post("/v1/connection/integrations/hubspot/completeOauth", json={"params": {}}),
        api.post("/v1/billing/subscriptions/portalSessions"),
        api.post("/v1/segmentation/segments/fetch", json={"modelUuid": companies, "filter": EVERYONE, "sync": True}),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["reason"] == "unavailableInSandbox" and "sandbox" in answer.json()["errorMessage"]


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("connection integration complete-oauth", {"slug": "hubspot", "params": {"code": "x"}}),
        ("billing subscription create-portal-session", {}),
    ],
)
def test_a_refused_write_is_a_plain_request_error_not_an_unknown_outcome(
    sandbox: Sandbox, fake_clock: FakeClock, command: str, args: dict[str, object]
) -> None:
    http = httpx.Client(transport=httpx.WSGITransport(app=sandbox.app))
    client = CargoClient(http, base_url=sandbox.base_url, token=sandbox.token, workspace_uuid=sandbox.workspace_uuid)
    executor = Executor(client, policy=Policy(assume_yes=True), sleep=fake_clock.sleep, clock=fake_clock)
    try:
        with pytest.raises(RequestError) as info:
            executor.run(get_registry().get(command), args)
    finally:
        client.close()
    assert info.value.reason == "unavailableInSandbox"
    assert executor.sender.attempts == 1 and fake_clock.sleeps == []
