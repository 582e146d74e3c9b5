"""Confirmation policy: built-in defaults plus persistent per-profile rules.

Order of decision (first match wins, fail closed):

1. a matching **deny** rule → denied (nothing overrides it, not even ``--yes``); with
   ``read_only`` (``cargo-shell mcp --read-only``) every action that is not a read is denied too;
2. a local path the **model** proposed that is not plainly inside the working directory
   (hidden, a credential location, elsewhere: see ``local_paths``) → ask, whatever ``--yes``,
   "always" or a rule that does not name that path argument say;
3. ``read`` actions → allowed (default);
4. a matching **allow** rule → allowed (source ``rule``);
5. "always" given earlier in this session for this command → allowed (source ``user``);
6. ``--yes`` → allowed (source ``flag``), except a destructive action the **model** proposed,
   which needs ``--yes=destructive`` (``yes_destructive``) or an allow rule;
7. otherwise → ask a person; with nobody to ask the action is not run (exit 3).

Who proposed an action is carried by the plan (``Plan.proposer``), set by the front end that
built it: the agent's runner says "model"; the CLI, commands typed in the shell and replays
of the user's own scripts are the user's.

Rules live in ``<config dir>/policy.json``. A rule matches a command glob (``billing *``),
optionally an effect, a profile and argument values (``workflow-uuid=<uuid>``; globs allowed;
a list argument matches when every item matches). An unreadable policy file is an error
for every action: we do not guess which rules were meant.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from cargo_shell.errors import ConfigError
from cargo_shell.executor.local_paths import LocalFile
from cargo_shell.executor.plan import Plan
from cargo_shell.private_files import open_private
from cargo_shell.registry.spec import EFFECTS

RuleAction = Literal["allow", "deny"]
VerdictKind = Literal["allow", "ask", "deny"]
VerdictSource = Literal["default", "rule", "user", "flag"]
POLICY_FILE = "policy.json"


@dataclass(frozen=True)
class Rule:
    id: int
    action: RuleAction
    command: str = "*"
    effect: str | None = None
    profile: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def matches(self, plan: Plan, profile: str) -> bool:
        if self.profile is not None and self.profile != profile:
            return False
        if self.effect is not None and self.effect != plan.effect:
            return False
        if not fnmatch.fnmatchcase(plan.command, self.command):
            return False
        values = plan.values
        for name, pattern in self.args.items():
            key = name.lstrip("-")
            if key not in values:
                return False
            value = values[key]
            items = value if isinstance(value, list) else [value]
            if not items or not all(fnmatch.fnmatchcase(_text(v), pattern) for v in items):
                return False
        return True

    def describe(self) -> str:
        parts = [f"#{self.id} {self.action} {self.command!r}"]
        if self.effect:
            parts.append(f"effect={self.effect}")
        if self.profile:
            parts.append(f"profile={self.profile}")
        parts += [f"{k}={v}" for k, v in self.args.items()]
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", {})}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def rule_from_json(raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError("a rule must be an object")
    known = {"id", "action", "command", "effect", "profile", "args", "note"}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown rule keys: {', '.join(sorted(unknown))}")
    action = raw.get("action")
    if action not in ("allow", "deny"):
        raise ValueError(f"rule action must be allow or deny, got {action!r}")
    effect = raw.get("effect")
    if effect is not None and effect not in EFFECTS:
        raise ValueError(f"rule effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
    args = raw.get("args") or {}
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        raise ValueError("rule args must map flag names to strings")
    return Rule(
        id=int(raw["id"]),
        action=action,
        command=str(raw.get("command") or "*"),
        effect=effect,
        profile=raw.get("profile"),
        args={str(k): v for k, v in args.items()},
        note=str(raw.get("note") or ""),
    )


class PolicyStore:
    """Reads and writes ``policy.json`` (atomic replace; private file mode)."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / POLICY_FILE

    def load(self) -> list[Rule]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            rules = raw.get("rules", []) if isinstance(raw, dict) else None
            if not isinstance(rules, list):
                raise ValueError('expected {"rules": [...]}')
            return [rule_from_json(r) for r in rules]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"The policy file {self.path} cannot be read ({exc}); no action runs until it is fixed",
                hint="Fix the JSON by hand, or move the file away to start over with the defaults.",
            ) from None

    def save(self, rules: list[Rule]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"rules": [r.to_json() for r in rules]}, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, self.path)

    def add(self, action: RuleAction, **fields: Any) -> Rule:
        rules = self.load()
        rule = rule_from_json({"id": max((r.id for r in rules), default=0) + 1, "action": action, **fields})
        self.save([*rules, rule])
        return rule

    def remove(self, rule_id: int) -> bool:
        rules = self.load()
        kept = [r for r in rules if r.id != rule_id]
        if len(kept) == len(rules):
            return False
        self.save(kept)
        return True


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    source: VerdictSource
    reason: str
    rule: Rule | None = None
    #: For the stricter approval classes: what to do when nobody can answer.
    hint: str = ""


