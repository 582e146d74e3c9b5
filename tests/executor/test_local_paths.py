"""Local paths the model proposes: judged after resolving ~, .. and symlinks; the policy asks
for anything not plainly inside the working directory, even under --yes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cargo_shell.executor import Policy, Rule
from cargo_shell.executor.local_paths import PathRules
from cargo_shell.executor.plan import Plan
from cargo_shell.registry import get_registry


@pytest.fixture
def rules(tmp_path: Path) -> PathRules:
    home, work = tmp_path / "home", tmp_path / "home" / "project"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\n")
    (work / "data").mkdir(parents=True)
    (work / "data" / "leads.csv").write_text("domain\n")
    (work / ".cache").mkdir()
    (work / "link.csv").symlink_to(home / ".aws" / "credentials")
    return PathRules(workdir=work, home=home, protected=(home / "cargo-shell-home",))


@pytest.mark.parametrize(
    ("value", "concern"),
    [
        ("data/leads.csv", None),
        ("./data/../data/leads.csv", None),
        ("{work}/data/leads.csv", None),
        ("~/.aws/credentials", "a credential location (~/.aws)"),
        ("../.aws/credentials", "a credential location (~/.aws)"),
        ("link.csv", "a credential location (~/.aws)"),  # a symlink is judged by where it points
        ("~/.ssh/id_ed25519", "a credential location (~/.ssh)"),
        ("~/.config/gcloud/application_default_credentials.json", "a credential location (~/.config/gcloud)"),
        (".env", "a file that usually holds secrets (.env)"),
        ("data/server.pem", "a file that usually holds secrets (*.pem)"),
        (".cache/leads.csv", "a hidden file or folder"),
        ("~/cargo-shell-home/state/audit.jsonl", "cargo-shell's own files"),
        ("/etc/passwd", "outside the working directory {work}"),
        ("~/notes.csv", "outside the working directory {work}"),
    ],
)
def test_paths_are_judged_after_resolving(
    rules: PathRules, value: str, concern: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rules.workdir is not None and rules.home is not None
    monkeypatch.setenv("HOME", str(rules.home))  # ~ expands to the same home the rules know
    work = os.path.realpath(rules.workdir)
    judged = rules.judge("file-path", value.format(work=work))
    assert judged.concern == (concern.format(work=work) if concern else None)
    assert os.path.isabs(judged.resolved)


def _upload_plan(path: str, rules: PathRules, proposer: str) -> Plan:
    spec = get_registry().get("workspace file upload")
    params = spec.params_model.model_validate({"file-path": path})
    plan = Plan(spec, params, proposer=proposer)  # type: ignore[arg-type]
    if proposer == "model":
        plan.local_files = [rules.judge("file-path", path)]
    return plan


def test_the_policy_asks_for_the_models_paths_even_under_yes(rules: PathRules, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rules.home is not None and rules.workdir is not None
    monkeypatch.setenv("HOME", str(rules.home))
    policy = Policy(assume_yes=True)
    inside = policy.decide(_upload_plan(str(rules.workdir / "data" / "leads.csv"), rules, "model"))
    assert (inside.kind, inside.source) == ("allow", "flag")  # a write inside the working directory
    outside = policy.decide(_upload_plan("~/.aws/credentials", rules, "model"))
    assert outside.kind == "ask" and "~/.aws" in outside.reason and "policy allow" in outside.hint
    policy.remember_always("workspace file upload")  # "always" for the command does not cover paths
    assert policy.decide(_upload_plan("~/.aws/credentials", rules, "model")).kind == "ask"
    theirs = policy.decide(_upload_plan("~/.aws/credentials", rules, "user"))  # the user typed it
    assert (theirs.kind, theirs.source) == ("allow", "user")


def test_an_allow_rule_naming_the_path_argument_is_the_users_opt_in(
    rules: PathRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rules.home is not None
    monkeypatch.setenv("HOME", str(rules.home))
    plan = _upload_plan("~/exports/leads.csv", rules, "model")
    broad = Policy([Rule(1, "allow", "workspace file upload")], assume_yes=True)
    assert broad.decide(plan).kind == "ask"
    exact = Policy([Rule(1, "allow", "workspace file upload", args={"file-path": "~/exports/*"})], assume_yes=True)
    assert exact.decide(plan).kind == "allow"
    denied = Policy([Rule(1, "deny", "workspace *")], assume_yes=True)
    assert denied.decide(plan).kind == "deny"  # deny still wins


@pytest.mark.parametrize("yes_destructive", [False, True])
def test_yes_covers_the_models_destructive_proposals_only_when_opted_in(yes_destructive: bool) -> None:
    spec = get_registry().get("workspace folder remove")
    params = spec.params_model.model_validate({"folder-uuid": "00000000-0000-4000-8000-000000000000"})
    policy = Policy(assume_yes=True, yes_destructive=yes_destructive)
    model = policy.decide(Plan(spec, params, proposer="model"))
    user = policy.decide(Plan(spec, params, proposer="user"))
    assert (user.kind, user.source) == ("allow", "flag")  # typed by the user with --yes: they wrote it
    if yes_destructive:
        assert (model.kind, model.source) == ("allow", "flag")
    else:
        assert model.kind == "ask" and "--yes=destructive" in model.hint
    write = get_registry().get("workspace folder create")
    wparams = write.params_model.model_validate({"name": "x", "emoji-slug": "rocket", "kind": "play"})
    assert policy.decide(Plan(write, wparams, proposer="model")).kind == "allow"  # writes stay covered
    rule = Policy([Rule(1, "allow", "workspace folder remove")], assume_yes=False)
    assert rule.decide(Plan(spec, params, proposer="model")).kind == "allow"  # a rule is an explicit opt-in
