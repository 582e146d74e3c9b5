"""The registry against the official client's facts (``tests/client_facts/api-<version>.json``).

Every registry command maps to a client operation by method and path; its arguments send the
client's fields, in the client's places, with its required-ness, kinds and enums. Where the
registry deliberately differs, the difference is listed in ``KNOWN`` with the decision behind it,
so any new disagreement (a registry edit or the next client version) fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from cargo_shell.registry import get_registry
from tests.client_facts.compare import command_operations, compare_catalogue, compare_registry
from tests.client_facts.derive import dump, facts_path
from tests.client_facts.facts import CLIENT_VERSION, Facts, load_facts
from tests.conftest import reference_dir
from tests.test_requests import run_spec

_STRICTER = "the documented CLI requires it; stricter than the API, so no request the API would refuse"
_MASS_CANCEL = (
    "cancel takes explicit ids; the client's filter form (cancel whatever matches in a workflow) is a "
    "mass-destructive call that comes with the full-platform commands and its own confirmation"
)

_FILE_FILTERS = ("connectorUuid", "folderUuid", "kind", "libraryUuid")
_RECORD_CANCEL_FILTERS = (
    "batchUuid", "createdAfter", "createdBefore", "executionsFilter", "isGroupParent", "parentBatchUuid",
    "parentNodeUuid", "parentRunUuid", "releaseUuid", "title", "titleOrId",
)  # fmt: skip

#: Known, decided deviations of the registry from the client: finding key → why.
KNOWN: dict[str, str] = {
    "ai message create: optional chatUuid": _STRICTER + " (a message goes into a chat from `ai chat create`)",
    "ai release list: optional agentUuid": _STRICTER,
    "orchestration draft-release update: optional nodes": _STRICTER,
    "orchestration record count: optional workflowUuid": _STRICTER,
    "orchestration record list: optional workflowUuid": _STRICTER,
    "orchestration run count: optional workflowUuid": _STRICTER,
    "orchestration run list: optional workflowUuid": _STRICTER,
    "orchestration record cancel: optional ids": _MASS_CANCEL,
    "orchestration run cancel: optional uuids": _MASS_CANCEL,
    **{f"orchestration record cancel: missing {name}": _MASS_CANCEL for name in _RECORD_CANCEL_FILTERS},
    **{
        f"ai release deploy-draft: required {name}": (
            "the client requires the five arrays, the docs leave them out (catalogue note 13); kept optional as "
            "documented: omitted, they are not sent (the sandbox keeps the draft's values, the API answers 400)"
        )
        for name in ("actions", "capabilities", "mcpClients", "resources", "suggestedActions")
    },
    **{
        f"orchestration node execute: required {name}": (
            "the client requires it, the docs call it optional (catalogue note 12); kept optional as documented: "
            "the sandbox computes the config and context and takes the deployed release when it is omitted"
        )
        for name in ("computedConfig", "context", "releaseUuid")
    },
    "connection integration list: enum category": (
        "the client types category as any string; the docs list the eleven categories and the registry "
        "validates against them (a typo is caught before the request)"
    ),
}

#: The shared catalogue against the client (reported in the closing note of the platform issue).
KNOWN_CATALOGUE: dict[str, str] = {
    **{f"ai file list: missing {n}": "catalogue lists no query fields" for n in _FILE_FILTERS},
    **{
        f"orchestration record cancel: missing {name}": "catalogue lists only workflowUuid and ids"
        for name in _RECORD_CANCEL_FILTERS
    },
    "segmentation segment remove: sends": "the client sends an empty JSON body on this DELETE; the catalogue says none",
    "storage model remove: sends": "the client sends an empty JSON body on this DELETE; the catalogue says none",
}


@pytest.fixture(scope="module")
def facts() -> Facts:
    return load_facts()


def _report(found: dict[str, str], known: dict[str, str]) -> str:
    new = [f"{k} — {found[k]}" for k in sorted(found.keys() - known.keys())]
    stale = sorted(known.keys() - found.keys())
    return "new disagreements:\n  " + "\n  ".join(new) + "\nlisted but no longer found:\n  " + "\n  ".join(stale)


def test_facts_cover_every_operation_of_the_client(facts: Facts) -> None:
    raw = json.loads(facts_path(CLIENT_VERSION).read_text(encoding="utf-8"))
    assert raw["client"]["installed"]["@cargo-ai/types"] == "1.0.56"
    per_domain = Counter(op.domain for op in facts)
    assert len(facts.operations) == raw["counts"]["operations"] == 306
    assert dict(per_domain) == raw["counts"]["per_domain"]
    assert len(per_domain) == 17 and per_domain["(root)"] == 1  # 16 domains and initWorkspace
    for op in facts:
        assert op.method in {"GET", "POST", "PUT", "PATCH", "DELETE"} and op.path.startswith("/v1/"), op.id
        assert op.sends in {"json", "query", "multipart", "none"}, op.id
        for p in op.params:
            assert p.location in {"path", "query", "body", "form"}, (op.id, p.name)
            assert p.location != "path" or "{" + p.name + "}" in op.path, (op.id, p.name)
        refs = json.dumps([op.result, [p.schema for p in op.params]])
        for name in _refs(refs):
            assert name in facts.definitions, (op.id, name)


def _refs(text: str) -> set[str]:
    import re

    return set(re.findall(r'"\$ref": "([^"]+)"', text))


def test_facts_file_is_in_its_canonical_form() -> None:
    """Sorted and laid out as derive.py writes it, so a regeneration is a clean diff."""
    path: Path = facts_path(CLIENT_VERSION)
    text = path.read_text(encoding="utf-8")
    assert dump(json.loads(text)) + "\n" == text


def test_every_http_command_is_a_client_operation(facts: Facts) -> None:
    mapping = command_operations(facts)
    assert all(mapping.values()), [n for n, ops in mapping.items() if not ops]
    assert mapping["whoami"] == ["userManagement.user.getCurrent", "workspaceManagement.workspace.getCurrent"]
    covered = {op for ops in mapping.values() for op in ops}
    assert len(covered) == len(mapping) + 1  # login is local; whoami makes two calls; no operation twice
    missing = Counter(op.domain for op in facts if op.id not in covered)
    # issue 12's table of operations with no command is empty: every operation of the client is a command
    assert dict(missing) == {}
    assert len(covered) == len(facts.operations) == 306


def test_registry_agrees_with_the_client_except_known_deviations(facts: Facts) -> None:
    found = {f.key: f.detail for f in compare_registry(facts)}
    assert found.keys() == KNOWN.keys(), _report(found, KNOWN)
    assert all(reason.strip() for reason in KNOWN.values())


HTTP = sorted(s.name for s in get_registry() if s.http is not None and not s.http.steps)


@pytest.mark.parametrize("name", HTTP)
def test_request_goes_where_the_client_sends_it(name: str, facts: Facts, tmp_path: Path) -> None:
    """The request actually built (all flags given) lands on the client's route with its fields."""
    spec = get_registry().get(name)
    (request,), _values = run_spec(spec, tmp_path)
    url = urlsplit(str(request.url))
    op = facts.for_request(request.method, url.path)
    assert op is not None, (request.method, url.path)
    assert op.template == facts.by_route(request.method, spec.http.path).template  # type: ignore[union-attr]
    query = {_top(k) for k, _ in parse_qsl(url.query, keep_blank_values=True)}
    assert query <= {p.name for p in op.params if p.location == "query"}, query
    content_type = request.headers.get("content-type", "")
    if op.sends == "json":
        assert content_type == "application/json"
        body: Any = json.loads(request.content)
        assert isinstance(body, dict)
        assert set(body) <= {p.name for p in op.params if p.location == "body"}, set(body)
    elif op.sends == "multipart":
        assert content_type.startswith("multipart/form-data")
        for p in op.params:
            if p.location == "form" and p.required:
                assert f'name="{p.name}"'.encode() in request.content
    else:
        assert not request.content, request.content[:80]
    for p in op.params:
        key = f"{name}: required {p.name}"
        if p.required and p.location == "query" and key not in KNOWN:
            assert p.name in query, p.name


