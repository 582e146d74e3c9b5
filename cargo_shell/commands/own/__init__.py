"""cargo-shell's own commands. Each handler is named in ``registry/commands/cargo-shell.json``,
receives the context and its validated arguments as keywords, and returns data (or a
:class:`~cargo_shell.commands.result.Result`): it never prints; the front end renders."""
