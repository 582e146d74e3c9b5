"""One masker for everything that leaves the process or lands on disk.

LLM requests, conversation files, transcripts and saved scripts, the audit log, ``--output
json`` events, plan panels, job store command lines and the crash log all go through
:class:`Masker`. It hides a secret by three independent nets:

1. **by value** (:mod:`.known`): every secret this process knows — the Cargo token in use,
   the LLM key, every secret value an API response carried — wherever it appears;
2. **by key name** (:mod:`.names`): values under secret-looking keys;
3. **by shape** (:mod:`.shapes`): well-known secret formats in free text.

The package imports nothing else of cargo-shell, so every layer can use it.
"""

from cargo_shell.secrets.known import KNOWN, MIN_KNOWN_LENGTH, KnownSecrets, remember
from cargo_shell.secrets.masker import DEFAULT, Masker, MaskingFormatter, mask_data, mask_text
from cargo_shell.secrets.names import is_credential_bag, is_secret_key
from cargo_shell.secrets.shapes import MASK, mask_shapes

__all__ = [
    "DEFAULT",
    "KNOWN",
    "MASK",
    "MIN_KNOWN_LENGTH",
    "KnownSecrets",
    "Masker",
    "MaskingFormatter",
    "is_credential_bag",
    "is_secret_key",
    "mask_data",
    "mask_shapes",
    "mask_text",
    "remember",
]
