"""Query-string encoding identical to the official JS client (Axios conventions).

Nulls are dropped; a top-level list becomes ``key[]=a&key[]=b``; nested objects use
``key[sub]=v`` and lists inside objects are indexed ``key[sub][0]=v``. Values are
percent-encoded like ``encodeURIComponent`` but ``:`` ``$`` ``,`` stay literal and a space
becomes ``+``; brackets in keys stay percent-encoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

_SAFE = "-_.!~*'()"  # what encodeURIComponent leaves alone, besides alphanumerics


def _encode(value: str) -> str:
    out = quote(value, safe=_SAFE)
    return out.replace("%3A", ":").replace("%24", "$").replace("%2C", ",").replace("%20", "+")


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _nested(path: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _nested(f"{path}[{i}]", item, pairs)
    elif isinstance(value, dict):
        for key, item in value.items():
            _nested(f"{path}[{key}]", item, pairs)
    else:
        pairs.append((path, _scalar(value)))


def query_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            for item in value:
                if item is None:
                    continue
                if isinstance(item, dict | list):
                    _nested(f"{key}[]", item, pairs)
                else:
                    pairs.append((f"{key}[]", _scalar(item)))
        elif isinstance(value, dict):
            for sub, item in value.items():
                _nested(f"{key}[{sub}]", item, pairs)
        else:
            pairs.append((key, _scalar(value)))
    return pairs


def encode_query(params: dict[str, Any]) -> str:
    """Return the query string without the leading ``?`` ("" when empty)."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in query_pairs(params))
