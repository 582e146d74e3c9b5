"""The masker: known values, secret key names and secret shapes, over text and JSON-like data."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cargo_shell.secrets.known import KNOWN, MIN_KNOWN_LENGTH, KnownSecrets
from cargo_shell.secrets.names import is_credential_bag, is_secret_key, secret_pair_member
from cargo_shell.secrets.shapes import MASK, mask_shapes


class Masker:
    """Masks text and JSON-like data.

    ``known`` defaults to the process's registry (read at each call, so values learned later
    are masked too). A value hidden because of its key name is added to ``known``: it is a
    secret, so it is hidden wherever else it shows up (another key, a prompt, an answer).
    """

    def __init__(self, known: KnownSecrets | None = None) -> None:
        self.known = known if known is not None else KNOWN

    def text(self, value: str) -> str:
        if len(value) < MIN_KNOWN_LENGTH:
            return value  # too short to hold a known value or any secret format
        pattern = self.known.pattern()
        if pattern is not None:
            value = pattern.sub(MASK, value)
        return mask_shapes(value)

    def data(self, value: Any) -> Any:
        """A masked deep copy of JSON-like data (keys, booleans and nulls kept)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return self._object(value)
        return value

    def flag(self, name: str, value: Any) -> Any:
        """The masked form of an argument value given under the flag or key ``name``."""
        if is_secret_key(name):
            return self._hide(name, value)
        return self.data(value)

    def arguments(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Argument values by flag name, masked together: each by its flag's name, and a ``value``
        its sibling ``is-secret`` says is secret."""
        return self._object(dict(values))

    def _object(self, obj: dict[Any, Any]) -> dict[Any, Any]:
        connector = "config" in obj and ("integrationSlug" in obj or "useCredits" in obj)
        member = secret_pair_member(obj)
        out: dict[Any, Any] = {}
        for key, item in obj.items():
            if connector and key == "config":
                out[key] = self._hide_all(item)  # where a connector keeps third-party credentials
            elif key == member or (isinstance(key, str) and is_secret_key(key)):
                out[key] = self._hide(str(key), item)
            else:
                out[key] = self.data(item)
        return out

    def _hide(self, key: str, value: Any) -> Any:
        """The value of a secret key: scalars hidden; an object hidden whole when the key names a
        bag of credentials, else looked into (``{"token": {"uuid", "name", "token"}}``)."""
        if value is None or isinstance(value, bool) or value in ("", [], {}):
            return value
        if isinstance(value, str | int | float):
            self.known.add(value)
            return MASK
        if is_credential_bag(key):
            return self._hide_all(value, learn=True)
        if isinstance(value, list):
            self.known.add_all(value)
            return [MASK if _scalar(v) else self.data(v) for v in value]
        return self.data(value)

    def _hide_all(self, value: Any, *, learn: bool = False) -> Any:
        """Keep the shape (keys, list lengths, booleans, nulls); hide every string and number.
        Strings are remembered when ``learn`` (a bag of credentials) or under a secret key."""
        if isinstance(value, dict):
            return {k: self._hide_all(v, learn=learn or is_secret_key(str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self._hide_all(v, learn=learn) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if learn:
            self.known.add(value)
        return MASK


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


DEFAULT = Masker()


def mask_text(value: str) -> str:
    """:meth:`Masker.text` with the process's registry."""
    return DEFAULT.text(value)


def mask_data(value: Any) -> Any:
    """:meth:`Masker.data` with the process's registry."""
    return DEFAULT.data(value)


class MaskingFormatter(logging.Formatter):
    """A log formatter whose output (message and traceback) is masked: for the crash log."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))
