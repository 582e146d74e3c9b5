"""The registry's promises about arguments that are not sent, and the drifts that once hid between
duplicate tables (own commands in four tables and three argparse setups): each is checked here so
it cannot come back.

- every argument of cargo-shell's own commands is a keyword of its handler, and the handler reads it;
- every argument that is not sent has a consumer: ``wait`` and ``poll`` the executor's, ``filter``
  the response filter, ``local`` only on own commands; every UUID argument names a resource kind.
  A broken copy of a real entry shows each rule fails. (Guards: ``tests/executor/test_registry_contract.py``.)
- help, the parser and both completions come from the same registry entries.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

import cargo_shell
from cargo_shell.commands.completion import completion_script, completion_tree
from cargo_shell.commands.execute import handler_of
from cargo_shell.registry import CommandSpec, get_registry
from cargo_shell.registry.resources import Resource
from cargo_shell.repl.completer import ShellCompleter
from cargo_shell.repl.resources import Snapshot
from tests.helpers import run_cli

REG = get_registry()
ALL = sorted(REG, key=lambda s: s.name)
OWN = sorted((s for s in REG if s.own), key=lambda s: s.name)
PACKAGE = Path(cargo_shell.__file__).parent


def _read_names(function: object) -> set[str]:
    """The names a function's body reads."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@pytest.mark.parametrize("spec", OWN, ids=lambda s: s.name)
def test_each_own_argument_is_a_keyword_of_its_handler_and_is_read(spec: CommandSpec) -> None:
    handler = handler_of(spec)
    params = list(inspect.signature(handler).parameters.values())
    assert params[0].name == "ctx", f"{spec.handler}: the context comes first"
    keywords = {p.name for p in params[1:]}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:]), spec.handler
    assert keywords == {a.attr for a in spec.args}, f"{spec.handler} takes {sorted(keywords)}"
    unread = keywords - _read_names(handler)
    assert not unread, f"{spec.handler} never reads {sorted(unread)}"
    assert all(a.location == "local" for a in spec.args), "own commands send nothing: their args are local"


def test_the_contract_check_catches_an_unread_argument() -> None:
    def handler(ctx: object, *, used: int, forgotten: int) -> int:
        return used

    assert {"used", "forgotten"} - _read_names(handler) == {"forgotten"}


def unconsumed(spec: CommandSpec) -> list[str]:
    """The arguments of ``spec`` that are not sent and that nothing consumes, or a UUID with no kind.

    ``local``: only an own command's handler reads one (its keywords: the test above), so on an API
    command nothing does; ``wait``: the executor's switch (``wants_wait``), on a command that starts a
    job; ``poll``: the poller's interval (``poll_interval_s``); ``filter``: filters the response
    (``apply_client_filters``); a ``uuid`` argument names a resource kind plans and completion read.
    """
    from cargo_shell.api.request import apply_client_filters
    from cargo_shell.executor.plan import poll_interval_s, wants_wait
    from cargo_shell.validation import validate_params

    problems = []
    for arg in spec.args:
        where = f"{spec.name} --{arg.name}"
        if arg.location == "local" and not spec.own:
            problems.append(f"{where}: a local argument of an API command, read by nothing")
        elif arg.location == "wait":
            if spec.job is None or arg.type != "bool" or not wants_wait(spec, {arg.name: True}):
                problems.append(f"{where}: a wait switch nothing waits on")
        elif arg.location == "poll":
            if spec.job is None or poll_interval_s(spec, {arg.name: 1500}) != 1.5:
                problems.append(f"{where}: a poll interval the poller does not read")
        elif arg.location == "filter":
            flt = arg.client_filter
            wanted, other = "3f2b1c4e-0000-4000-8000-000000000001", "3f2b1c4e-0000-4000-8000-000000000002"
            if flt is None:
                problems.append(f"{where}: a filter argument without a filter")
            else:
                rows = {flt.list_key: [{flt.keys[0]: wanted}, {flt.keys[0]: other}]}
                required = {a.name: other for a in spec.args if a.required}
                params = validate_params(spec, {**required, arg.name: wanted})
                if apply_client_filters(spec, params, rows) != {flt.list_key: [{flt.keys[0]: wanted}]}:
                    problems.append(f"{where}: the filter does not filter the response")
        if (arg.type == "uuid" or arg.item_type == "uuid") and arg.refers_to not in REG.kinds:
            problems.append(f"{where}: a UUID argument with no resource kind (refers_to)")
    return problems


@pytest.mark.parametrize("spec", ALL, ids=[s.name for s in ALL])
def test_every_argument_that_is_not_sent_has_a_consumer_and_every_uuid_a_kind(spec: CommandSpec) -> None:
    assert unconsumed(spec) == []


