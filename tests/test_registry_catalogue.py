"""The registry against the shared catalogue: every command, flag and effect class matches."""

from __future__ import annotations

from typing import Any

import pytest

from cargo_shell.registry import SKILLS, get_registry
from tests.conftest import reference_dir

REF = reference_dir()
pytestmark = pytest.mark.skipif(REF is None, reason="shared/reference catalogue not beside the project")

# Where the catalogue records a doc/API inconsistency we follow the API (README: decisions).
FOLLOW_API_VALUES = {
    # docs document scope=workspace; the API's scope enum is user|agent
    ("ai memory list", "scope"),
    ("ai memory update", "scope"),
    ("ai memory remove", "scope"),
}
#: Required in the catalogue, optional here because cargo-shell asks for it itself: `login` without
#: --token reads the token at a hidden prompt on a terminal (and refuses without one, as required).
ASKED_WHEN_MISSING = {("login", "token")}


def _catalogue() -> dict[str, Any]:
    import yaml

    assert REF is not None
    data = yaml.safe_load((REF / "cargo-commands.yaml").read_text())
    return {c["command"]: c for c in data["commands"]}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    return _catalogue()


def test_every_catalogue_command_is_registered_and_the_rest_are_client_operations(catalogue: dict[str, Any]) -> None:
    from tests.client_facts.compare import command_operations
    from tests.client_facts.facts import load_facts

    registry = {s.name for s in get_registry() if s.http is not None}  # cargo-shell's own commands aside
    assert sorted(set(catalogue) - registry - {"login"}) == [] and len(catalogue) == 125
    # commands beyond the documented CLI each call an operation of the official client (issue 12)
    operations = command_operations(load_facts())
    assert sorted(name for name in registry - set(catalogue) if not operations.get(name)) == []


@pytest.mark.parametrize("name", sorted(_catalogue()) if REF else [])
def test_command_matches_catalogue(name: str, catalogue: dict[str, Any]) -> None:
    entry = catalogue[name]
    spec = get_registry().get(name)
    assert spec.effect == entry["effect"]
    assert spec.skill == entry["skill"].removeprefix("cargo-cli-")
    assert spec.skill in SKILLS
    http = entry["http"]
    if isinstance(http, dict):
        assert spec.http is not None
        assert (spec.http.method, spec.http.path) == (http["method"], http["path"])
    for arg in entry["args"]:
        flag = arg["name"].lstrip("-")
        mine = spec.arg(flag)
        assert mine.positional == bool(arg.get("positional")), flag
        if (name, flag) in ASKED_WHEN_MISSING:
            assert bool(arg.get("required")) and not mine.required, flag
        else:
            assert mine.required == bool(arg.get("required")), flag
        assert mine.type == arg["type"], flag
        if (name, flag) not in FOLLOW_API_VALUES:
            assert tuple(arg.get("values") or ()) == mine.values, flag
        items = arg.get("items") or {}
        assert tuple(items.get("values") or ()) == mine.item_values, flag
    # every API field the official client accepts is reachable through some argument
    fields = {f["name"] for f in (http.get("fields") or [])} if isinstance(http, dict) else set()
    reachable = {(a.field or "").split(".")[0].split("[")[0] for a in spec.args}
    for name_ in fields:
        # "recordId|recordTitle|parent*" folds alternatives into one catalogue entry
        options = [n.rstrip("*") for n in name_.split("|")]
        assert all(any(r.startswith(o) for r in reachable) for o in options), name_
    if entry.get("async", {}).get("poll"):
        assert spec.job is not None


def test_memory_scope_follows_the_api() -> None:
    assert get_registry().get("ai memory remove").arg("scope").values == ("user", "agent")


def test_params_models_build_for_every_command() -> None:
    for spec in get_registry():
        schema = spec.params_model.model_json_schema()
        assert schema["type"] == "object"
        required = set(schema.get("required", []))
        assert required == {a.name for a in spec.args if a.required}, spec.name
