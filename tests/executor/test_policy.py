"""The confirmation policy: effect × who can be asked × rules × --yes, and the rules file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargo_shell.errors import ApprovalRequired, ConfigError, Declined
from cargo_shell.executor import Approval, Executor, Policy, PolicyStore, Rule
from cargo_shell.executor.plan import Plan, arg_values, command_line
from cargo_shell.registry import get_registry

from .conftest import Answers, MakeExecutor

FOLDER = {"emoji-slug": "rocket", "kind": "play"}

WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"
OTHER = "00000000-0000-4000-8000-000000000000"
#: one command per effect, with arguments
SAMPLES = {
    "read": ("orchestration batch list", {}),
    "write": ("workspace folder create", {"name": "Reports", "emoji-slug": "rocket", "kind": "play"}),
    "destructive": ("workspace folder remove", {"folder-uuid": OTHER}),
    "cost": ("orchestration batch create", {"workflow-uuid": WF, "data": {"kind": "segment", "segmentUuid": OTHER}}),
}


def plan_for(effect: str) -> Plan:
    name, raw = SAMPLES[effect]
    spec = get_registry().get(name)
    assert spec.effect == effect
    params = spec.params_model.model_validate(raw)
    return Plan(spec, params, command_line(spec, arg_values(spec, params)), None)


@pytest.mark.parametrize("effect", ["read", "write", "destructive", "cost"])
@pytest.mark.parametrize("assume_yes", [False, True])
@pytest.mark.parametrize(
    "rules",
    [
        [],
        [Rule(1, "allow", "orchestration batch create", args={"workflow-uuid": WF})],
        [Rule(1, "allow", "*"), Rule(2, "deny", "*", effect="destructive")],
        [Rule(1, "deny", "orchestration *")],
        [Rule(1, "allow", "*", profile="other")],
    ],
    ids=["no-rules", "allow-one-workflow", "deny-destructive", "deny-orchestration", "other-profile"],
)
def test_policy_matrix(effect: str, assume_yes: bool, rules: list[Rule]) -> None:
    plan = plan_for(effect)
    verdict = Policy(rules, profile="default", assume_yes=assume_yes).decide(plan)
    denied = any(r.action == "deny" and r.matches(plan, "default") for r in rules)
    allowed_by_rule = any(r.action == "allow" and r.matches(plan, "default") for r in rules)
    if denied:
        assert verdict.kind == "deny" and verdict.source == "rule"
    elif effect == "read":
        assert (verdict.kind, verdict.source) == ("allow", "default")
    elif allowed_by_rule:
        assert (verdict.kind, verdict.source) == ("allow", "rule")
    elif assume_yes:
        assert (verdict.kind, verdict.source) == ("allow", "flag")
    else:
        assert verdict.kind == "ask"


def test_allow_rule_on_arguments_matches_only_that_workflow() -> None:
    rule = Rule(1, "allow", "orchestration batch create", args={"workflow-uuid": WF})
    plan = plan_for("cost")
    assert rule.matches(plan, "default")
    spec = plan.spec
    other = spec.params_model.model_validate({"workflow-uuid": OTHER, "data": {"kind": "records", "records": []}})
    assert not rule.matches(Plan(spec, other, "", None), "default")


def test_deny_in_profile_prod_only() -> None:
    rules = [Rule(1, "deny", "*", effect="destructive", profile="prod")]
    plan = plan_for("destructive")
    assert Policy(rules, profile="prod", assume_yes=True).decide(plan).kind == "deny"
    assert Policy(rules, profile="default", assume_yes=True).decide(plan).kind == "allow"


@pytest.mark.parametrize("effect", ["write", "destructive", "cost"])
def test_non_interactive_without_yes_is_refused_with_the_plan(effect: str, make_executor: MakeExecutor) -> None:
    name, raw = SAMPLES[effect]
    executor = make_executor()
    sent_before = executor.sender.attempts
    with pytest.raises(ApprovalRequired) as err:
        executor.run(get_registry().get(name), raw)
    body = err.value.to_json()
    assert body["errorMessage"].startswith("approval required")
    assert body["plan"]["command"] == name
    assert body["plan"]["commandLine"].startswith(f"cargo-shell {name}")
    assert err.value.exit_status == 3
    # only cheap lookups (reads) were sent; the action itself was not
    assert executor.sender.attempts - sent_before == executor.lookups.reads


def test_interactive_answers(make_executor: MakeExecutor) -> None:
    name, raw = SAMPLES["write"]
    spec = get_registry().get(name)
    confirmer = Answers(Approval("no"))
    with pytest.raises(Declined):
        make_executor(confirmer=confirmer).run(spec, raw)
    assert "cargo-shell workspace folder create --name Reports" in confirmer.plans[0].render()

    confirmer = Answers(Approval("always"))
    executor = make_executor(confirmer=confirmer)
    first = executor.run(spec, {"name": "One", **FOLDER})
    second = executor.run(spec, {"name": "Two", **FOLDER})  # not asked again this session
    assert len(confirmer.plans) == 1
    assert first.approval is not None and first.approval.source == "user"
    assert second.approval is not None and second.approval.source == "user"
    assert second.data["folder"]["name"] == "Two"


def test_edit_revalidates_and_replans(make_executor: MakeExecutor) -> None:
    spec = get_registry().get("workspace folder create")
    confirmer = Answers(
        Approval(
            "edit", edited_args={"name": "Edited", "bogus": 1, **FOLDER}
        ),  # invalid: asked again with the old plan
        Approval("edit", edited_args={"name": "Edited", **FOLDER}),
        Approval("yes"),
    )
    outcome = make_executor(confirmer=confirmer).run(spec, {"name": "Original", **FOLDER})
    assert [p.args["name"] for p in confirmer.plans] == ["Original", "Original", "Edited"]
    assert outcome.data["folder"]["name"] == "Edited"


def test_deny_rule_wins_over_yes_and_confirmer(make_executor: MakeExecutor) -> None:
    policy = Policy([Rule(1, "deny", "workspace folder *"), Rule(2, "allow", "*")], assume_yes=True)
    confirmer = Answers(Approval("yes"))
    executor = make_executor(policy=policy, confirmer=confirmer)
    with pytest.raises(Declined, match="denied by policy rule #1"):
        executor.run(get_registry().get("workspace folder create"), {"name": "x", **FOLDER})
    assert confirmer.plans == []


def test_deny_rule_applies_to_reads(make_executor: MakeExecutor) -> None:
    executor = make_executor(policy=Policy([Rule(1, "deny", "billing *")]))
    with pytest.raises(Declined):
        executor.run(get_registry().get("billing subscription get-invoices"), {})


def test_store_roundtrip_and_fail_closed(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path)
    rule = store.add("allow", command="orchestration batch create", args={"workflow-uuid": WF})
    store.add("deny", command="*", effect="destructive", profile="prod")
    assert [r.id for r in store.load()] == [1, 2]
    assert store.load()[0] == rule
    assert store.remove(1) and not store.remove(1)
    store.path.write_text('{"rules": [{"id": 1, "action": "allow", "comand": "*"}]}')
    with pytest.raises(ConfigError, match="cannot be read"):
        Policy.load(tmp_path, profile="default")


def test_executor_without_policy_uses_the_defaults(make_executor: MakeExecutor) -> None:
    executor: Executor = make_executor(policy=None)
    with pytest.raises(ApprovalRequired):
        executor.run(get_registry().get("workspace folder create"), {"name": "x", **FOLDER})


def test_yes_for_one_call_approves_it_without_touching_the_shared_policy(make_executor: MakeExecutor) -> None:
    """The shell's `... --yes` approves that call only: the policy other calls share never says yes."""
    executor = make_executor()
    seen: list[bool] = []
    with executor.events_to(lambda _event: seen.append(executor.policy.assume_yes)):
        outcome = executor.run(get_registry().get("workspace folder create"), {"name": "x", **FOLDER}, assume_yes=True)
    assert outcome.approval is not None and outcome.approval.source == "flag"
    assert seen and not any(seen)  # not even while the call ran
    with pytest.raises(ApprovalRequired):  # the next call without it still needs a person
        executor.run(get_registry().get("workspace folder create"), {"name": "y", **FOLDER})
