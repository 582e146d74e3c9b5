"""The shell's input history file, written masked: a key pasted at the prompt never lands on disk.

The session's own history (↑ in this shell) keeps what was typed; only the file is masked.
"""

from __future__ import annotations

from prompt_toolkit.history import FileHistory


class MaskedFileHistory(FileHistory):
    def store_string(self, string: str) -> None:
        from cargo_shell.secrets import mask_text  # loaded on the first line stored, not at start-up

        super().store_string(mask_text(string))
