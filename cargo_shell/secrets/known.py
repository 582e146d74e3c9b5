"""The secret values this process knows, so they are masked by value wherever they appear.

:data:`KNOWN` is the process's one registry (a secret learned anywhere is hidden everywhere):
the HTTP client registers the Cargo token it sends, the LLM adapter its key, and the executor
every secret value an API response carries (``workspace token create``, connector
credentials, node configs...).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from cargo_shell.secrets.names import is_secret_key, secret_pair_member
from cargo_shell.secrets.shapes import MASK

#: Shorter values are not registered: masking them everywhere would hide ordinary words.
MIN_KNOWN_LENGTH = 8
_MAX_KNOWN = 10_000


class KnownSecrets:
    """A thread-safe set of secret values (the shell has background threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def add(self, value: object) -> bool:
        """Register one value (a string of 8+ characters that is not a mask); True when new."""
        if not isinstance(value, str) or not _worth_knowing(value):
            return False
        with self._lock:
            if value in self._values or len(self._values) >= _MAX_KNOWN:
                return False
            self._values.add(value)
            self._pattern = None
        return True

    def add_all(self, values: Iterable[object]) -> None:
        for value in values:
            self.add(value)

    def learn(self, data: Any) -> list[tuple[str, str]]:
        """Register the strings under secret keys anywhere in ``data``; returns the new ones as
        (JSON path, value), e.g. ``("token.token", "cai_...")`` for a token just created."""
        if type(data) is not dict and type(data) is not list:
            return []
        found: list[tuple[str, str]] = []
        _walk(data, [], found)
        return [(path, value) for path, value in found if self.add(value)]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        """One regex matching any known value, longest first (rebuilt after a change)."""
        pattern = self._pattern
        if pattern is None and self._values:
            with self._lock:
                ordered = sorted(self._values, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, ordered)))
        return pattern


def _worth_knowing(value: str) -> bool:
    return len(value) >= MIN_KNOWN_LENGTH and MASK not in value and len(set(value)) > 2


def _walk(value: Any, trail: list[str | int], found: list[tuple[str, str]]) -> None:
    """Collect (path, value) of the strings under secret keys. Runs on every API response, so the
    path is only spelled out for a hit, and plain values are told apart by ``type()``."""
    if type(value) is list:
        for index, item in enumerate(value):
            kind = type(item)
            if kind is dict or kind is list:
                trail.append(index)
                _walk(item, trail, found)
                trail.pop()
        return
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if len(item) >= MIN_KNOWN_LENGTH and type(key) is str and is_secret_key(key):
                found.append((_path(trail, key), item))
        elif kind is dict or kind is list:
            trail.append(key)
            if kind is list and type(key) is str and is_secret_key(key):
                found.extend((_path(trail, i), v) for i, v in enumerate(item) if type(v) is str)
            _walk(item, trail, found)
            trail.pop()
    if "value" in value:
        member = secret_pair_member(value)
        if member is not None and type(value.get(member)) is str:
            found.append((_path(trail, member), value[member]))


def _path(trail: list[str | int], last: str | int) -> str:
    out = ""
    for part in (*trail, last):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


KNOWN = KnownSecrets()


def remember(*values: str | None) -> None:
    """Register secret values with the process's registry (the token in use, an LLM key...)."""
    KNOWN.add_all(values)