def _broken(command: str, arg: str, **change: object) -> CommandSpec:
    spec = REG.get(command)
    spec.arg(arg)  # KeyError: the copy would break nothing
    args = tuple(replace(a, **change) if a.name == arg else a for a in spec.args)  # type: ignore[arg-type]
    return replace(spec, args=args)


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (_broken("orchestration action execute", "polling-interval", location="local"), "read by nothing"),
        (_broken("storage model list", "dataset-uuid", location="wait", type="bool"), "nothing waits on"),
        (_broken("orchestration action execute", "wait-until-finished", type="int"), "nothing waits on"),
        (_broken("storage model list", "dataset-uuid", location="poll", type="int"), "poller does not read"),
        (_broken("storage model list", "dataset-uuid", client_filter=None), "without a filter"),
        (_broken("storage model list", "dataset-uuid", refers_to=None), "no resource kind"),
        (_broken("storage model list", "dataset-uuid", refers_to="no-such-kind"), "no resource kind"),
    ],
    ids=["local", "wait-on-no-job", "wait-not-a-switch", "poll-on-no-job", "filter", "uuid-no-kind", "uuid-bad-kind"],
)
def test_the_contract_fails_on_an_argument_without_consumer(broken: CommandSpec, says: str) -> None:
    problems = unconsumed(broken)
    assert problems and all(says in p for p in problems), problems


def test_only_the_commands_layer_parses_arguments() -> None:
    """One parser built from the registry: no argparse setup of its own anywhere else in the program."""
    users = sorted(
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and "argparse" in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module])
            for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    )
    assert users == ["commands/args.py"]


# -- the drifts, one test each ----------------------------------------------------------------------
def _shell_completions(text: str, snapshot: Snapshot | None = None) -> list[str]:
    completer = ShellCompleter(REG.view("shell"), {}, snapshot)
    event = CompleteEvent(completion_requested=True)
    return [c.text for c in completer.get_completions(Document(text), event)]


def test_log_command_is_offered_by_the_shells_completion() -> None:
    assert {"--command", "--limit", "--effect", "--lines"} <= set(_shell_completions("log --"))


@pytest.mark.parametrize("typed", ["jobs list --", "jobs --"])
def test_jobs_list_flags_in_the_shells_completion(typed: str) -> None:
    assert {"--active", "--limit"} <= set(_shell_completions(typed))


def test_jobs_list_flags_in_the_completion_scripts() -> None:
    tree = completion_tree(REG.view("cli"))
    assert {"--active", "--limit"} <= set(tree["jobs list"])
    bash = completion_script("bash", REG.view("cli"))
    line = next(line for line in bash.splitlines() if line.strip().startswith('"jobs list")'))
    assert "--active" in line and "--limit" in line


def test_login_is_one_registry_entry_parsed_by_the_registry_parser(tmp_path: Path) -> None:
    spec = REG.get("login")
    assert {a.name for a in spec.args} == {"token", "workspace-uuid", "base-url", "profile"}
    text = run_cli("login", "--help").stdout
    for arg in spec.args:
        assert arg.flag in text[text.index("Arguments:") :]
    missing = run_cli("login", "--profile", "prod")
    assert missing.exit_status == 2 and "login needs a token" in missing.json["errorMessage"]  # no terminal to ask


def test_what_the_shell_offers_is_what_the_command_line_minus_its_own_programs() -> None:
    cli, shell = {s.name for s in REG.view("cli")}, {s.name for s in REG.view("shell")}
    assert shell <= cli
    assert cli - shell == {"bench", "completion", "mcp", "onboard", "replay", "run", "sandbox serve"}
    assert "sandbox serve" not in _shell_completions("sandbox ")
    assert {"info", "reset"} <= set(_shell_completions("sandbox "))


def test_completion_offers_the_kind_plans_name() -> None:
    """Plans name a UUID by its argument's ``refers_to``; completion offers resources of that same kind."""
    kinds = sorted(REG.kinds)
    snapshot = Snapshot(
        resources={
            kind: [Resource(kind, f"3f2b1c4e-0000-4000-8000-{i:012d}", f"the {kind}", kind)]
            for i, kind in enumerate(kinds)
        }
    )
    checked = 0
    for spec in REG.view("shell"):
        for arg in spec.options:
            if arg.refers_to is None or arg.type != "uuid":
                continue
            offered = _shell_completions(f"{spec.name} {arg.flag} ", snapshot)
            assert offered == [r.uuid for r in snapshot.resources[arg.refers_to]], f"{spec.name} {arg.flag}"
            checked += 1
    assert checked > 20


def test_a_short_flag_is_one_dash_and_one_letter_and_parses_like_the_long_one() -> None:
    from cargo_shell.registry.spec_load import _short

    assert _short("bench", {"name": "only", "short": "-k"}) == "-k"
    for bad in ("k", "--k", "-kk", "-1"):
        with pytest.raises(ValueError, match="short takes one dash and one letter"):
            _short("bench", {"name": "only", "short": bad})
    from cargo_shell.commands.args import command_parser

    parser = command_parser(REG.get("bench"))
    assert parser.parse_args(["-k", "billing"]).only == parser.parse_args(["--only", "billing"]).only == "billing"
