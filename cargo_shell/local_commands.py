"""cargo-shell's own commands: login, logout, config, completion, sandbox."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from cargo_shell.config import Resolved
from cargo_shell.errors import ExitStatus, UsageError
from cargo_shell.render.output import write_result
from cargo_shell.session import Context
from cargo_shell.target import open_target


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.")

    def print_help(self, file: Any = None) -> None:  # keep help on stdout, as the rest of the CLI
        super().print_help(file)


def _parser(prog: str, description: str) -> _Parser:
    return _Parser(prog=f"cargo-shell {prog}", description=description, allow_abbrev=False)


def _parse(parser: _Parser, ctx: Context, argv: list[str]) -> argparse.Namespace | None:
    if any(a in ("-h", "--help") for a in argv):
        ctx.env.stdout.write(parser.format_help())
        return None
    return parser.parse_args(argv)


def need_verb(parser: argparse.ArgumentParser, ctx: Context, argv: list[str], verbs: list[str]) -> None:
    """A command group typed without its verb: usage on stderr and a usage error (JSON on stdout, exit 2),
    as for the registry's groups."""
    if argv and (argv[0] in verbs or argv[0] in ("-h", "--help")):
        return
    ctx.env.stderr.write(parser.format_help())
    name = parser.prog.removeprefix("cargo-shell ")
    what = f"Unknown verb `{argv[0]}` for `{name}`" if argv else f"`{name}` needs a verb"
    raise UsageError(f"{what}: one of {', '.join(verbs)}", hint=f"See `{parser.prog} --help`.")


def login(ctx: Context, argv: list[str]) -> int:
    p = _parser("login", "Check an API token with whoami, then store it for a profile.")
    p.add_argument("--token", help="API token (Settings > API in the Cargo app); left out: typed, hidden")
    p.add_argument("--workspace-uuid", help="workspace to act in (default: the token's workspace)")
    p.add_argument("--base-url", help="API base URL (default https://api.getcargo.io)")
    p.add_argument("--profile", help="profile name (default: the current profile)")
    if any(a in ("-h", "--help") for a in argv):
        from cargo_shell.cli_help import command_help

        text = command_help(ctx.registry.get("login"))
        own = (
            "  --base-url URL               API base URL (default https://api.getcargo.io)\n"
            "  --profile NAME               profile to store the token in (default: the current one)\n"
        )
        head, sep, tail = text.partition("\n\nGood to know:")
        ctx.env.stdout.write(head + "\n" + own.rstrip("\n") + sep + tail if sep else text + own)
        return ExitStatus.OK
    ns = p.parse_args(argv)
    given = ns.token or ctx.globals.get("token")
    token = given or _ask_token(ctx)
    profile = ns.profile or ctx.globals.get("profile") or ctx.store.current_profile()
    base_url = ns.base_url or ctx.globals.get("base_url") or ctx.env.environ.get("CARGO_API_URL")
    resolved = Resolved(profile, "cloud", base_url or "https://api.getcargo.io", token, ns.workspace_uuid)
    resolved.sources.update(workspace_uuid="flag")  # named in a refusal of an unsendable value
    if given:
        resolved.sources["token"] = "flag"  # a typed token has no flag to name
    target = open_target(resolved, ctx.env.paths, transport=ctx.transport)
    try:
        from cargo_shell.executor import Executor

        executor = Executor(target.client)
        spec = ctx.registry.get("whoami")
        who = executor.run(spec, executor.validate(spec, {})).data
    finally:
        target.close()
    workspace = (who or {}).get("workspace") or {}
    store = ctx.store
    where = store.set_token(profile, token)
    store.set_profile(
        profile,
        {"base_url": base_url, "workspace_uuid": ns.workspace_uuid or workspace.get("uuid")},
    )
    write_result(ctx.env, {"profile": profile, "tokenStoredIn": where, **(who or {})})
    return ExitStatus.OK


def _ask_token(ctx: Context) -> str:
    """The token typed at a hidden prompt; the terminal echoes nothing from start-up on."""
    from cargo_shell.terminal_echo import read_hidden

    if not ctx.env.interactive:
        raise UsageError(
            "login needs a token", hint="Pass --token <API token>, or run `cargo-shell login` on a terminal."
        )
    try:
        token = read_hidden("API token (hidden): ").strip()
    except EOFError:  # Ctrl-D
        token = ""
    if not token:
        raise UsageError("No token was typed: nothing stored", hint="Run `cargo-shell login` again.")
    return token


def logout(ctx: Context, argv: list[str]) -> int:
    p = _parser("logout", "Forget the stored token of a profile (back to the sandbox if none is left).")
    p.add_argument("--profile")
    ns = _parse(p, ctx, argv)
    if ns is None:
        return ExitStatus.OK
    profile = ns.profile or ctx.globals.get("profile") or ctx.store.current_profile()
    ctx.store.delete_token(profile)
    write_result(ctx.env, {"profile": profile, "loggedOut": True})
    return ExitStatus.OK