def _top(key: str) -> str:
    return key.split("[", 1)[0]


REF = reference_dir()


@pytest.mark.skipif(REF is None, reason="shared/reference catalogue not beside the project")
def test_catalogue_disagreements_with_the_client_are_known(facts: Facts) -> None:
    import yaml

    assert REF is not None
    entries = {c["command"]: c for c in yaml.safe_load((REF / "cargo-commands.yaml").read_text())["commands"]}
    found = {f.key: f.detail for f in compare_catalogue(facts, entries)}
    assert found.keys() == KNOWN_CATALOGUE.keys(), _report(found, KNOWN_CATALOGUE)


# -- the conformance checker itself -----------------------------------------------------------
def test_checker_reports_each_kind_of_mismatch_readably(facts: Facts) -> None:
    from tests.client_facts.conformance import mismatches

    token = facts.operations["workspaceManagement.token.all"].result
    good = {
        "uuid": "u", "token": "t", "name": "ci", "description": None, "permissions": None, "workspaceUuid": "w",
        "userUuid": "x", "createdAt": "2025-01-31T10:00:00.000Z", "deletedAt": None,
    }  # fmt: skip
    assert mismatches(facts, token, {"tokens": [good]}) == []
    without = {k: v for k, v in good.items() if k != "token"}
    assert mismatches(facts, token, {"tokens": [without]}) == ["$.tokens[0]: missing required key 'token'"]
    # nullable keys must be present (as null); a null where the type is not nullable is reported
    no_description = {k: v for k, v in good.items() if k != "description"}
    assert mismatches(facts, token, {"tokens": [no_description]}) == ["$.tokens[0]: missing required key 'description'"]
    assert mismatches(facts, token, {"tokens": [{**good, "name": None}]}) == [
        "$.tokens[0].name: null where the client declares string (not nullable)"
    ]
    assert mismatches(facts, token, {"tokens": [{**good, "createdAt": 1738317600}]}) == [
        "$.tokens[0].createdAt: number 1738317600 where the client declares string"
    ]
    assert mismatches(facts, token, {"tokens": [{**good, "createdAt": "yesterday"}]}) == [
        '$.tokens[0].createdAt: "yesterday" is not an ISO 8601 date-time'
    ]
    (line,) = mismatches(facts, token, {"tokens": {"0": good}})
    assert line.startswith('$.tokens: object {"0": {"uuid": "u"') and line.endswith("declares array of object")


