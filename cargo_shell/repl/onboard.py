"""Guided onboarding: pick the sandbox or log in, set up a language model, a short read-only tour.

Runs on the first interactive start (nothing in the config says ``onboarded``) and on
``cargo-shell onboard``. Every question has a default, so pressing Enter throughout lands on
the sandbox with no model — a working shell for direct commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError, ExitStatus

if TYPE_CHECKING:
    from rich.console import Console

    from cargo_shell.commands.context import Context

Ask = Callable[..., str]


def is_onboarded(ctx: Context) -> bool:
    try:
        return bool(ctx.store.load().get("onboarded"))
    except CargoShellError:
        return True  # a broken config is reported elsewhere; do not start a wizard over it


def mark_onboarded(ctx: Context) -> None:
    data = ctx.store.load()
    data["onboarded"] = True
    ctx.store.save(data)


class Onboarding:
    def __init__(self, ctx: Context, *, ask: Ask, console: Console) -> None:
        self.ctx = ctx
        self.ask = ask
        self.console = console

    def _choice(self, question: str, options: dict[str, str], default: str) -> str:
        while True:
            answer = self.ask(f"{question} [{default}]: ").strip().lower() or default
            if answer in options:
                return answer
            self.console.print(f"Please answer one of: {', '.join(options)}.")

    def run(self) -> int:
        from cargo_shell.terminal_echo import echo_off

        with echo_off():  # two steps ask for secrets: keys typed ahead of their prompt must not echo
            return self._run()

    def _run(self) -> int:
        c = self.console
        c.rule("[bold cyan]Welcome to cargo-shell[/bold cyan]")
        c.print(
            "Three short steps: where to work, which language model, and a read-only tour. Enter keeps the default."
        )
        self.choose_target()
        self.choose_model()
        self.tour()
        mark_onboarded(self.ctx)
        c.rule("[bold]You are set[/bold]")
        c.print("Type /help any time. `cargo-shell onboard` runs this again.")
        return int(ExitStatus.OK)

    # -- step 1 -----------------------------------------------------------------------------
    def choose_target(self) -> None:
        c = self.console
        c.print("\n[bold]1. Where to work[/bold]")
        c.print("  1) the local sandbox: a demo workspace on this machine, no account needed")
        c.print("  2) your Cargo workspace: needs an API token (Settings > API in the Cargo app)")
        if self._choice("Choose 1 or 2", {"1": "", "2": ""}, "1") == "1":
            profile = self.ctx.store.current_profile()
            if self.ctx.store.get_token(profile):
                self.ctx.store.delete_token(profile)
            self.ctx.store.set_profile(profile, {"base_url": None, "workspace_uuid": None})
            self.ctx.close()
            c.print("Using the sandbox.")
            return
        self.login()

    def login(self) -> None:
        from cargo_shell.commands.own.session import check_token
        from cargo_shell.constants import DEFAULT_BASE_URL

        c = self.console
        for _attempt in range(3):
            token = self.ask("API token (hidden): ", is_password=True).strip()
            if not token:
                c.print("No token given: staying on the sandbox.")
                return
            base_url = self.ask(f"API base URL [{DEFAULT_BASE_URL}]: ").strip() or DEFAULT_BASE_URL
            profile = self.ctx.store.current_profile()
            try:
                who = check_token(self.ctx, profile, base_url, token, None)
            except CargoShellError as exc:
                c.print(f"✗ That token did not work: {exc.message}", style="red", markup=False)
                continue
            user = who.get("user") or {}
            workspace = who.get("workspace") or {}
            c.print(f"Logged in as {user.get('email') or user.get('name') or 'unknown user'}.")
            ws_default = str(workspace.get("uuid") or "")
            label = f"{workspace.get('name', '?')} ({ws_default})" if ws_default else "none"
            chosen = self.ask(f"Workspace UUID to act in [{label}]: ").strip() or ws_default
            where = self.ctx.store.set_token(profile, token)
            self.ctx.store.set_profile(profile, {"base_url": base_url, "workspace_uuid": chosen or None})
            self.ctx.close()
            c.print(f"Saved (token in the {where} store, never printed).")
            return
        c.print("Staying on the sandbox; `cargo-shell login --token ...` or /login later.")

    # -- step 2 -----------------------------------------------------------------------------
    def choose_model(self) -> None:
        from cargo_shell.commands.providers import PROVIDERS, save_model_settings, test_model

        c = self.console
        c.print("\n[bold]2. Language model[/bold] (for plain-words requests; commands work without one)")
        for number, choice in enumerate(PROVIDERS, 1):
            at = f" at {choice.base_url}" if choice.base_url else ""
            c.print(f"  {number}) {choice.label}{at}")
        skip = str(len(PROVIDERS) + 1)
        c.print(f"  {skip}) skip for now")
        numbers = [str(n) for n in range(1, len(PROVIDERS) + 2)]
        answer = self._choice(f"Choose {', '.join(numbers[:-1])} or {skip}", dict.fromkeys(numbers, ""), skip)
        if answer == skip:
            c.print("No model: type commands directly; /model or `cargo-shell onboard` later.")
            return
        chosen = PROVIDERS[int(answer) - 1]
        key = self.ask("OpenAI API key (hidden): ", is_password=True).strip() if chosen.needs_key else ""
        base_url = None
        if chosen.base_url is not None:
            base_url = self.ask(f"Server URL [{chosen.base_url}]: ").strip() or chosen.base_url
        model = self.ask(f"Model [{chosen.model}]: ").strip() or chosen.model
        save_model_settings(self.ctx, model=model, base_url=base_url, api_key=key or None)
        c.print("Testing with a tiny request…")
        ok, detail = test_model(self.ctx)
        if ok:
            c.print(f"[green]✓[/green] {model} answered: {detail}")
        else:
            c.print(f"! The model did not answer: {detail}", style="yellow", markup=False)
            c.print("Settings are kept; fix the server or key, then try again with /model.")

    # -- step 3 -----------------------------------------------------------------------------
    def tour(self) -> None:
        from cargo_shell.render.plan import PROMPT, parse_answer, plan_panel
        from cargo_shell.render.results import show_result

        c = self.console
        c.print("\n[bold]3. A short tour[/bold] (read-only: nothing is changed)")
        try:
            executor = self.ctx.executor()
            steps = [
                ("Who am I? You can type this as a command:", "whoami", None),
                ("The data models in the workspace:", "storage model list", "models"),
                ("The tools (workflows you can run):", "orchestration tool list", "tools"),
            ]
            first_tool: dict[str, Any] | None = None
            for text, command, key in steps:
                c.print(f"\n{text} [bold cyan]{command}[/bold cyan]")
                spec = self.ctx.registry.get(command)
                data = executor.run(spec, executor.validate(spec, {})).data
                if command == "whoami":
                    user, ws = (data or {}).get("user") or {}, (data or {}).get("workspace") or {}
                    c.print(f"  you are {user.get('email') or user.get('name')}, in workspace {ws.get('name')}")
                    continue
                show_result(c, data, key=key)
                if key == "tools" and isinstance(data, dict) and data.get("tools"):
                    first_tool = data["tools"][0]
            if first_tool is not None:
                c.print("\nActions that change data or spend credits always show a plan first. For example:")
                spec = self.ctx.registry.get("orchestration batch create")
                raw = {
                    "workflow-uuid": first_tool["workflowUuid"] if "workflowUuid" in first_tool else first_tool["uuid"],
                    "data": {"kind": "records", "records": [{"domain": "example.com"}]},
                }
                plan = executor.prepare(spec, raw)
                c.print(plan_panel(plan))
                answer = parse_answer(self.ask("Answer n to decline (the tour never runs it). " + PROMPT))
                c.print(f"You answered {answer or 'no'}: not run (in the shell, y runs it with live progress).")
        except CargoShellError as exc:
            c.print(f"The tour stopped: {exc.message}", style="yellow", markup=False)
        c.print("\nTry [bold]storage model list --output table[/bold], [bold]/help[/bold], or ask in plain words.")


def onboard_command(ctx: Context) -> int:
    """`cargo-shell onboard`: the guided setup (needs a terminal)."""
    from cargo_shell.errors import UsageError
    from cargo_shell.render.console import make_console

    if not ctx.env.interactive:
        raise UsageError("onboard needs a terminal", hint="Use `cargo-shell login --token ...` in scripts.")
    return Onboarding(ctx, ask=terminal_ask(), console=make_console(ctx.env)).run()


def terminal_ask() -> Ask:
    from prompt_toolkit import prompt

    def ask(question: str, *, is_password: bool = False) -> str:
        return prompt(question, is_password=is_password)

    return ask
