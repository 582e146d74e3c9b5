"""Every answer the sandbox gives the registry's commands has the client's declared shape.

The cases of ``tests/every_command`` run once more on their own seeded world whose transport
records every raw answer (before the client drops nulls). Each answer is matched to the client
operation of its method and path and checked against the result type derived from the official
client (``tests/client_facts``): required keys present, nullable keys sent as null, kinds, enums.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client_facts.compare import command_operations
from tests.client_facts.conformance import mismatches
from tests.client_facts.facts import load_facts
from tests.every_command.test_every_command import CASE_MODULES
from tests.every_command.world import Case, open_world

FACTS = load_facts()
#: Operations the registry reaches that the sandbox refuses on purpose (422 unavailableInSandbox).
REFUSED = {
    "billing.subscription.createPortalSession": "the billing portal is Stripe's",
    "connection.integration.completeOauth": "OAuth consent happens at the provider",
    "ai.prompt.evaluate": "it runs a language model",
    "ai.prompt.optimize": "it runs a language model",
    "ai.suggestedAction.generate": "it runs a language model",
    "ai.mcpClient.connect": "the MCP server is outside",
    "connection.connector.getDynamicSchema": "computed from the provider's live account",
    "connection.integration.initiateOauth": "OAuth consent happens at the provider",
    "billing.subscription.createSetupIntent": "a Stripe object",
    "billing.subscription.createStripeCreditsCheckoutSession": "a Stripe object",
    "billing.subscription.updatePaymentMethod": "a Stripe object",
    "hosting.deployment.create": "building needs the hosting build farm",
    "domainManagement.domain.search": "availability and prices are the registrar's",
    "domainManagement.domain.suggestions": "availability and prices are the registrar's",
    "domainManagement.domain.purchase": "the registration is made and paid at the registrar",
    "domainManagement.domain.refreshStatus": "the registration status is the registrar's",
    "systemOfRecordIntegration.systemOfRecord.migrate": "moving tables is the outside warehouse's work",
    "systemOfRecordIntegration.systemOfRecord.cutover": "switching warehouses needs the migrated outside warehouse",
    "expression.expression.generate": "an LLM writes the expression; the sandbox has no language model",
}


@dataclass(frozen=True)
class Answer:
    method: str
    path: str
    status: int
    body: Any


class Recorder(httpx.BaseTransport):
    """Passes requests through and keeps each JSON (or text) answer; a file's bytes (a blob operation)
    are kept as their status only, and still stream to the client."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.answers: list[Answer] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        kind = response.headers.get("content-type", "")
        if kind.startswith("application/json") or kind.startswith("text/markdown"):
            response.read()
            body = response.json() if kind.startswith("application/json") else response.text
            self.answers.append(Answer(request.method, request.url.path, response.status_code, body))
        else:
            self.answers.append(Answer(request.method, request.url.path, response.status_code, None))
        return response

    def close(self) -> None:
        self.inner.close()


MODULES = tuple(CASE_MODULES.values())


def _cases(module: Any) -> list[Case]:
    """Each case once, in the order the module's own tests run them (sorted by command name)."""
    seen: dict[int, Case] = {}
    for name in module.cases.names():
        fn = module.cases.table[name]
        seen.setdefault(id(fn), fn)
    return list(seen.values())


@dataclass
class Recording:
    by_operation: dict[str, list[Answer]]
    unmatched: list[Answer]
    case_failures: list[str]


@pytest.fixture(scope="module")
def recording(seeded_sandbox_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    recorders: list[Recorder] = []

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        recorders.append(Recorder(inner))
        return recorders[-1]

    failures: list[str] = []
    for module in MODULES:  # one world per module, as the cases expect
        root = tmp_path_factory.mktemp("conformance")
        with contextlib.contextmanager(open_world)(seeded_sandbox_template, root, wrap) as world:
            for case in _cases(module):
                try:
                    case(world)
                except Exception as exc:  # reported by test_cases_ran_cleanly; the answers so far still count
                    failures.append(f"{case.__name__}: {type(exc).__name__}: {exc}")
    by_operation: dict[str, list[Answer]] = defaultdict(list)
    unmatched: list[Answer] = []
    for answer in (a for r in recorders for a in r.answers):
        op = FACTS.for_request(answer.method, answer.path)
        if op is None:
            unmatched.append(answer)
        else:
            by_operation[op.id].append(answer)
    return Recording(dict(by_operation), unmatched, failures)


REACHED = sorted({op for ops in command_operations(FACTS).values() for op in ops})


def test_cases_ran_cleanly(recording: Recording) -> None:
    assert recording.case_failures == []


def test_every_answer_is_a_client_operation_or_a_download(recording: Recording) -> None:
    # signed download URLs are the sandbox's own route, not an API operation
    assert [a.path for a in recording.unmatched if "/downloads/" not in a.path] == []


@pytest.mark.parametrize("operation", REACHED)
def test_answers_have_the_declared_shape(operation: str, recording: Recording) -> None:
    op = FACTS.operations[operation]
    answers = recording.by_operation.get(operation, [])
    served = [a for a in answers if 200 <= a.status < 300]
    if operation in REFUSED:
        assert answers and not served, (operation, [a.status for a in answers])
        refusals = [a for a in answers if a.status == 422 and a.body.get("reason") == "unavailableInSandbox"]
        assert refusals and all(400 <= a.status < 500 for a in answers)  # the rest: bad input the cases try
        return
    assert served, f"no successful answer recorded for {operation} ({[a.status for a in answers]})"
    found: list[str] = []
    for answer in served:
        for line in mismatches(FACTS, op.result, answer.body):
            if line not in found:
                found.append(line)
    assert found == [], f"{op.method} {op.path}:\n" + "\n".join(found[:40]) + _sample(served[0].body)


def _sample(body: Any) -> str:
    text = json.dumps(body, ensure_ascii=False)
    return "\nfirst answer: " + (text if len(text) < 400 else text[:400] + "...")
