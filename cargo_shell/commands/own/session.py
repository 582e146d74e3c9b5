"""``login``, ``logout``, ``config show``: the connection settings stored on this machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.config import Resolved
from cargo_shell.constants import DEFAULT_BASE_URL

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context


def check_token(
    ctx: Context, profile: str, base_url: str, token: str, workspace_uuid: str | None, *, token_flag: bool = True
) -> dict[str, Any]:
    """``whoami`` with settings not stored yet, through an executor of the context (the profile's
    deny rules and the audit log apply); its ``{user, workspace}``. Raises what the API answers.
    ``token_flag``: the token came from a flag (named in a refusal of an unsendable value)."""
    resolved = Resolved(profile, "cloud", base_url, token, workspace_uuid)
    resolved.sources.update(workspace_uuid="flag")  # named in a refusal of an unsendable value
    if token_flag:
        resolved.sources["token"] = "flag"  # a typed token has no flag to name
    target = ctx.open_target(resolved)
    try:
        executor = ctx.make_executor(target=target, front_end=ctx.front_end)
        who = executor.run(ctx.registry.get("whoami"), {}).data
    finally:
        target.close()
    return who if isinstance(who, dict) else {}


def login(
    ctx: Context, *, token: str | None, workspace_uuid: str | None, base_url: str | None, profile: str | None
) -> dict[str, Any]:
    """Check the token with whoami, then store it (and the base URL and workspace) for the profile.

    No ``--token`` (nor global ``--token``): on a terminal it is typed at a hidden prompt."""
    given = token or ctx.globals.get("token")
    token = given or _ask_token(ctx)
    profile = profile or ctx.globals.get("profile") or ctx.store.current_profile()
    base_url = base_url or ctx.globals.get("base_url") or ctx.env.environ.get("CARGO_API_URL")
    who = check_token(ctx, profile, base_url or DEFAULT_BASE_URL, token, workspace_uuid, token_flag=bool(given))
    workspace = who.get("workspace") or {}
    where = ctx.store.set_token(profile, token)
    ctx.store.set_profile(profile, {"base_url": base_url, "workspace_uuid": workspace_uuid or workspace.get("uuid")})
    ctx.close()  # the next command connects with what was stored
    return {"profile": profile, "tokenStoredIn": where, **who}


def _ask_token(ctx: Context) -> str:
    """The token typed at a hidden prompt; the terminal echoes nothing from start-up on."""
    from cargo_shell.errors import UsageError
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


def logout(ctx: Context, *, profile: str | None) -> dict[str, Any]:
    profile = profile or ctx.globals.get("profile") or ctx.store.current_profile()
    ctx.store.delete_token(profile)
    ctx.close()
    return {"profile": profile, "loggedOut": True}


def show_config(ctx: Context) -> dict[str, Any]:
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
    return out
