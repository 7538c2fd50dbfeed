"""Secret redaction (issue 16): token shapes from detect-secrets and the ones it lacks, keyword
forms, private keys, readable placeholders, CJK text, odd and huge input."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from assistant.redact import REDACTED, keywords, redact, tokens
from evals import secret_corpus
from evals.harness.corpora import read_jsonl

# Synthetic values in each vendor's shape (no real account's).
PEM_BODY = "MIIEowIBAAKCAQEAv3fQ9kXz0Lr7YbC2nW8sPq4TgH1mJ6uKdE5aRyN0oZtVxS\nc8Ws2Lq9XnB4vKt7Rz1MfH6pJd3GgYe0UaQiCl5NbT8oPrVx2EyZkD7sWm4Ahu"
ISSUE_SHAPES = {
    "json password": ('{"username": "ops", "password": "Qx7!vR2#mT9p"}', "Qx7!vR2#mT9p"),
    "value with spaces": ('db_password = "correct horse battery staple"',
                          "correct horse battery staple"),
    "--password X": ("kvlite restore --user admin --password Zk3u9QwLp0Vb backup.tar",
                     "Zk3u9QwLp0Vb"),
    "--token=X": ("kvlite push --token=f3K9sLq2Zx7Vb1Nw8Rt4", "f3K9sLq2Zx7Vb1Nw8Rt4"),
    "curl -u user:pass": ("curl -u admin:S3cr3t-Pw9x http://localhost:9180/metrics",
                          "S3cr3t-Pw9x"),
    "docker login -p": ("docker login -u ci-bot -p Hq8vN2kLx5Wz registry.example.com",
                        "Hq8vN2kLx5Wz"),
    "Authorization Bearer in JSON": (
        'headers = {"Authorization": "Bearer 9fKx2LqV7sZb0NwR4tYm8PcD", "Accept": "text/plain"}',
        "9fKx2LqV7sZb0NwR4tYm8PcD"),
    "PGP private key": ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n"
                        "lQOYBGX3mQkBCAC7vQ2kLx9sZb0NwR4tYm8PcDq5Hj1uFg6eWa3ToMiKy2Ns\n=Xk3p\n"
                        "-----END PGP PRIVATE KEY BLOCK-----", "lQOYBGX3mQkBCAC7vQ2kLx9sZb0N"),
    "truncated private key": (f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n(rest cut)",
                              "Ws2Lq9XnB4vKt7Rz1MfH6pJd3G"),
    "Stripe sk_live": ("key sk_live_51" + "Hx9Lq2Vb7Zk3Nw8Rt4Ym0PcDs6Fj1Gu5Ea" * 2, "Vb7Zk3Nw8Rt4"),
    "Stripe rk_live": ("rk_live_51Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5", "Qx7vR2mT9pKs3Lw8"),
    "Google API key": ("maps: AIzaSyB3kLq9Zx7Vb1Nw8Rt4Ym0PcDs6Fj1Gu5E", "SyB3kLq9Zx7Vb1Nw8Rt4"),
    "npm token": ("use npm_Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5Ea2Bq please", "Qx7vR2mT9pKs3Lw8"),
    "PyPI token": ("pypi-AgEIcHlwaS5vcmc" + "CJDk3Lq9Zx7Vb1Nw8Rt4Ym0PcDs6Fj1Gu5E" * 3,
                   "CJDk3Lq9Zx7Vb1Nw"),
    "Hugging Face token": ("HF hf_QxvRmTpKsLwZbNcYdFhGjEaBcDeFgHiJkL", "QxvRmTpKsLwZbNcYd"),
    "Azure storage key": ("DefaultEndpointsProtocol=https;AccountName=kv;AccountKey="
                          + "k3Lq9Zx7Vb1Nw8Rt4Ym0PcDs6Fj1Gu5EaB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2w"
                            "X3yZ4aB5cD6eF7gH8iJ9kL0m==;EndpointSuffix=core.windows.net",
                          "k3Lq9Zx7Vb1Nw8Rt4"),
    "Azure AD client secret": ("client secret abc8Q~Zx7Vb1Nw8Rt4Ym0PcDs6Fj1Gu5EaB2cD3e",
                               "Zx7Vb1Nw8Rt4Ym0P"),
    "Slack webhook": ("https://hooks.slack.com/services/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",
                      "Qx7vR2mT9pKs3Lw8"),
    "Discord webhook": ("https://discord.com/api/webhooks/123456789012345678/"
                        "Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5Ea2-_Bq", "Qx7vR2mT9pKs3Lw8"),
    "?key= in URL": ("GET https://api.example.org/v1/stats?format=json&key=Qx7vR2mT9pKs3Lw8Zb1N",
                     "Qx7vR2mT9pKs3Lw8"),
    "access_token= in URL": ("https://kv.example/cb?state=1&access_token=Zb1Nc4Yd6Fh0Gj5Ea2Qx",
                             "Zb1Nc4Yd6Fh0Gj5E"),
    "GitHub classic token": ("try ghp_Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5Ea2Bq", "Qx7vR2mT9pKs3Lw8"),
    "GitHub fine-grained": ("github_pat_11ABCDEFG0123456789_Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5Ea2Bq",
                            "Qx7vR2mT9pKs3Lw8"),
    "redis URL, no user": ("REDIS_URL=redis://:Qx7vR2mT9pKs3Lw8@cache:6379/0", "Qx7vR2mT9pKs3Lw8"),
}


@pytest.mark.parametrize("text, secret", ISSUE_SHAPES.values(), ids=ISSUE_SHAPES.keys())
def test_every_shape_of_the_issue_is_redacted(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and REDACTED in out


# The corpus's two control shapes: vendors neither detect-secrets nor the supplement know;
# they are caught only when a keyword names them.
UNKNOWN_SHAPES = {"vault_token_bare", "shopify_token_bare"}
CORPUS = [r for r in read_jsonl(secret_corpus.DEFAULT_OUT) if r["shape"] not in UNKNOWN_SHAPES]


@pytest.mark.parametrize("record", CORPUS, ids=[r["id"] for r in CORPUS])
def test_the_corpus_secrets_are_gone(record: dict) -> None:
    out = redact(record["text"])
    for s in record["secrets"]:
        secret = record["text"][s["start"] + s["prefix"]:s["end"]]
        k = min(8, len(secret))
        assert not any(secret[i:i + k] in out for i in range(len(secret) - k + 1)), out


def test_the_corpus_file_is_what_the_generator_writes() -> None:
    assert read_jsonl(secret_corpus.DEFAULT_OUT) == secret_corpus.build()
    assert len({r["shape"] for r in read_jsonl(secret_corpus.DEFAULT_OUT)}) >= 40


DOCS_SAMPLE = """\
```yaml
deployment:
  admin:
    admin_key:
      - name: admin
        key: ${ADMIN_KEY}
redis:
  password: your_password
  redis_password: "p@ssw0rd"
model:
  max_tokens: 1024
  token_uri: https://oauth2.googleapis.com/token
  hide_credentials: true
  secret_name: kv-tls
```

