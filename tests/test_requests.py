"""Every registry command sends the catalogue's request (method, path, query, body, headers)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx
import pytest

from cargo_shell.api.client import CargoClient
from cargo_shell.errors import UsageError
from cargo_shell.executor import Executor, Policy
from cargo_shell.registry import get_registry
from cargo_shell.registry.spec import ArgSpec, CommandSpec
from tests.client_facts.compare import operations_of
from tests.client_facts.facts import load_facts
from tests.conftest import reference_dir

REF = reference_dir()
TOKEN = "cgo_test_token_0123456789"
WORKSPACE = "11111111-2222-4333-8444-555555555555"


def sample(arg: ArgSpec, tmp: Path) -> Any:
    if arg.type == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, arg.name))
    if arg.type == "int":
        return 7
    if arg.type == "number":
        return 0.5
    if arg.type == "bool":
        return True
    if arg.type == "date":
        return "2025-01-31"
    if arg.type == "enum":
        return arg.values[0]
    if arg.type == "list":
        if arg.item_values:
            return [arg.item_values[0], arg.item_values[-1]]
        if arg.item_type == "uuid":
            return [str(uuid.uuid5(uuid.NAMESPACE_URL, arg.name + str(i))) for i in range(2)]
        return ["a b", "c:d"]
    if arg.type == "json":
        if arg.help.startswith("the full relationship list"):
            return [{"probe": arg.name}]  # a list that other flags fill (relationships[].x)
        return {"probe": arg.name}
    if arg.type == "file":
        path = tmp / "upload.csv"
        path.write_text("email\nada@example.com\n")
        return str(path)
    return f"value {arg.name}"


class Capture:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"x-request-id": f"req-{len(self.requests)}"})


def run_spec(spec: CommandSpec, tmp: Path) -> tuple[list[httpx.Request], dict[str, Any]]:
    capture = Capture()
    client = CargoClient(
        httpx.Client(transport=httpx.MockTransport(capture)),
        base_url="https://api.example.test",
        token=TOKEN,
        workspace_uuid=WORKSPACE,
    )
    values = {a.name: sample(a, tmp) for a in spec.args if a.location not in ("wait", "local", "poll")}
    executor = Executor(client, policy=Policy(assume_yes=True), checks=False)
    executor.run(spec, executor.validate(spec, values))
    return capture.requests, values


def _catalogue() -> dict[str, Any]:
    import yaml

    assert REF is not None
    return {c["command"]: c for c in yaml.safe_load((REF / "cargo-commands.yaml").read_text())["commands"]}


HTTP_COMMANDS = sorted(n for n, c in _catalogue().items() if isinstance(c["http"], dict)) if REF else []


@pytest.mark.skipif(REF is None, reason="catalogue not beside the project")
@pytest.mark.parametrize("name", HTTP_COMMANDS)
def test_request_matches_catalogue(name: str, tmp_path: Path) -> None:
    entry = _catalogue()[name]
    http = entry["http"]
    spec = get_registry().get(name)
    requests, values = run_spec(spec, tmp_path)
    assert len(requests) == 1
    req = requests[0]
    assert req.method == http["method"]
    assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert req.headers["selected-workspace-uuid"] == WORKSPACE
    assert req.headers["x-cargo-origin"] == "cargo-shell"

    # the path: every {param} replaced by the argument that carries it
    expected_path = http["path"]
    for arg in spec.args:
        if arg.location == "path":
            expected_path = expected_path.replace("{" + (arg.field or "") + "}", quote(str(values[arg.name]), safe=""))
    url = urlsplit(str(req.url))
    assert req.url.raw_path.decode().split("?")[0] == expected_path
    assert unquote(url.path) == unquote(expected_path)
    assert url.netloc == "api.example.test"

    query = parse_qsl(url.query, keep_blank_values=True)
    body = json.loads(req.content) if req.content and http["params_in"] == "body" else None
    fields = set()
    for f in http.get("fields") or []:
        # the catalogue folds some alternatives into one name: "recordId|recordTitle|parent*"
        fields.update(n.rstrip("*") for n in f["name"].split("|"))
    # where the catalogue lists fewer fields than the official client, the client is the truth
    fields.update(p.name for op in operations_of(load_facts(), spec) if op is not None for p in op.params)
    for arg in spec.args:
        if arg.name not in values or arg.location in ("path", "filter", "unsent"):
            continue
        field = arg.field or ""
        top = field.split(".")[0].split("[")[0]
        known = top in fields or field == "file" or any(top.startswith(f) for f in fields if f.endswith("parent"))
        assert known, f"{arg.flag} → {field} is not a field of the API call"
        if http["params_in"] == "body":
            assert body is not None and top in body, f"{arg.flag} missing from the JSON body"
            assert top not in dict(query)
        elif http["params_in"] == "query":
            keys = {k for k, _ in query}
            assert field in keys or f"{field}[]" in keys, f"{arg.flag} missing from the query string"
            assert not req.content
        elif http["params_in"] == "multipart":
            assert req.headers["content-type"].startswith("multipart/form-data")
            assert f'name="{field}"'.encode() in req.content
    if http["method"] == "GET":
        assert not req.content
    unsent = [a for a in spec.args if a.location == "unsent"]
    for arg in unsent:
        assert str(values[arg.name]).encode() not in req.content


def test_list_flags_use_bracket_query_encoding(tmp_path: Path) -> None:
    spec = get_registry().get("orchestration batch list")
    requests, _values = run_spec(spec, tmp_path)
    raw_query = urlsplit(str(requests[0].url)).query
    assert "workflowUuids%5B%5D=" in raw_query
    assert raw_query.count("statuses%5B%5D=") == 2


def test_nested_body_fields(tmp_path: Path) -> None:
    spec = get_registry().get("ai agent create")
    requests, values = run_spec(spec, tmp_path)
    body = json.loads(requests[0].content)
    assert body["icon"] == {"color": values["icon-color"], "face": values["icon-face"]}
    assert "temperature" not in body and "languageModelSlug" not in body


def test_relationship_set_builds_one_relationship(tmp_path: Path) -> None:
    spec = get_registry().get("storage relationship set")
    executor_values = {
        "from-model-uuid": str(uuid.uuid4()),
        "to-model-uuid": str(uuid.uuid4()),
        "dataset-uuid": str(uuid.uuid4()),
    }
    capture = Capture()
    client = CargoClient(httpx.Client(transport=httpx.MockTransport(capture)), token=TOKEN)
    ex = Executor(client, policy=Policy(assume_yes=True), checks=False)
    ex.run(spec, ex.validate(spec, executor_values))
    body = json.loads(capture.requests[0].content)
    assert body["relationships"] == [
        {"fromModelUuid": executor_values["from-model-uuid"], "toModelUuid": executor_values["to-model-uuid"]}
    ]
    assert body["datasetUuid"] == executor_values["dataset-uuid"]


def test_whoami_pairs_user_and_workspace() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/users/current"):
            return httpx.Response(200, json={"user": {"uuid": "u1", "email": "ada@example.com"}})
        return httpx.Response(200, json={"workspace": {"uuid": "w1", "name": "Demo"}})

    client = CargoClient(httpx.Client(transport=httpx.MockTransport(handler)), token=TOKEN)
    ex = Executor(client, policy=Policy(assume_yes=True), checks=False)
    spec = get_registry().get("whoami")
    out = ex.run(spec, ex.validate(spec, {})).data
    assert out == {"user": {"uuid": "u1", "email": "ada@example.com"}, "workspace": {"uuid": "w1", "name": "Demo"}}


def test_relationship_flags_fill_the_given_list_and_reject_a_non_list(tmp_path: Path) -> None:
    spec = get_registry().get("storage relationship set")
    capture = Capture()
    ex = Executor(
        CargoClient(httpx.Client(transport=httpx.MockTransport(capture)), token=TOKEN),
        policy=Policy(assume_yes=True),
        checks=False,
    )
    dataset, model_a, model_b = (str(uuid.uuid4()) for _ in range(3))
    given = [{"fromModelUuid": model_a, "relation": "oneToOne"}, {"fromModelUuid": "y"}]
    ex.run(
        spec, {"dataset-uuid": dataset, "relationships": given, "from-model-uuid": model_a, "to-model-uuid": model_b}
    )
    body = json.loads(capture.requests[0].content)
    assert body["relationships"] == [
        {"fromModelUuid": model_a, "relation": "oneToOne", "toModelUuid": model_b},
        given[1],
    ]
    assert given[0] == {"fromModelUuid": model_a, "relation": "oneToOne"}  # the caller's value is untouched
    with pytest.raises(UsageError, match="must be a JSON array of objects"):
        ex.run(
            spec,
            {"dataset-uuid": dataset, "relationships": {"a": 1}, "from-model-uuid": dataset, "to-model-uuid": dataset},
        )


def test_required_nullable_field_is_sent_as_null_when_omitted() -> None:
    spec = get_registry().get("workspace token create")
    capture = Capture()
    ex = Executor(
        CargoClient(httpx.Client(transport=httpx.MockTransport(capture)), token=TOKEN),
        policy=Policy(assume_yes=True),
        checks=False,
    )
    ex.run(spec, {"name": "ci"})
    assert json.loads(capture.requests[0].content) == {"name": "ci", "permissions": None}
    rules = [{"effect": "allow", "actions": ["storage:*"]}]
    ex.run(spec, {"name": "ci", "permissions": rules})
    assert json.loads(capture.requests[1].content)["permissions"] == rules
