"""Imported first by ``cli.py``: a bare interactive `cargo-shell` paints its prompt right away.

Everything else is imported after this (see :mod:`cargo_shell.repl.early`).
"""

from cargo_shell.repl.early import paint_prompt_early

paint_prompt_early()