```shell
curl http://127.0.0.1:9180/apisix/admin/consumers -H "X-API-KEY: $admin_key" -X PUT -d '
{
  "username": "jack",
  "plugins": {"key-auth": {"key": "jack-key"}, "basic-auth": {"password": "john-key"}},
  "private_key": "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n",
  "client_secret": "'"$OIDC_CLIENT_SECRET"'",
  "secret": "{{ .Values.secret }}",
  "session_token": "token"
}'
curl -H 'apikey: jack-key' -H "Authorization: Bearer <your-token>" http://127.0.0.1:9080/ip
curl -u user:password http://127.0.0.1:9080/ip
export OPENAI_API_KEY=<your-api-key>
docker run -p 9080:9080 -e APISIX_PASSWORD=${PASSWORD} apache/apisix
psql postgresql://user:password@localhost:5432/apisix
```
Set `password` to the consumer's password; the token is valid for 3600 seconds. `Authorization: Bearer` is sent.
配置 `password` 为你的密码，密钥为 Base64 编码时设置 `is_base64_encoded`。
"""


def test_placeholders_in_docs_code_samples_stay_readable() -> None:
    assert redact(DOCS_SAMPLE) == DOCS_SAMPLE


def test_cjk_text_around_secrets_survives() -> None:
    text = ("我的密码是 Xk9mP2vLq8，请保密。\n令牌：ghp_Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5Ea2Bq 谢谢！\n"
            "我的token是sk-proj-Qx7vR2mT9pKs3Lw8Zb1Nc4Yd6Fh0Gj5E，为什么 401？")
    assert redact(text) == (f"我的密码是 {REDACTED}，请保密。\n令牌：{REDACTED} 谢谢！\n"
                            f"我的token是{REDACTED}，为什么 401？")


def test_a_lower_case_that_changes_length_does_not_shift_the_redaction() -> None:
    text = "İstanbul ekibi: password: Zk3u9QwLp0Vb (İ)"
    assert redact(text) == f"İstanbul ekibi: password: {REDACTED} (İ)"


def test_redaction_is_idempotent_and_keeps_the_key_names() -> None:
    text = "DB_PASSWORD=Zk3u9QwLp0Vb\nAuthorization: Bearer 9fKx2LqV7sZb0NwR4tYm8PcD"
    once = redact(text)
    assert once == f"DB_PASSWORD={REDACTED}\nAuthorization: Bearer {REDACTED}"
    assert redact(once) == once


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_raise(seed: int) -> None:
    rnd = random.Random(seed)
    data = rnd.randbytes(rnd.randint(0, 20_000))
    # a few credential-looking words among the noise, so every rule gets to run
    words = [b"password=", b"token: ", b"-----BEGIN RSA PRIVATE KEY-----\n", b"://u:", b"@",
             b"curl -u a:", b"Authorization: Bearer ", b"\xe5\xaf\x86\xe7\xa0\x81\xe6\x98\xaf"]
    for word in rnd.choices(words, k=30):
        at = rnd.randint(0, len(data))
        data = data[:at] + word + data[at:]
    text = data.decode("utf-8", errors="replace")
    out = redact(text)
    assert isinstance(out, str) and redact(out) == out


LONG_LINES = {
    "minified JSON": '{"token":"abc","key":"v","password":"x1","url":"https://a:b@c/?key=1"}' * 60_000,
    "base64 blob": "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" * 130_000,
    "words": "password token secret key auth curl -u login " * 90_000,
    "separators": "://a:" * 800_000,
}


@pytest.mark.parametrize("line", LONG_LINES.values(), ids=LONG_LINES.keys())
def test_a_4mb_line_is_linear(line: str) -> None:
    assert len(line) >= 4_000_000 and "\n" not in line
    start = time.process_time()  # CPU time: the machine may be shared
    redact(line)
    assert time.process_time() - start < 2.0


def test_the_plugin_hints_are_literals_of_the_plugins_patterns() -> None:
    for plugin, hints in tokens.PLUGINS.items():
        source = " ".join(p.pattern for p in plugin.denylist).lower().replace("\\", "")
        for hint in hints or ():
            assert hint in source, (plugin.__name__, hint)


def test_the_keyword_gate_covers_every_rule_word() -> None:
    words = [*keywords.SECRET_WORDS, *keywords.WEAK_WORDS, *keywords.COMMANDS,
             *keywords.ZH_WORDS, *(f"{q}key" for q in keywords.KEY_QUALIFIERS), "authorization"]
    for word in words:
        assert keywords.HINTS.search(word.lower()), word


def test_verification_never_runs() -> None:
    # analyze_line may call a vendor's API with the candidate; only analyze_string and the
    # plugins' regexes are used.
    source = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (tokens, keywords))
    assert not re.search(r"\banalyze_line\(|\bverify\(|scan_line", source)
