"""Imported first by ``cli.py``: a bare interactive `cargo-shell` paints its prompt right away.

Everything else is imported after this (see :mod:`cargo_shell.repl.early`).
"""

import sys

from cargo_shell.repl.early import _config_says_onboarded, paint_prompt_early
from cargo_shell.terminal_echo import hold_for_argv

if not paint_prompt_early():
    hold_for_argv(sys.argv, _config_says_onboarded)  # a hidden prompt is coming: no echo from now on
