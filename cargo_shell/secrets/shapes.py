"""Well-known secret formats in free text: API keys and tokens by their prefixes, JWTs, PEM
private keys, AWS key pairs, ``Bearer`` values, ``password=...`` assignments, URL passwords.

Each format has a few lower-case trigger substrings; its regex only runs on text that holds
one (most text holds none, so masking ordinary text costs a few substring checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cargo_shell.secrets.names import is_secret_key

MASK = "«masked»"

_RUN = r"[^\s\"',;]"


class _Shape:
    """A regex (the ``keep`` group stays readable, the rest is hidden), its trigger substrings, and
    optionally characters one of which must occur too."""

    def __init__(
        self,
        pattern: str,
        triggers: tuple[str, ...],
        *,
        keep: str | None = None,
        needs: tuple[str, ...] = (),
        accept: Callable[[re.Match[str]], bool] | None = None,
    ) -> None:
        self.regex = re.compile(f"(?P<keep>{keep})(?:{pattern})" if keep else pattern, re.DOTALL)
        self.triggers = frozenset(triggers)
        self.needs = needs
        self.keeps = keep is not None
        self.accept = accept

    def sub(self, text: str) -> str:
        if self.accept is not None:
            accept = self.accept
            return self.regex.sub(lambda m: (m.group("keep") + MASK) if accept(m) else m.group(0), text)
        if self.keeps:
            return self.regex.sub(lambda m: m.group("keep") + MASK, text)
        return self.regex.sub(MASK, text)


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _names_a_secret(match: re.Match[str]) -> bool:
    """The whole name before ``=``/``:`` (the regex starts at its secret word) is a secret key name:
    ``client_secret=...`` yes, ``"tokenUuid": "..."`` and ``tokensCount: ...`` no."""
    text, start = match.string, match.start()
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    return is_secret_key(text[start : match.end("name")])


_SHAPES: tuple[_Shape, ...] = (
    _Shape(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY-----(?:.*?-----END[ A-Z0-9]*PRIVATE KEY-----|.*\Z)", ("private key--",)),
    _Shape(r"\bsk-[A-Za-z0-9_\-]{16,}", ("sk-",)),  # OpenAI, Anthropic (sk-ant-), project keys (sk-proj-)
    _Shape(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _Shape(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}", ("xox",)),  # Slack tokens
    _Shape(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+", ("hooks.slack.com",)),  # Slack webhooks
    _Shape(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}", ("k_live_", "k_test_")),  # Stripe
    _Shape(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b", ("akia", "asia", "agpa", "aida", "aroa")),  # AWS key ids
    _Shape(r"\bAIza[0-9A-Za-z_\-]{35}", ("aiza",)),  # Google API keys
    _Shape(r"\bcai_[A-Za-z0-9_\-]{16,}", ("cai_",)),  # Cargo API tokens
    _Shape(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", ("eyj",)),  # JWTs
    _Shape(r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", ("sg.",)),  # SendGrid
    _Shape(r"\bpat-(?:na|eu|ap)\d-[0-9a-f\-]{30,}", ("pat-",)),  # HubSpot private apps
    # "Authorization: Bearer <value>", "token <value>" (not "token <uuid>": that names a token)
    _Shape(
        r"(?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-)(?=[A-Za-z0-9._~+/=\-]*[0-9])[A-Za-z0-9._~+/=\-]{12,}",
        ("bearer", "basic", "token"),
        keep=r"(?i:\b(?:bearer|basic|token)\s+)",
    ),
    # https://user:password@host
    _Shape(r"[^/\s@]+(?=@)", ("://",), keep=r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:", needs=("@",)),
    # password=..., "client_secret": "...", aws_secret_access_key = ..., X-Api-Key: ...
    _Shape(
        rf"(?!«)(?={_RUN}*[A-Za-z])(?={_RUN}*[0-9A-Z/+=_\-]){_RUN}{{6,}}",
        ("secret", "passw", "passphrase", "token", "key", "credential"),
        needs=(":", "="),
        keep=(
            r"(?P<name>(?i:secret|passw(?:or)?d|passphrase|token|api[_\-]?key|access[_\-]?key|private[_\-]?key"
            r"|client[_\-]?key|credential)[\w.\-]*)[\"']?\s*[:=]\s*[\"']?"
        ),
        accept=_names_a_secret,
    ),
)
_TRIGGERS = tuple(sorted({t for shape in _SHAPES for t in shape.triggers}))
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
#: An AWS secret access key: 40 base64 characters; only hidden when a key id is in the same text.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")


#: A command line that sets a value it says is secret: ``--value X`` beside ``--is-secret`` (not ``false``).
_SECRET_SWITCH = "--is-secret"
_SWITCH_OFF = re.compile(r"--is-secret(?:=|\s+)[\"']?false\b")
_VALUE_FLAG = re.compile(r"(?P<keep>--value(?:=|\s+))(?:'[^']*'|\"[^\"]*\"|[^\s'\"]+)")


def mask_shapes(text: str) -> str:
    """``text`` with every well-known secret format replaced by :data:`MASK`."""
    lowered = text.lower()
    hits = {t for t in _TRIGGERS if t in lowered}
    out = text
    if _SECRET_SWITCH in lowered and "--value" in lowered and not _SWITCH_OFF.search(lowered):
        out = _VALUE_FLAG.sub(lambda m: m.group("keep") + MASK, out)
    if hits:
        for shape in _SHAPES:
            if not hits.isdisjoint(shape.triggers) and (not shape.needs or any(c in lowered for c in shape.needs)):
                out = shape.sub(out)
    if ("AKIA" in text or "ASIA" in text) and _AWS_KEY_ID.search(text):
        out = _AWS_SECRET.sub(MASK, out)
    return out
