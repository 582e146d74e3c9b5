"""Help text for every level of the command tree, generated from the registry and the global options."""

from __future__ import annotations

import json
import textwrap

from cargo_shell.commands.options import global_options
from cargo_shell.registry import Registry, get_registry
from cargo_shell.registry.spec import ArgSpec, CommandSpec

_EFFECT_TEXT = {
    "read": "read (runs without asking)",
    "write": "write (changes workspace data; asks first)",
    "destructive": "destructive (removes or cancels; always asks)",
    "cost": "cost (spends credits; always asks)",
}


def _wrap(text: str, indent: int, width: int = 100) -> str:
    return textwrap.fill(text, width=width, initial_indent=" " * indent, subsequent_indent=" " * indent)


def root_help(registry: Registry) -> str:
    """``registry`` is the command line's view: the commands it offers."""
    lines = [
        "cargo-shell — the Cargo platform from your terminal",
        "",
        "Usage:",
        "  cargo-shell                                    open the conversational shell",
        "  cargo-shell <domain> <resource> <verb> [args]  run one Cargo command (JSON on stdout)",
        '  cargo-shell -p "PROMPT" [--yes]                answer one request with the assistant and exit',
        "  cargo-shell --resume                           continue the last conversation (shell, -p or run)",
        "",
        "Domains:",
    ]
    single = []
    own: dict[str, list[str]] = {}
    for spec in registry:
        if spec.own and not spec.skill:
            own.setdefault(spec.words[0], []).append(spec.name)
        elif len(spec.words) == 1:
            single.append(spec)
    for domain in registry.children(()):
        if domain in own or registry.get_or_none(domain) is not None:
            continue
        lines.append(f"  {domain:<18} {', '.join(registry.children((domain,)))}")
    lines += ["", "Session:"]
    lines += [f"  {s.name:<26} {s.summary}" for s in single]
    lines += ["", "cargo-shell's own commands:"]
    lines += [f"  {usage:<30} {text}" for usage, text in _own_commands(registry, own)]
    lines += ["", "Global options:"]
    for opt in global_options():
        if opt.only is None:  # --output-file is in the help of the commands that download
            label = ", ".join(filter(None, (opt.short, opt.flag))) + (f" {opt.value}" if opt.value else "")
            lines += [f"  {label:<24} {opt.help}"]
    lines += ["", "Run `cargo-shell <domain> --help` to see its commands."]
    return "\n".join(lines) + "\n"


def usage_words(spec: CommandSpec) -> str:
    """``replay FILE [options]``: a command and its positional arguments."""
    positional = " ".join(a.name.upper() if a.required else f"[{a.name.upper()}]" for a in spec.positionals)
    return " ".join(filter(None, (spec.name, positional, "[options]" if spec.options else "")))


