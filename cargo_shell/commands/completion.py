"""Shell completion scripts (bash, zsh, fish) generated from the registry and the global options."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.commands.options import after_command, global_options
from cargo_shell.registry import Registry

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context
    from cargo_shell.commands.result import Result


def completion_tree(registry: Registry) -> dict[str, list[str]]:
    """Map each typed prefix (space-joined words) to what may come next.

    ``registry`` is the command line's view; a command's positional choices (``completion bash``)
    come after its words, then its flags and the global options it accepts.
    """
    tree: dict[str, list[str]] = {}
    for spec in registry:
        for depth in range(len(spec.words)):
            prefix = " ".join(spec.words[:depth])
            nxt = spec.words[depth]
            bucket = tree.setdefault(prefix, [])
            if nxt not in bucket:
                bucket.append(nxt)
        own = [a.flag for a in spec.options]
        choices = [c for a in spec.positionals[:1] for c in a.choices]
        flags = [o.flag for o in after_command(download=spec.download) if o.flag not in own]
        bucket = tree.setdefault(spec.name, [])
        bucket.extend(w for w in [*choices, *own, *flags] if w not in bucket)
    leading = [spelling for o in global_options() for spelling in o.spellings if o.only is None]
    tree[""] = [*sorted(tree[""]), *leading]
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
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](completion_tree(registry))


def completion_command(ctx: Context, *, shell: str) -> Result:
    """``cargo-shell completion SHELL``: the script, as text."""
    from cargo_shell.commands.result import Result

    return Result(text=completion_script(shell, ctx.registry.view("cli")))
