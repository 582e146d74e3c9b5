"""Mask secrets before anything reaches the model's context or a saved transcript.

Three nets, applied together: (1) values under secret-looking keys (``token``, ``apiKey``,
``password``, ``clientSecret``, ...); (2) every string inside a connector's ``config`` (that is
where third-party credentials live); (3) known secret values (the Cargo API token in use, the
OpenAI key) and token-shaped strings anywhere in free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "«masked»"

_SECRET_KEYS = re.compile(
    r"^(token|accesstoken|refreshtoken|idtoken|apikey|api_key|secret|clientsecret|webhooksecret|password|"
    r"passwd|privatekey|authorization|credentials?|bearer|sessiontoken|signingsecret)$",
    re.IGNORECASE,
)
#: Secret keys whose object value is a bag of credentials as a whole.
_CREDENTIAL_BAGS = re.compile(r"^(credentials?|authorization|secret)$", re.IGNORECASE)
#: Strings that look like bearer tokens whatever key they sit under.
_TOKEN_SHAPES = re.compile(
    r"\b(?:cai_[A-Za-z0-9_]*_[A-Za-z0-9_-]{16,}|sk-[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+)"
)


def _is_connector(obj: dict[str, Any]) -> bool:
    return "config" in obj and ("integrationSlug" in obj or "useCredits" in obj)


class Masker:
    def __init__(self, known_secrets: Iterable[str | None] = ()) -> None:
        self.known = sorted({s for s in known_secrets if s and len(s) >= 8}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.known:
            if secret in value:
                value = value.replace(secret, MASK)
        return _TOKEN_SHAPES.sub(MASK, value)

    def data(self, value: Any) -> Any:
        """A masked deep copy of JSON-like data."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            connector = _is_connector(value)
            out: dict[str, Any] = {}
            for key, item in value.items():
                secret = isinstance(key, str) and bool(_SECRET_KEYS.match(key)) and item not in (None, "", [], {})
                if secret and isinstance(item, dict | list) and not _CREDENTIAL_BAGS.match(str(key)):
                    # e.g. {"token": {uuid, name, token}}: the object is not the secret, its field is
                    out[key] = self.data(item)
                elif secret or (connector and key == "config"):
                    out[key] = _mask_all(item)
                else:
                    out[key] = self.data(item)
            return out
        return value


def _mask_all(value: Any) -> Any:
    """Keep the shape (keys, list lengths, booleans, nulls); hide every string and number."""
    if isinstance(value, dict):
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    return MASK