def test_checker_enums_unions_and_what_json_cannot_carry(facts: Facts) -> None:
    from tests.client_facts.conformance import extra_keys, mismatches

    systems = facts.operations["systemOfRecordIntegration.systemOfRecord.all"].result
    answer = {"systemOfRecords": [{"kind": "sqlite", "config": {"scope": "project"}}]}
    found = mismatches(facts, systems, answer)
    assert "$.systemOfRecords[0].kind: \"sqlite\" is not one of ['bigQuery', 'snowflake']" in found
    # a union is reported by its closest branch (here: the `project` BigQuery config)
    at = found.index("$.systemOfRecords[0].config: matches none of the 6 declared shapes; closest:")
    assert found[at + 1 : at + 5] == [
        "  $.systemOfRecords[0].config: missing required key 'location'",
        "  $.systemOfRecords[0].config: missing required key 'prefix'",
        "  $.systemOfRecords[0].config: missing required key 'storageBucketName'",
        "  $.systemOfRecords[0].config: missing required key 'stringifiedServiceAccount'",
    ]
    # an integration's functions (authenticate, execute, ...) never travel as JSON: not required
    integration = facts.operations["connection.integration.get"].result
    found = mismatches(facts, integration, {"integration": {"slug": "x"}})
    assert "$.integration: missing required key 'name'" in found
    assert not any("authenticate" in line or "initiateOauth" in line for line in found)
    # keys the type does not name are no mismatch, but are listed
    body = {"columns": ["a"], "total": 1}
    columns = facts.operations["storage.column.list"].result
    assert mismatches(facts, columns, body) == [] and extra_keys(facts, columns, body) == ["$.total"]
    assert mismatches(facts, None, {"anything": True}) == []  # the client ignores a void answer's body


def test_regeneration_reports_what_changed_between_versions() -> None:
    from tests.client_facts.derive import changes

    old = json.loads(facts_path(CLIENT_VERSION).read_text(encoding="utf-8"))
    new = json.loads(json.dumps(old))
    assert changes(old, new) == []
    new["operations"] = [op for op in new["operations"] if op["id"] != "ai.vote.list"]
    column_list = next(op for op in new["operations"] if op["id"] == "storage.column.list")
    column_list["path"] = "/v1/storage/columns"
    new["definitions"]["AiTypes.Vote"] = {"type": "object"}
    assert changes(old, new) == [
        "- ai.vote.list (GET /v1/ai/votes/list)",
        "~ storage.column.list: path",
        "~ shape AiTypes.Vote",
    ]
