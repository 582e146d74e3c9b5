"""The one masker: secret key names, secret shapes in free text, known values, JSON-like data."""

from __future__ import annotations

import logging

import pytest

from cargo_shell.secrets import KNOWN, MASK, KnownSecrets, Masker, MaskingFormatter, is_secret_key, mask_text

SECRET_KEYS = [
    "X-Api-Key",
    "x_api_key",
    "apiKey",
    "client_secret",
    "clientSecret",
    "webhookSecret",
    "access_token",
    "accessToken",
    "botToken",
    "api_token",
    "refresh_token",
    "token",
    "password",
    "db_password",
    "passwd",
    "Authorization",
    "proxy-authorization",
    "Cookie",
    "set-cookie",
    "credentials",
    "credential_json",
    "privateKey",
    "private_key",
    "sshKey",
    "licenseKey",
    "aws_secret_access_key",
    "auth",
]
PLAIN_KEYS = [
    "tokensCount",
    "tokensUsedCount",
    "inputTokensCount",
    "reasoningTokensCount",
    "maxTokens",
    "max_tokens",
    "prompt_tokens",
    "completion_tokens",
    "tokens",
    "nextPageToken",
    "tokenUuid",
    "tokenName",
    "tokenExpiresAt",
    "secretName",
    "apiKeyId",
    "passwordSet",
    "key",
    "keys",
    "keyPath",
    "primaryKey",
    "foreignKey",
    "sortKey",
    "s3Key",
    "publicKey",
    "keyboard",
    "keyword",
    "author",
    "authorUuid",
    "passed",
    "response_key",
    "name",
    "domain",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_key_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_names_that_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


SHAPES = {
    "openai": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
    "anthropic": "sk-ant-api03-Zz9Yy8Xx7Ww6Vv5Uu4Tt",
    "github": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "github-fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "aws-key-id": "AKIAIOSFODNN7EXAMPLE",
    "slack": "xoxb-123456789012-abcdefghijkl",
    "slack-webhook": "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    "stripe": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "cargo": "cai_live_3f9a8b7c6d5e4f3a2b1c0d9e8f7a",
    "google": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "sendgrid": "SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_well_known_formats_are_masked_in_free_text(name: str) -> None:
    secret = SHAPES[name]
    text = f"please use {secret} for the import"
    assert mask_text(text) == f"please use {MASK} for the import"


def test_keyed_secrets_in_text_pem_and_url_passwords() -> None:
    assert mask_text("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == (
        f"aws_secret_access_key = {MASK}"
    )
    assert mask_text("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == f"{MASK} {MASK}"
    assert mask_text("Authorization: Bearer abc123def456ghi789") == f"Authorization: Bearer {MASK}"
    assert mask_text('{"client_secret": "Zyx987abcQ"}') == f'{{"client_secret": "{MASK}"}}'
    assert mask_text("X-Api-Key: hq83Jd92kd") == f"X-Api-Key: {MASK}"
    assert mask_text("password=hunter2") == f"password={MASK}"
    assert mask_text("postgres://bob:s3cret!@db.example.com/crm") == f"postgres://bob:{MASK}@db.example.com/crm"
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert mask_text(f"key:\n{pem}\nend") == f"key:\n{MASK}\nend"


@pytest.mark.parametrize(
    "text",
    [
        "Founders in France: 1,204 companies, see https://acme.com/about?ref=42",
        "segment 3a53ebe1-0bbf-4d74-b4db-9931e932a1d2 has tokensCount: 1234 and maxTokens=4096",
        "the password is required and the token expired",
        "write to bob@example.com, ask for the key account manager",
        "datasets_crm.models_companies WHERE domain = 'acme.com'",
        '{"tokenUuid":"3843249c-53a1-41ae-9fd2-7861bb274742","tokensUsedCount":"12k","apiKeyName":"ci-2024"}',
        "removed token 3843249c-53a1-41ae-9fd2-7861bb274742 from the workspace",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_known_values_are_masked_anywhere_and_learned_from_data() -> None:
    known = KnownSecrets()
    masker = Masker(known)
    assert known.learn({"token": {"uuid": "u1", "name": "ci", "token": "plainvalue-1234"}}) == [
        ("token.token", "plainvalue-1234")
    ]
    assert known.learn({"token": {"token": "plainvalue-1234"}}) == []  # already known
    headers = [{"name": "X-Api-Key", "value": "hdr-value-98765"}, {"name": "Accept", "value": "application/json"}]
    assert known.learn({"headers": headers}) == [("headers[0].value", "hdr-value-98765")]
    assert not known.add("short")  # 8 characters at least
    assert masker.text("echo plainvalue-1234 and hdr-value-98765!") == f"echo {MASK} and {MASK}!"
    assert masker.data({"note": ["plainvalue-1234"]}) == {"note": [MASK]}
    assert "plainvalue-1234" not in KNOWN  # a registry of its own, not the process's


def test_data_is_masked_by_key_pairs_connectors_and_shape() -> None:
    config = {
        "headers": {"X-Api-Key": "k-1", "Accept": "application/json"},
        "client_secret": "s-2",
        "access_token": "t-3",
        "botToken": "b-4",
        "api_token": "a-5",
        "maxTokens": 400,
        "password": 123456,
        "credentials": {"user": "bob", "port": 5432, "ssl": True},
        "token": {"uuid": "u1", "token": "t-6", "expiresIn": 3600},
        "pairs": [{"key": "Authorization", "value": "Basic x"}, {"key": "domain", "value": "acme.com"}],
        "note": "pasted sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t here",
        "empty": {"secret": None, "password": ""},
    }
    masked = Masker(KnownSecrets()).data({"nodes": [{"config": config}]})["nodes"][0]["config"]
    assert masked == {
        "headers": {"X-Api-Key": MASK, "Accept": "application/json"},
        "client_secret": MASK,
        "access_token": MASK,
        "botToken": MASK,
        "api_token": MASK,
        "maxTokens": 400,
        "password": MASK,
        "credentials": {"user": MASK, "port": MASK, "ssl": True},
        "token": {"uuid": "u1", "token": MASK, "expiresIn": 3600},
        "pairs": [{"key": "Authorization", "value": MASK}, {"key": "domain", "value": "acme.com"}],
        "note": f"pasted {MASK} here",
        "empty": {"secret": None, "password": ""},
    }
    connector = {"uuid": "c1", "integrationSlug": "hubspot", "config": {"portal": "eu-1", "port": 1, "on": True}}
    assert Masker(KnownSecrets()).data(connector)["config"] == {"portal": MASK, "port": MASK, "on": True}
    assert config["client_secret"] == "s-2"  # the original is untouched


def test_the_crash_log_formatter_masks_messages_and_tracebacks() -> None:
    KNOWN.add("opaque-canary-value-1")
    try:
        raise RuntimeError("failed with opaque-canary-value-1 and ghp_16C7e42F292c6912E7710c838347Ae178B4a")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom %s", ("opaque-canary-value-1",), None)
        import sys

        record.exc_info = sys.exc_info()
    text = MaskingFormatter().format(record)
    assert "opaque-canary-value-1" not in text and "ghp_" not in text
    assert text.startswith(f"boom {MASK}") and f"RuntimeError: failed with {MASK} and {MASK}" in text


def test_ordinary_text_takes_the_path_without_regexes() -> None:
    """Masking runs on everything that leaves the process: plain text must trigger no shape's regex."""
    from cargo_shell.secrets import shapes

    plain = "Founders in France are a segment of 1234 companies with domain acme.com"
    assert not {t for t in shapes._TRIGGERS if t in plain.lower()}