_READ_ALLOWED = Verdict("allow", "default", "read actions run without asking")


class Policy:
    """Decides allow / ask / deny for a plan. Holds the session's "always" answers."""

    def __init__(
        self,
        rules: list[Rule] | None = None,
        *,
        profile: str = "default",
        assume_yes: bool = False,
        yes_destructive: bool = False,
        read_only: bool = False,
    ) -> None:
        self.rules = list(rules or [])
        #: Deny every action that is not a read, whatever the rules, flags and answers say.
        self.read_only = read_only
        self.profile = profile
        self.assume_yes = assume_yes
        #: ``--yes=destructive``: --yes also covers destructive actions the model proposes.
        self.yes_destructive = yes_destructive
        self.session_always: set[str] = set()

    @classmethod
    def load(cls, config_dir: Path, *, profile: str, assume_yes: bool = False, yes_destructive: bool = False) -> Policy:
        rules = PolicyStore(config_dir).load()
        return cls(rules, profile=profile, assume_yes=assume_yes, yes_destructive=yes_destructive)

    def remember_always(self, command: str) -> None:
        self.session_always.add(command)

    def decide(self, plan: Plan) -> Verdict:
        for rule in self.rules:
            if rule.action == "deny" and rule.matches(plan, self.profile):
                return Verdict("deny", "rule", f"denied by policy rule {rule.describe()}", rule)
        if self.read_only and plan.effect != "read":
            return _READ_ONLY
        if plan.proposer == "model":
            flagged = self._flagged_paths(plan)
            if flagged:
                return _ask_about_paths(plan, flagged)
        if plan.effect == "read":
            return _READ_ALLOWED
        for rule in self.rules:
            if rule.action == "allow" and rule.matches(plan, self.profile):
                return Verdict("allow", "rule", f"allowed by policy rule {rule.describe()}", rule)
        if plan.command in self.session_always:
            return Verdict("allow", "user", f"you answered 'always' for {plan.command} in this session")
        if self.assume_yes or plan.assume_yes:
            if plan.proposer == "model" and plan.effect == "destructive" and not self.yes_destructive:
                return _MODEL_DESTRUCTIVE
            return Verdict("allow", "flag", "approved with --yes")
        return Verdict("ask", "default", f"{plan.effect} actions need approval")

    def _flagged_paths(self, plan: Plan) -> list[LocalFile]:
        """The model's local paths that need a person: those with a concern that no allow rule
        names explicitly (a rule with ``--arg file-path=<pattern>`` is the user's own opt-in)."""
        flagged = [f for f in plan.local_files if f.concern]
        if not flagged:
            return []
        for rule in self.rules:
            if rule.action == "allow" and rule.matches(plan, self.profile):
                named = {name.lstrip("-") for name in rule.args}
                flagged = [f for f in flagged if f.arg not in named]
        return flagged


_READ_ONLY = Verdict(
    "deny",
    "flag",
    "this MCP server was started with --read-only: it runs reads only",
    hint="Run the command in a terminal, or start the server without --read-only (`cargo-shell mcp`).",
)

_MODEL_DESTRUCTIVE = Verdict(
    "ask",
    "default",
    "the assistant proposed a destructive action, and --yes approves only the writes and credit spending it proposes",
    hint="Run the command yourself if you want it, re-run with --yes=destructive to let the assistant destroy "
    "without asking, or allow it with a rule: cargo-shell policy allow '<command>'",
)


def _ask_about_paths(plan: Plan, flagged: list[LocalFile]) -> Verdict:
    paths = "; ".join(f"{f.given} is {f.concern}" for f in flagged)
    return Verdict(
        "ask",
        "default",
        f"the assistant proposed a local file that is not plainly in the working directory: {paths}",
        hint=f"Run it yourself if you meant it (cargo-shell {plan.command} --{flagged[0].arg} <path>), move the file "
        "into the working directory, or allow that path with a rule: "
        f"cargo-shell policy allow '{plan.command}' --arg {flagged[0].arg}=<path>",
    )