def _own_commands(registry: Registry, own: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(usage, summary) of cargo-shell's own commands: a group as its verbs, a command with its arguments."""
    out = []
    for first, names in own.items():
        group = registry.groups.get((first,))
        if group is not None or len(names) > 1 or names[0] != first:
            verbs = "|".join(registry.children((first,)))
            out.append((f"{first} {verbs}", group.summary if group else ""))
        else:
            spec = registry.get(first)
            out.append((usage_words(spec), spec.summary[:1].lower() + spec.summary[1:].rstrip(".")))
    return out


def next_word(registry: Registry, prefix: tuple[str, ...]) -> str:
    """What follows a group's words: a ``resource`` after an API domain, else a ``verb``."""
    own = any(s.own for s in registry if s.words[:1] == prefix[:1])
    return "verb" if len(prefix) > 1 or own else "resource"


def group_help(registry: Registry, prefix: tuple[str, ...]) -> str:
    lines = [f"Usage: cargo-shell {' '.join(prefix)} <{next_word(registry, prefix)}> ...", ""]
    group = registry.groups.get(prefix)
    if group is not None:
        lines[-1:] = ["", group.summary[:1].upper() + group.summary[1:] + ".", ""]
        if group.default:
            lines.insert(-1, f"Without a verb (or with only options): `{' '.join((*prefix, group.default))}`.")
    for child in registry.children(prefix):
        words = (*prefix, child)
        specs = [s for s in registry if s.words[: len(words)] == words]
        if len(specs) == 1 and specs[0].words == words:
            lines.append(f"  {child:<22} {specs[0].summary}")
        else:
            verbs = registry.children(words)
            lines.append(f"  {child:<22} {', '.join(verbs)}")
    lines += ["", f"Run `cargo-shell {' '.join(prefix)} <name> --help` for details."]
    return "\n".join(lines) + "\n"


def _arg_line(arg: ArgSpec) -> list[str]:
    kind: str = arg.type
    if arg.choices:
        kind = f"{arg.type}: {'|'.join(arg.choices)}"
    elif arg.type == "list":
        kind = f"list of {arg.item_type or 'string'} " + ("(a,b,c)" if arg.split else "(repeat the flag)")
    elif arg.type == "json":
        kind = "JSON, @file.json or -"
    flags = []
    if arg.required:
        flags.append("required")
    if not arg.documented:
        flags.append("API field")
    label = arg.name.upper() if arg.positional else ", ".join(reversed(arg.spellings))
    head = f"  {label:<28} {kind}" + (f"  [{', '.join(flags)}]" if flags else "")
    out = [head]
    if arg.help:
        out.append(_wrap(arg.help, 32))
    if arg.location == "unsent":
        out.append(_wrap("No field in the Cargo API: accepted for compatibility, not sent.", 32))
    return out


def command_help(spec: CommandSpec) -> str:
    usage = " ".join(f"<{a.name}>" for a in spec.positionals)
    lines = [f"Usage: cargo-shell {spec.name} {usage}".rstrip() + " [options]", "", spec.summary, ""]
    if "shell" not in spec.offered_in:
        lines[-1:] = ["Runs from the command line, not inside the shell.", ""]
    lines.append(f"Effect: {spec.extra.get('effect_note') or _EFFECT_TEXT[spec.effect]}")
    for rule in spec.effect_when:  # arguments that make a call more than the command's own effect
        flag = spec.arg(rule.arg).flag + (f" {rule.key}" if rule.key else "")
        when = f"{flag} is not one read-only SELECT" if rule.test == "sql" else f"{flag} is {json.dumps(rule.value)}"
        lines.append(_wrap(f"{_EFFECT_TEXT[rule.effect]} when {when}: {rule.why}", 8))
    if spec.http is not None and spec.http.path:
        lines.append(f"API:    {spec.http.method} {spec.http.path}")
    if spec.job is not None:
        kind = get_registry().job_kind(spec.job.kind)
        lines.append(
            f"Async:  returns a {spec.job.kind}; --wait-until-finished polls `{kind.get_command}` "
            f"every {kind.interval_s:g} s until {'/'.join(sorted(kind.terminal))}"
        )
    if spec.admin_only:
        lines.append("Needs an admin token.")
    documented = [a for a in spec.args if a.documented]
    extra = [a for a in spec.args if not a.documented]
    if documented:
        lines += ["", "Arguments:"]
        for arg in documented:
            lines += _arg_line(arg)
    if extra:
        lines += ["", "More API fields:"]
        for arg in extra:
            lines += _arg_line(arg)
    if spec.download:
        opt = next(o for o in global_options() if o.only == "download")
        lines += ["", "Download:", f"  {opt.flag + ' ' + (opt.value or ''):<28} {opt.help}"]
    kinds = spec.extra.get("batch_data_kinds")
    if isinstance(kinds, dict):
        lines += _data_kinds(kinds)
    if spec.notes:
        lines += ["", "Good to know:"]
        lines += [_wrap("- " + note, 2) for note in spec.notes]
    if spec.errors:
        lines += ["", "Error reasons: " + ", ".join(spec.errors)]
    return "\n".join(lines) + "\n"


def _data_kinds(kinds: dict[str, object]) -> list[str]:
    """The shapes ``--data`` takes, and which workflows take which (the registry's batch data kinds)."""
    lines = ["", "Data kinds (--data):"]
    lines += [f"  {kind + ':':<12} {shape}" for kind, shape in kinds.items() if isinstance(shape, str)]
    for key, who in (
        ("allowed_for_play", "plays take"),
        ("allowed_for_tool_or_no_workflow", "tools (and batches without a workflow) take"),
    ):
        allowed = kinds.get(key)
        if isinstance(allowed, list):
            lines.append(f"  {who}: {', '.join(map(str, allowed))}")
    return lines
