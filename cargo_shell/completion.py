"""Shell completion scripts (bash, zsh, fish) generated from the registry."""

from __future__ import annotations

from cargo_shell.cli_args import GLOBAL_FLAGS, GLOBAL_SWITCHES
from cargo_shell.errors import UsageError
from cargo_shell.registry import Registry

#: What follows cargo-shell's own commands (their names come from ``cli.LOCAL_COMMANDS``).
LOCAL_TREE: dict[str, list[str]] = {
    "config": ["show"],
    "jobs": ["list", "wait", "cancel"],
    "policy": ["list", "allow", "deny", "remove"],
    "completion": ["bash", "zsh", "fish"],
    "sandbox": ["serve", "info", "reset"],
    "login": ["--token", "--workspace-uuid", "--base-url", "--profile"],
    "mcp": ["--read-only", "--http", "--port"],
}


def completion_tree(registry: Registry) -> dict[str, list[str]]:
    """Map each typed prefix (space-joined words) to what may come next."""
    tree: dict[str, list[str]] = {}
    for spec in registry:
        for depth in range(len(spec.words)):
            prefix = " ".join(spec.words[:depth])
            nxt = spec.words[depth]
            bucket = tree.setdefault(prefix, [])
            if nxt not in bucket:
                bucket.append(nxt)
        flags = [a.flag for a in spec.options]
        if spec.download:
            flags.append("--output-file")
        tree[spec.name] = flags + list(GLOBAL_FLAGS) + list(GLOBAL_SWITCHES)
    from cargo_shell.cli import LOCAL_COMMANDS

    for prefix, items in {"": list(LOCAL_COMMANDS), **LOCAL_TREE}.items():
        bucket = tree.setdefault(prefix, [])
        bucket.extend(i for i in items if i not in bucket)
    tree[""] = [*sorted(tree[""]), "--help"]
    return tree


def _bash(tree: dict[str, list[str]]) -> str:
    cases = "\n".join(f'        "{p}") opts="{" ".join(v)}" ;;' for p, v in sorted(tree.items()))
    return f"""# bash completion for cargo-shell (generated)
_cargo_shell_complete() {{
    local cur prefix word i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prefix=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        [[ "$word" == -* ]] && break
        prefix="${{prefix:+$prefix }}$word"
    done
    local opts=""
    case "$prefix" in
{cases}
    esac
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}}
complete -o default -F _cargo_shell_complete cargo-shell
"""


def _zsh(tree: dict[str, list[str]]) -> str:
    return (
        "#compdef cargo-shell\n# zsh completion for cargo-shell (generated)\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + _bash(tree)
    )


def _fish(tree: dict[str, list[str]]) -> str:
    cases = "\n".join(f'        case "{p}"\n            printf "%s\\n" {" ".join(v)}' for p, v in sorted(tree.items()))
    return f"""# fish completion for cargo-shell (generated)
function __cargo_shell_next
    set -l words (commandline -opc)
    set -e words[1]
    set -l prefix
    for w in $words
        string match -q -- '-*' $w; and break
        set prefix $prefix $w
    end
    switch (string join ' ' -- $prefix)
{cases}
    end
end
complete -c cargo-shell -f -a '(__cargo_shell_next)'
"""


def completion_script(shell: str, registry: Registry) -> str:
    tree = completion_tree(registry)
    makers = {"bash": _bash, "zsh": _zsh, "fish": _fish}
    if shell not in makers:
        raise UsageError(f"unknown shell {shell!r}: choose bash, zsh or fish")
    return makers[shell](tree)
