"""Resource kinds: every UUID argument names a kind, and every kind's list really lists it.

Completion, plan touches, lookups and the wrong-kind guard all read the same registry data
(``registry/resources.json`` and ``refers_to`` on arguments); these tests keep it whole.
"""

from __future__ import annotations

import pytest

from cargo_shell.errors import UsageError
from cargo_shell.executor import Policy
from cargo_shell.registry import get_registry
from tests.conftest import reference_dir

from .conftest import MakeExecutor

reg = get_registry()
ENRICH_WF = "f25816c8-a008-480f-9a3f-b8b0595f5548"
ENRICH_TOOL = "491334fa-d3d8-45c5-91e8-b7c92d417bf1"
COMPANIES = "3843249c-53a1-41ae-9fd2-7861bb274742"
CONTACTS = "b9c17836-d268-45c9-8365-e695fc89009d"
CRM = "16c9a763-8f24-4547-a897-20cc389cde43"
SEGMENT = "3a53ebe1-0bbf-4d74-b4db-9931e932a1d2"


#: Kinds of the platform's operations that the documented CLI's entity list does not name: kind → why.
BEYOND_CATALOGUE = {
    "storage_run": "a model sync (StorageTypes.Run of the client); not the orchestration `run` entity",
    "permission_resource": "what a user permission is on (agent, MCP server, workflow, folder or file)",
}


def _uuid_args() -> list[tuple[str, str]]:
    return [
        (spec.name, arg.name)
        for spec in reg
        for arg in spec.args
        if arg.type == "uuid" or (arg.type == "list" and arg.item_type == "uuid")
    ]


@pytest.mark.parametrize(("command", "arg"), _uuid_args())
def test_every_uuid_argument_names_a_resource_kind(command: str, arg: str) -> None:
    kind = reg.get(command).arg(arg).refers_to
    assert kind is not None, f"{command} {arg}: no refers_to"
    assert kind in reg.kinds, f"{command} {arg}: unknown kind {kind!r}"


def test_json_fields_that_hold_uuids_name_known_kinds() -> None:
    seen = 0
    for spec in reg:
        for arg in spec.args:
            for key, kind in arg.refers_to_keys:
                seen += 1
                assert arg.type == "json" and key.endswith("Uuid") and kind in reg.kinds, (spec.name, arg.name)
    assert seen  # batch create's --data names a segment or a model


def test_every_kind_is_used_and_its_lists_are_plain_reads() -> None:
    used = {reg.get(c).arg(a).refers_to for c, a in _uuid_args()}
    used |= {kind for spec in reg for arg in spec.args for _key, kind in arg.refers_to_keys}
    assert used == set(reg.kinds)
    for kind in reg.kinds.values():
        for source in kind.lists:
            spec = reg.get(source.command)  # KeyError: the list command does not exist
            assert spec.effect == "read" and spec.response_key, source.command
            assert not [a.name for a in spec.args if a.required], f"{source.command} needs arguments"


def test_every_kind_list_returns_the_named_fields_from_the_seeded_sandbox(make_executor: MakeExecutor) -> None:
    executor = make_executor()
    listed = 0
    for kind in reg.kinds.values():
        for source in kind.lists:
            spec = reg.get(source.command)
            data = executor.run(spec, {}).data
            items = data[spec.response_key]
            assert items, f"{source.command}: the seeded sandbox lists no {kind.name}"
            for item in items:
                assert isinstance(item.get(source.id_field), str), (source.command, source.id_field)
                if source.name_field is not None:
                    assert isinstance(item.get(source.name_field), str), (source.command, source.name_field)
            listed += 1
    assert listed >= 15


@pytest.mark.skipif(reference_dir() is None, reason="shared/reference catalogue not beside the project")
def test_kinds_are_catalogue_entities() -> None:
    import yaml

    ref = reference_dir()
    assert ref is not None
    entities = yaml.safe_load((ref / "entities.yaml").read_text())["entities"]
    # kinds of the operations the catalogue does not document are types of the official client: the
    # kind's words start the type's name (custom_domain: CustomDomain) or all appear in its qualified
    # name (revenue_member: RevenueOrganizationTypes.Member)
    from tests.client_facts.facts import load_facts

    names = [name.lower() for name in load_facts().definitions]

    def names_a_type(kind: str) -> bool:
        words = kind.split("_")
        return any(n.rsplit(".", 1)[-1].startswith("".join(words)) or all(w in n for w in words) for n in names)

    beyond = set(reg.kinds) - set(entities)
    unexplained = sorted(k for k in beyond if not names_a_type(k) and k not in BEYOND_CATALOGUE)
    assert unexplained == []  # else name a client type, or say why in BEYOND_CATALOGUE


def test_workflow_lookups_take_the_workflow_uuid_of_plays_and_tools(make_executor: MakeExecutor) -> None:
    lookups = make_executor().lookups
    found = lookups.find("workflow", ENRICH_WF)
    assert found is not None and (found.label, found.name) == ("tool", "Enrich company")
    assert lookups.find("workflow", ENRICH_TOOL) is None  # the tool's own uuid is not a workflow uuid
    assert lookups.workflow(ENRICH_WF) == ("tool", "Enrich company")


def test_plans_name_every_model_of_a_relationship(make_executor: MakeExecutor) -> None:
    plan = make_executor().prepare(
        reg.get("storage relationship set"),
        {"from-model-uuid": COMPANIES, "to-model-uuid": CONTACTS, "dataset-uuid": CRM, "relation": "oneToMany"},
    )
    labels = [t.label() for t in plan.touches]
    assert any("'Companies'" in label for label in labels), labels
    assert any("'Contacts'" in label for label in labels), labels


def test_plan_says_a_workflow_belongs_to_a_tool(make_executor: MakeExecutor) -> None:
    plan = make_executor().prepare(
        reg.get("orchestration batch create"),
        {"workflow-uuid": ENRICH_WF, "data": {"kind": "records", "records": [{"domain": "a.com"}]}},
    )
    [touch] = [t for t in plan.touches if t.kind == "workflow"]
    assert touch.label() == f"workflow 'Enrich company' ({ENRICH_WF}), tool workflow"


def test_a_tool_uuid_given_as_workflow_uuid_names_the_workflow_uuid(make_executor: MakeExecutor) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    with pytest.raises(UsageError) as err:
        executor.run(
            reg.get("orchestration batch create"),
            {"workflow-uuid": ENRICH_TOOL, "data": {"kind": "records", "records": [{"domain": "a.com"}]}},
        )
    message = err.value.message
    assert "tool uuid" in message and "'Enrich company'" in message
    assert f"its workflowUuid is {ENRICH_WF}" in message
    assert err.value.hint and f"--workflow-uuid {ENRICH_WF}" in err.value.hint
    assert executor.sender.attempts == executor.lookups.reads  # refused before anything but lookups was sent


def test_a_model_uuid_given_as_segment_uuid_is_named(make_executor: MakeExecutor) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    with pytest.raises(UsageError, match=r"model uuid \('Companies'\)"):
        executor.run(reg.get("segmentation segment remove"), {"segment-uuid": COMPANIES})


def test_an_unknown_uuid_is_left_to_the_api(make_executor: MakeExecutor) -> None:
    executor = make_executor(policy=Policy(assume_yes=True))
    unknown = "00000000-0000-4000-8000-0000000000aa"
    plan = executor.prepare(reg.get("segmentation segment remove"), {"segment-uuid": unknown})
    assert [t.kind for t in plan.touches] == ["segment"] and plan.touches[0].name is None
