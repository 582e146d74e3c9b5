"""Which key names hold secrets: ``*secret*``, ``*password*``, ``*token*``, ``*key*``,
``authorization``, ``cookie``, ``credential*``... case-insensitive, separators ignored.

Left alone on purpose: names that describe a secret rather than hold it (``tokenUuid``,
``secretName``, ``apiKeyId``, ``tokenExpiresAt``), counts and usage (``tokensCount``,
``maxTokens``, ``prompt_tokens``), paging cursors (``nextPageToken``) and keys that are data
structure (``key``, ``keys``, ``primaryKey``, ``sortKey``, ``s3Key``, ``keyboard``).
"""

from __future__ import annotations

import re
from typing import Any

_NON_ALNUM = re.compile(r"[^a-z0-9]")
#: A key containing one of these holds a secret (after lower-casing and dropping - _ . etc.).
_SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "authorization",
    "cookie",
    "bearer",
    "privatekey",
    "signingkey",
)
_SECRET_NAMES = frozenset({"auth", "pwd", "pass", "authheader", "sessionid", "sid"})
#: Endings of names that describe a secret rather than hold one.
_DESCRIPTIVE_SUFFIXES = (
    "uuid",
    "uuids",
    "id",
    "ids",
    "name",
    "names",
    "type",
    "types",
    "kind",
    "count",
    "counts",
    "url",
    "urls",
    "uri",
    "endpoint",
    "expiresat",
    "expiresin",
    "expiry",
    "expiration",
    "createdat",
    "updatedat",
    "lastusedat",
    "deletedat",
    "length",
    "set",
    "required",
    "enabled",
)
#: ``*token*`` names that count or page rather than authenticate.
_TOKEN_NOT_SECRET = re.compile(
    r"^(max|min|total|prompt|completion|input|output|reasoning|cached|cache|cachewrite|cacheread|billable"
    r"|remaining|used|num|n|context)tokens?"
    r"|tokens?(used|usage|limit|limits|total|remaining|budget|perminute|persecond)$"
    r"|tokeniz|^tokens$|^(next|page|continuation|pagination|sync|cursor)token|pagetoken"
)
#: What may come before ``key`` in a name that is data structure, not a credential.
_KEY_NOT_SECRET_PREFIXES = (
    "primary",
    "foreign",
    "sort",
    "partition",
    "unique",
    "join",
    "group",
    "index",
    "column",
    "field",
    "lookup",
    "dedupe",
    "dedup",
    "match",
    "merge",
    "cache",
    "composite",
    "natural",
    "surrogate",
    "row",
    "record",
    "object",
    "map",
    "dict",
    "s3",
    "storage",
    "file",
    "bucket",
    "entity",
    "identity",
    "idempotency",
    "public",
    "shard",
    "hash",
    "routing",
    "order",
    "range",
    "hot",
    "translation",
    "i18n",
    "locale",
    "message",
    "react",
    "response",
    "request",
)
_KEY_NOT_SECRET_WORDS = tuple(
    ["keyboard", "keyword", "keystroke", "monkey", "turkey", "donkey", "hockey", "jockey", "whiskey"]
)
#: What may follow a bare leading ``key``: ``key``, ``keys``, ``keyPath``, ``keyColumn``.
_KEY_NOT_SECRET_RESTS = frozenset({"", "s", "path", "paths", "field", "fields", "column", "columns", "value", "values"})
#: A secret key whose object value is credentials as a whole (every leaf hidden).
_BAG_WORDS = ("credential", "secret", "password", "authorization", "cookie")
#: Fields that name the other member of a name/value pair: ``{"name": "X-Api-Key", "value": "..."}``.
_PAIR_NAMES = ("name", "key", "header", "field", "label")
#: Switches by which an object says its own ``value`` is a secret (a hosting env var: ``isSecret``),
#: in the API's spelling and as cargo-shell flags (``--is-secret``).
SECRET_SWITCHES = ("isSecret", "is-secret", "is_secret")

_CACHE: dict[str, bool] = {}


def _normalise(key: str) -> str:
    return _NON_ALNUM.sub("", key.lower())


def _judge(key: str) -> bool:
    n = _normalise(key)
    if not n or n.endswith(_DESCRIPTIVE_SUFFIXES):
        return False
    if n in _SECRET_NAMES or any(word in n for word in _SECRET_WORDS):
        return True
    if "token" in n:
        return not _TOKEN_NOT_SECRET.search(n)
    at = n.find("key")
    if at < 0 or any(word in n for word in _KEY_NOT_SECRET_WORDS):
        return False
    prefix, rest = n[:at], n[at + 3 :]
    if not prefix:
        return rest not in _KEY_NOT_SECRET_RESTS
    return not prefix.endswith(_KEY_NOT_SECRET_PREFIXES)


def is_secret_key(key: str) -> bool:
    """Whether a value stored under ``key`` is a secret."""
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) > 50_000:
            _CACHE.clear()
        hit = _CACHE[key] = _judge(key)
    return hit


def is_credential_bag(key: str) -> bool:
    """A secret key whose object value is hidden whole (``credentials``, ``auth``...)."""
    n = _normalise(key)
    return n == "auth" or any(word in n for word in _BAG_WORDS)


def secret_pair_member(obj: dict[str, Any]) -> str | None:
    """``"value"`` when ``obj`` is a name/value pair naming a secret (headers, settings) or says that its
    value is secret (``{"key": "STRIPE_KEY", "value": ..., "isSecret": true}``), else None."""
    if "value" not in obj:
        return None
    if any(obj.get(switch) in (True, "true") for switch in SECRET_SWITCHES):
        return "value"
    for name in _PAIR_NAMES:
        label = obj.get(name)
        if isinstance(label, str) and is_secret_key(label):
            return "value"
    return None