def config(ctx: Context, argv: list[str]) -> int:
    p = _parser("config", "Inspect the configuration (show is the default).")
    p.add_argument("action", choices=["show"], nargs="?", default="show")
    ns = _parse(p, ctx, argv)
    if ns is None:
        return ExitStatus.OK
    r = ctx.resolved()
    values = {
        "profile": r.profile,
        "target": r.target,
        "baseUrl": r.base_url,
        "token": "******** (hidden)" if r.token else ("sandbox token" if r.target == "sandbox" else None),
        "workspaceUuid": r.workspace_uuid,
    }
    names = {"profile": "profile", "baseUrl": "base_url", "token": "token", "workspaceUuid": "workspace_uuid"}
    out: dict[str, Any] = {
        "settings": {k: {"value": v, "source": r.sources.get(names.get(k, ""), "default")} for k, v in values.items()},
        "files": {"config": str(ctx.env.paths.config_file), "data": str(ctx.env.paths.data_dir)},
        "profiles": sorted(ctx.store.load()["profiles"]),
    }
    out["settings"]["target"]["source"] = "derived"
    write_result(ctx.env, out)
    return ExitStatus.OK


def completion(ctx: Context, argv: list[str]) -> int:
    from cargo_shell.completion import completion_script

    p = _parser("completion", 'Print a completion script: eval "$(cargo-shell completion bash)".')
    p.add_argument("shell", choices=["bash", "zsh", "fish"])
    need_verb(p, ctx, argv, ["bash", "zsh", "fish"])
    ns = _parse(p, ctx, argv)
    if ns is None:
        return ExitStatus.OK
    ctx.env.stdout.write(completion_script(ns.shell, ctx.registry))
    return ExitStatus.OK


def sandbox(ctx: Context, argv: list[str]) -> int:
    p = _parser("sandbox", "The local Cargo-compatible sandbox API.")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="serve the sandbox over HTTP on loopback")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787, help="port to listen on; 0 picks any free port")
    serve.add_argument("--data-dir")
    serve.add_argument("--token", help="seed this admin token (for scripts)")
    serve.add_argument("--reset", action="store_true", help="re-seed the demo workspace first")
    serve.add_argument("--faults", help="inject faults, e.g. 429=0.1,500=0.05,reset=0.02,latency=20ms")
    info = sub.add_parser("info", help="where the sandbox is reachable (a running `serve`'s URL), workspace, token")
    info.add_argument("--json", action="store_true", help="JSON output (the default)")
    info.add_argument("--data-dir")
    reset = sub.add_parser("reset", help="re-seed the demo workspace; open shells and servers follow")
    reset.add_argument("--data-dir")
    if argv[:1] in (["-h"], ["--help"]):
        ctx.env.stdout.write(p.format_help())
        return ExitStatus.OK
    need_verb(p, ctx, argv, list(sub.choices))
    ns = p.parse_args(argv)
    data_dir = Path(ns.data_dir).expanduser() if ns.data_dir else ctx.env.paths.sandbox_dir
    from cargo_shell.sandbox.runtime import Sandbox

    if ns.action == "serve":
        _serve(ctx, ns, data_dir)
        return ExitStatus.OK
    if ns.action == "reset":
        write_result(ctx.env, _reset_sandbox(ctx, data_dir))
        return ExitStatus.OK
    box = Sandbox.open(data_dir)
    try:
        write_result(ctx.env, _sandbox_info(data_dir, box.info()))
    finally:
        box.close()
    return ExitStatus.OK


def _serve(ctx: Context, ns: argparse.Namespace, data_dir: Path) -> None:
    from cargo_shell.sandbox.faults import FaultSpec
    from cargo_shell.sandbox.serve import ServeError, serve

    try:
        faults = FaultSpec.parse(ns.faults) if ns.faults else None
    except ValueError as exc:
        example = "Example: --faults 429=0.1,500=0.05,reset=0.02,latency=20ms"
        raise UsageError(f"--faults: {exc}", hint=example) from None
    if not 0 <= ns.port <= 65535:
        raise UsageError(f"--port {ns.port} is not a port number", hint="Use 1-65535, or 0 for any free port.")
    if ns.reset:
        _reset_sandbox(ctx, data_dir)  # marks the workspace's unfinished jobs gone too
    try:
        serve(host=ns.host, port=ns.port, data_dir=data_dir, token=ns.token, faults=faults)
    except ServeError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None


def _sandbox_info(data_dir: Any, identity: dict[str, Any]) -> dict[str, Any]:
    """``sandbox info``: the URL of a live ``sandbox serve`` of this directory, else in-process."""
    from cargo_shell.sandbox.served import live_servers

    servers = live_servers(data_dir)
    out: dict[str, Any] = {
        "mode": "served" if servers else "in-process",
        "baseUrl": servers[0]["baseUrl"] if servers else None,
        "workspaceUuid": identity["workspaceUuid"],
        "token": identity["token"],
        "dataDir": str(data_dir),
        "servers": servers,
    }
    if not servers:
        out["hint"] = (
            "No `cargo-shell sandbox serve` is running for this sandbox: cargo-shell commands use it in-process."
            " Run `cargo-shell sandbox serve` (or `--port 0` for any free port) to reach it over HTTP."
        )
    return out


def _reset_sandbox(ctx: Context, data_dir: Path) -> dict[str, Any]:
    """Re-seed the sandbox in place (open shells and servers see it at their next request) and mark
    gone the unfinished jobs recorded in its workspace: their batches and runs went with it."""
    from cargo_shell.executor.jobstore import JobStore
    from cargo_shell.sandbox.runtime import Sandbox

    box = Sandbox.open(data_dir, reset=True)
    try:
        workspace = box.workspace_uuid
    finally:
        box.close()
    store = JobStore(ctx.env.paths.jobs_db)
    try:
        gone = store.mark_workspace_gone(workspace)
    finally:
        store.close()
    return {"reset": True, "workspaceUuid": workspace, "jobsGone": gone}
