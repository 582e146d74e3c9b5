"""The registry's promises about arguments that are not sent, and the drifts that once hid between
duplicate tables (own commands in four tables and three argparse setups): each is checked here so
it cannot come back.

- every argument of cargo-shell's own commands is a keyword of its handler, and the handler reads it;
- every ``wait`` argument is the switch the executor reads, on a command that starts a job;
- every ``filter`` argument filters the response (``apply_client_filters``);
- a ``local`` argument of an API command has a consumer (``--polling-interval`` is still waiting for one);
- help, the parser and both completions come from the same registry entries.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
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


def _executor_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (PACKAGE / "executor").glob("*.py"))


def test_every_wait_argument_is_the_switch_the_executor_reads() -> None:
    waits = [(s, a) for s in REG for a in s.args if a.location == "wait"]
    assert waits
    source = _executor_source()
    for spec, arg in waits:
        assert spec.job is not None, f"{spec.name} --{arg.name}: waits for a job it does not start"
        assert arg.type == "bool", f"{spec.name} --{arg.name}"
        assert f'"{arg.name}"' in source, f"{spec.name} --{arg.name}: the executor never reads it"


def test_every_filter_argument_filters_the_response() -> None:
    from cargo_shell.api.request import apply_client_filters
    from cargo_shell.validation import validate_params

    filters = [(s, a) for s in REG for a in s.args if a.location == "filter"]
    assert filters
    wanted = "3f2b1c4e-0000-4000-8000-000000000001"
    other = "3f2b1c4e-0000-4000-8000-000000000002"
    for spec, arg in filters:
        assert arg.client_filter is not None, f"{spec.name} --{arg.name}: a filter argument without a filter"
        key, field = arg.client_filter.list_key, arg.client_filter.keys[0]
        params = validate_params(spec, {**_required(spec), arg.name: wanted})
        result = apply_client_filters(spec, params, {key: [{field: wanted}, {field: other}]})
        assert result == {key: [{field: wanted}]}, f"{spec.name} --{arg.name}"


def _required(spec: CommandSpec) -> dict[str, object]:
    return {a.name: "3f2b1c4e-0000-4000-8000-00000000000a" for a in spec.args if a.required}


#: ``local`` arguments of API commands and what reads them. A new one needs a consumer here.
LOCAL_CONSUMERS: dict[tuple[str, str], str] = {}
#: Declared, documented, and read by nothing yet (the executor's poller is to read it).
LOCAL_WITHOUT_CONSUMER = {("orchestration action execute", "polling-interval")}


def test_local_arguments_of_api_commands_have_a_consumer() -> None:
    local = {(s.name, a.name) for s in REG if not s.own for a in s.args if a.location == "local"}
    assert local - set(LOCAL_CONSUMERS) - LOCAL_WITHOUT_CONSUMER == set(), "a local argument nothing reads"


@pytest.mark.xfail(strict=True, reason="--polling-interval is declared but nothing reads it yet")
def test_polling_interval_is_read_by_the_executor() -> None:
    assert '"polling-interval"' in _executor_source()


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
    assert missing.exit_status == 2 and "--token is required" in missing.json["errorMessage"]


def test_what_the_shell_offers_is_what_the_command_line_minus_its_own_programs() -> None:
    cli, shell = {s.name for s in REG.view("cli")}, {s.name for s in REG.view("shell")}
    assert shell <= cli
    assert cli - shell == {"completion", "onboard", "replay", "run", "sandbox serve"}
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
