"""The synthetic secret corpus of ``evals.secret_detection``: realistic fake credentials of 60
shapes in English and Chinese issue-like text, with the span of every secret.

    python -m evals.secret_corpus [--out tests/data/secrets_corpus.jsonl] [--seed 16]

Every value is drawn from a seeded random generator in the vendor's documented shape (prefix,
length, alphabet; JWTs and PEM bodies are well-formed base64): none belongs to a real account.
A record is ``{"id", "shape", "lang", "text", "secrets": [{"start", "end", "prefix"}]}``;
``prefix`` is the length of the public part of a secret (``ghp_``, ``sk_live_``, the webhook
host) that may stay visible. The file is committed; ``tests/test_redact.py`` checks that this
module still writes exactly it.
"""

# ruff: noqa: E501  (the shape table is data: one shape a line reads best)
from __future__ import annotations

import argparse
import base64
import json
import random
import string
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "data" / "secrets_corpus.jsonl"
SEED = 16

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
WORDS = ("orbit", "maple", "candle", "river", "quartz", "violet", "ember", "harbor", "nickel",
         "falcon", "cedar", "lumen", "tundra", "pepper", "sierra", "walnut")

# A value: (text, length of its public prefix). A generator returns named values.
Value = tuple[str, int]


class Draw:
    """Seeded random pieces of credentials."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rnd.choice(alphabet) for _ in range(n))

    def mixed(self, n: int, alphabet: str = ALNUM) -> str:
        """n characters with a digit, a lower and an upper case letter (those the alphabet has)."""
        kinds = [k for k in (str.isdigit, str.islower, str.isupper) if any(map(k, alphabet))]
        while True:
            s = self.chars(alphabet, n)
            if all(any(map(kind, s)) for kind in kinds):
                return s

    def password(self) -> str:
        return self.mixed(self.rnd.randint(12, 18), ALNUM + "!#%^*+=?@") + self.rnd.choice("!#%@")

    def human_password(self) -> str:
        return f"{self.rnd.choice(WORDS).capitalize()}{self.rnd.randint(1970, 2025)}{self.rnd.choice('!#%@')}"

    def passphrase(self) -> str:
        return " ".join(self.rnd.sample(WORDS, 4))

    def b64_of(self, data: bytes) -> str:
        return base64.b64encode(data).decode()

    def pem_body(self, lead: str, n_bytes: int) -> str:
        body = lead + self.b64_of(self.rnd.randbytes(n_bytes))
        return "\n".join(body[i:i + 64] for i in range(0, len(body), 64))

    def jwt(self) -> str:
        def part(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
        header = part({"alg": "HS256", "typ": "JWT"})
        payload = part({"sub": self.chars(HEX, 12), "name": self.rnd.choice(WORDS),
                        "iat": self.rnd.randint(1_600_000_000, 1_800_000_000)})
        return f"{header}.{payload}.{self.chars(B64URL, 43)}"


# ------------------------------------------------------------------------------ contexts

BARE_EN = (
    "I'm trying the sync again with {v} but it still returns 401 Unauthorized.",
    "Reproduction:\n```python\nclient = Client(\"{v}\")\nclient.sync()\n```\nIt fails on the "
    "second call.",
)
BARE_ZH = ("我用 {v} 调用接口一直返回 401，是哪里配置错了？",)
BARE = (*(("en", t) for t in BARE_EN), *(("zh", t) for t in BARE_ZH))


def ctx(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return pairs


# ------------------------------------------------------------------------------ shapes


def shapes(d: Draw) -> list[tuple[str, Callable[[], dict[str, Value]], Sequence[tuple[str, str]]]]:
    """(shape, generator of its named values, contexts as (language, template))."""
    c, m = d.chars, d.mixed
    pem = "-----BEGIN {kind}-----\n{v}\n-----END {kind}-----"
    return [
        ("github_classic_pat", lambda: {"v": ("ghp_" + m(36), 4)}, BARE),
        ("github_oauth_token", lambda: {"v": ("gho_" + m(36), 4)}, BARE),
        ("github_app_token", lambda: {"v": ("ghs_" + m(36), 4)}, BARE),
        ("github_fine_grained_pat",
         lambda: {"v": ("github_pat_11" + c("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20) + "_" + m(59), 11)},
         BARE),
        ("gitlab_pat", lambda: {"v": ("glpat-" + m(20, ALNUM + "-_"), 6)}, BARE),
        ("openai_legacy_key", lambda: {"v": ("sk-" + m(20) + "T3BlbkFJ" + m(20), 3)}, BARE),
        ("openai_project_key",
         lambda: {"v": ("sk-proj-" + m(74, ALNUM + "-_") + "T3BlbkFJ" + m(74, ALNUM + "-_"), 8)},
         BARE),
        ("anthropic_key", lambda: {"v": ("sk-ant-api03-" + m(93, ALNUM + "-_") + "AA", 13)}, BARE),
        ("aws_access_key_id", lambda: {"v": ("AKIA" + c(string.ascii_uppercase + "234567", 16), 4)},
         BARE),
        ("aws_secret_access_key", lambda: {"v": (m(40, B64), 0)}, ctx(
            ("en", "My ~/.aws/credentials:\n```ini\n[default]\naws_secret_access_key = {v}\n```"),
            ("zh", "凭证文件内容：\n```\naws_secret_access_key={v}\n```\n还是提示签名不匹配。"))),
        ("aws_key_pair_env", lambda: {"v": ("AKIA" + c(string.ascii_uppercase + "234567", 16), 4),
                                      "w": (m(40, B64), 0)}, ctx(
            ("en", "CI env:\n```\nAWS_ACCESS_KEY_ID={v}\nAWS_SECRET_ACCESS_KEY={w}\n```"),
            ("zh", "环境变量如下：\nexport AWS_ACCESS_KEY_ID={v}\nexport AWS_SECRET_ACCESS_KEY=\"{w}\""))),
        ("azure_storage_connection_string", lambda: {"v": (d.b64_of(d.rnd.randbytes(64)), 0)}, ctx(
            ("en", "Connection string: DefaultEndpointsProtocol=https;AccountName=kvlitebackup;"
                   "AccountKey={v};EndpointSuffix=core.windows.net"),
            ("zh", "我们的连接串是 `DefaultEndpointsProtocol=https;AccountName=kvdata;AccountKey={v};"
                   "EndpointSuffix=core.windows.net`，上传时报 403。"))),
        ("azure_sas_url", lambda: {"v": (c(ALNUM + "%", 44) + "%3D", 0)}, ctx(
            ("en", "Upload URL: https://kvdata.blob.core.windows.net/backups/db.tar?sv=2022-11-02"
                   "&ss=b&srt=o&sp=rwc&se=2026-01-01T00:00:00Z&sig={v}"),
            ("zh", "上传地址 https://kvdata.blob.core.windows.net/b/x?sv=2022-11-02&sp=r&sig={v} 打不开"))),
        ("azure_ad_client_secret",
         lambda: {"v": (c(ALNUM, 3) + str(d.rnd.randint(0, 9)) + "Q~" + m(34, ALNUM + "~._-"), 0)},
         BARE),
        ("gcp_api_key", lambda: {"v": ("AIza" + m(35, ALNUM + "-_"), 4)}, BARE),
        ("gcp_service_account_json", lambda: {"v": (d.pem_body("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 1190).replace("\n", "\\n"), 0)}, ctx(
            ("en", '```json\n{{\n  "type": "service_account",\n  "project_id": "kvlite-ci",\n'
                   '  "private_key_id": "3f9c2a",\n  "private_key": "-----BEGIN PRIVATE KEY-----\\n{v}'
                   '\\n-----END PRIVATE KEY-----\\n",\n  "client_email": "ci@kvlite-ci.iam.gserviceaccount.com"\n}}\n```'),
            ("zh", '服务账号文件：{{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----'
                   '\\n{v}\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@x.iam.gserviceaccount.com"}}'))),
        ("google_oauth_client_secret", lambda: {"v": ("GOCSPX-" + m(28, ALNUM + "-_"), 7)}, BARE),
        ("stripe_secret_live", lambda: {"v": ("sk_live_51" + m(97), 8)}, BARE),
        ("stripe_restricted_live", lambda: {"v": ("rk_live_51" + m(97), 8)}, BARE),
        ("slack_bot_token", lambda: {"v": (f"xoxb-{c(string.digits, 12)}-{c(string.digits, 13)}-{m(24)}", 5)}, BARE),
        ("slack_user_token", lambda: {"v": (f"xoxp-{c(string.digits, 12)}-{c(string.digits, 12)}-{c(string.digits, 13)}-{c(HEX, 32)}", 5)}, BARE),
        ("slack_webhook_url", lambda: {"v": (f"https://hooks.slack.com/services/T{c(string.ascii_uppercase + string.digits, 8)}/B{c(string.ascii_uppercase + string.digits, 10)}/{m(24)}", 33)}, ctx(
            ("en", "Notifications go to {v} and stopped after the upgrade."),
            ("zh", "通知地址是 {v} ，升级后就收不到了。"))),
        ("discord_webhook_url", lambda: {"v": (f"https://discord.com/api/webhooks/{c(string.digits, 18)}/{m(68, ALNUM + '-_')}", 33)}, ctx(
            ("en", "Our release bot posts to {v} and got rate limited."),
            ("zh", "发布机器人推送到 {v} 时被限流了。"))),
        ("discord_bot_token", lambda: {"v": ("M" + m(25, ALNUM + "_-") + "." + m(6, ALNUM + "_-") + "." + m(27, ALNUM + "_-"), 0)}, BARE),
        ("telegram_bot_token", lambda: {"v": (f"{c(string.digits, 10)}:AA{m(33, ALNUM + '_-')}", 0)}, BARE),
        ("npm_token", lambda: {"v": ("npm_" + m(36), 4)}, BARE),
        ("npmrc_auth_token", lambda: {"v": ("npm_" + m(36), 4)}, ctx(
            ("en", "My .npmrc:\n```\n//registry.npmjs.org/:_authToken={v}\n```"),
            ("zh", "`.npmrc` 里写的是 `//registry.npmjs.org/:_authToken={v}`"))),
        ("pypi_token", lambda: {"v": ("pypi-AgEIcHlwaS5vcmc" + m(160, ALNUM + "-_"), 5)}, BARE),
        ("huggingface_token", lambda: {"v": ("hf_" + m(34, string.ascii_letters), 3)}, BARE),
        ("twilio_api_key", lambda: {"v": ("SK" + c(HEX, 32), 2)}, BARE),
        ("twilio_auth_token", lambda: {"v": (c(HEX, 32), 0)}, ctx(
            ("en", "```\nTWILIO_ACCOUNT_SID=AC" + "0" * 32 + "\nTWILIO_AUTH_TOKEN={v}\n```"),
            ("zh", "Twilio 配置：auth_token: {v}"))),
        ("sendgrid_key", lambda: {"v": ("SG." + m(22, ALNUM + "-_") + "." + m(43, ALNUM + "-_"), 3)}, BARE),
        ("mailgun_key", lambda: {"v": ("key-" + c(HEX, 32), 4)}, BARE),
        ("mailchimp_key", lambda: {"v": (c(HEX, 32) + "-us" + str(d.rnd.randint(1, 20)), 0)}, BARE),
        ("jwt_bearer_header", lambda: {"v": (d.jwt(), 0)}, ctx(
            ("en", "curl -H \"Authorization: Bearer {v}\" http://localhost:9080/kv"),
            ("zh", "请求头带了 `Authorization: Bearer {v}` 还是 401"))),
        ("jwt_bare", lambda: {"v": (d.jwt(), 0)}, BARE),
        ("basic_auth_url", lambda: {"v": (d.password().replace("@", "%40").replace("#", "%23").replace("?", "%3F"), 0)}, ctx(
            ("en", "Proxy set to https://deploy:{v}@proxy.internal.example:3128 and pulls hang."),
            ("zh", "代理地址 https://deploy:{v}@proxy.internal.example:3128 配好之后拉取卡住"))),
        ("postgres_url", lambda: {"v": (m(16), 0)}, ctx(
            ("en", "DATABASE_URL=postgresql://kvlite:{v}@db.internal:5432/kvlite?sslmode=require"),
            ("zh", "数据库连接 `postgres://app:{v}@10.0.3.7:5432/app` 连不上"))),
        ("mongodb_srv_url", lambda: {"v": (m(14), 0)}, ctx(
            ("en", "uri: mongodb+srv://kvadmin:{v}@cluster0.ab1cd.mongodb.net/?retryWrites=true"),
            ("zh", "连接串 mongodb+srv://kvadmin:{v}@cluster0.ab1cd.mongodb.net/test 超时"))),
        ("redis_url_no_user", lambda: {"v": (m(20), 0)}, ctx(
            ("en", "REDIS_URL=redis://:{v}@cache.internal:6379/0"),
            ("zh", "缓存地址 redis://:{v}@cache:6379/0 认证失败"))),
        ("ado_connection_string", lambda: {"v": (d.password().replace(";", "!"), 0)}, ctx(
            ("en", "\"ConnectionStrings\": {{ \"Default\": \"Server=sql01;Database=kv;User Id=sa;Password={v};\" }}"),
            ("zh", "连接字符串：Server=sql01;Database=kv;User Id=sa;Pwd={v};Encrypt=true"))),
        ("pem_rsa_private_key", lambda: {"v": (d.pem_body("MIIEowIBAAKCAQEA", 1180), 0)}, ctx(
            ("en", "The deploy key:\n" + pem.replace("{kind}", "RSA PRIVATE KEY")),
            ("zh", "部署私钥如下：\n" + pem.replace("{kind}", "RSA PRIVATE KEY") + "\n换了也不行。"))),
        ("pem_ec_private_key", lambda: {"v": (d.pem_body("MHcCAQEEI", 112), 0)}, ctx(
            ("en", "cert.key:\n" + pem.replace("{kind}", "EC PRIVATE KEY")),
            ("zh", "证书私钥：\n" + pem.replace("{kind}", "EC PRIVATE KEY")))),
        ("pem_pkcs8_encrypted", lambda: {"v": (d.pem_body("MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq", 1240), 0)}, ctx(
            ("en", pem.replace("{kind}", "ENCRYPTED PRIVATE KEY")),
            ("zh", "加密的私钥：\n" + pem.replace("{kind}", "ENCRYPTED PRIVATE KEY")))),
        ("openssh_private_key", lambda: {"v": (d.pem_body("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB", 360), 0)}, ctx(
            ("en", "~/.ssh/id_ed25519:\n" + pem.replace("{kind}", "OPENSSH PRIVATE KEY")),
            ("zh", "我的 id_ed25519：\n" + pem.replace("{kind}", "OPENSSH PRIVATE KEY")))),
        ("pgp_private_key_block", lambda: {"v": ("Version: GnuPG v2\n\n" + d.pem_body("lQOYBG", 900) + "\n=" + d.chars(B64, 4), 0)}, ctx(
            ("en", "Signing key:\n-----BEGIN PGP PRIVATE KEY BLOCK-----\n{v}\n-----END PGP PRIVATE KEY BLOCK-----"),
            ("zh", "签名用的私钥：\n-----BEGIN PGP PRIVATE KEY BLOCK-----\n{v}\n-----END PGP PRIVATE KEY BLOCK-----"))),
        ("truncated_private_key", lambda: {"v": (d.pem_body("MIIEpAIBAAKCAQEA", 180), 0)}, ctx(
            ("en", "Key starts like this:\n-----BEGIN RSA PRIVATE KEY-----\n{v}\n(rest cut, it's long)"),
            ("zh", "私钥开头是这样的：\n-----BEGIN OPENSSH PRIVATE KEY-----\n{v}\n后面太长就省略了。"))),
        ("json_password", lambda: {"v": (d.password().replace('"', "!"), 0)}, ctx(
            ("en", "Request body: {{\"username\": \"ops\", \"password\": \"{v}\"}}"),
            ("zh", "请求体是 {{\"user\": \"ops\", \"password\": \"{v}\"}}，返回 500。"))),
        ("json_password_spaces", lambda: {"v": (d.passphrase(), 0)}, ctx(
            ("en", "```json\n{{\"db_password\": \"{v}\", \"db_host\": \"10.0.0.5\"}}\n```"),
            ("zh", "配置：{{\"admin_password\": \"{v}\"}}"))),
        ("yaml_password", lambda: {"v": (d.human_password(), 0)}, ctx(
            ("en", "```yaml\nstorage:\n  backend: s3\n  password: {v}\n  retries: 3\n```"),
            ("zh", "配置文件：\n```yaml\nredis:\n  host: cache\n  password: '{v}'\n```"))),
        ("env_file_secret", lambda: {"v": (m(32), 0)}, ctx(
            ("en", ".env:\n```\nAPP_ENV=prod\nSESSION_SECRET={v}\nLOG_LEVEL=debug\n```"),
            ("zh", "`.env` 文件：\nKV_API_KEY={v}\nKV_REGION=cn-north-1"))),
        ("cli_password_flag", lambda: {"v": (d.password(), 0)}, ctx(
            ("en", "I run `kvlite restore --user admin --password '{v}' backup.tar` and it hangs."),
            ("zh", "执行 kvlite login --password={v} 之后报错"))),
        ("cli_token_flag", lambda: {"v": (m(40), 0)}, ctx(
            ("en", "$ kvlite push --token {v} --remote origin"),
            ("zh", "运行 `kvlite push --api-key {v}` 提示无权限"))),
        ("docker_login_p", lambda: {"v": (d.password().replace("'", "!"), 0)}, ctx(
            ("en", "```\ndocker login -u ci-bot -p {v} registry.example.com\n```"),
            ("zh", "docker login registry.cn-hangzhou.aliyuncs.com -u kv -p '{v}' 登录失败"))),
        ("mysql_p_attached", lambda: {"v": (m(14), 0)}, ctx(
            ("en", "mysql -h db -u root -p{v} kvlite < dump.sql"),
            ("zh", "用 mysql -uroot -p{v} 连接时报 1045"))),
        ("curl_user_pass", lambda: {"v": (d.password().replace("'", "!"), 0)}, ctx(
            ("en", "curl -u admin:{v} http://localhost:9180/metrics"),
            ("zh", "执行 `curl --user ops:'{v}' https://kv.example/api` 返回 401"))),
        ("authorization_json", lambda: {"v": (m(40), 0)}, ctx(
            ("en", "headers = {{\"Authorization\": \"Bearer {v}\", \"Accept\": \"application/json\"}}"),
            ("zh", "我传的 headers 是 {{\"Authorization\": \"Token {v}\"}}"))),
        ("authorization_basic", lambda: {"v": (d.b64_of(f"ops:{d.password()}".encode()), 0)}, ctx(
            ("en", "> GET /v1/kv HTTP/1.1\n> Authorization: Basic {v}\n< HTTP/1.1 403 Forbidden"),
            ("zh", "抓包看到 Authorization: Basic {v}"))),
        ("api_key_header", lambda: {"v": (m(32), 0)}, ctx(
            ("en", "curl -H 'X-API-Key: {v}' https://kv.example/v1/keys"),
            ("zh", "请求头 x-api-key: {v} 被网关拒绝"))),
        ("url_key_param", lambda: {"v": (m(32, ALNUM + "-_"), 0)}, ctx(
            ("en", "Fetching https://api.kv.example/v1/stats?key={v}&format=json returns 500"),
            ("zh", "访问 https://api.kv.example/v1/stats?format=json&key={v} 返回 500"))),
        ("url_access_token_param", lambda: {"v": (m(40, ALNUM + "-_."), 0)}, ctx(
            ("en", "Redirected to https://kv.example/callback#state=abc&access_token={v}&expires_in=3600"),
            ("zh", "回调地址是 https://kv.example/cb?access_token={v}&state=1"))),
        ("xml_password", lambda: {"v": (d.password().replace("<", "!").replace("&", "!"), 0)}, ctx(
            ("en", "settings.xml:\n```xml\n<server>\n  <id>releases</id>\n  <username>ci</username>\n  <password>{v}</password>\n</server>\n```"),
            ("zh", "maven 配置里 <password>{v}</password> 写的是这个"))),
        ("prose_password", lambda: {"v": (d.human_password(), 0)}, ctx(
            ("en", "The admin password is {v} and login still fails."),
            ("zh", "我的密码是 {v}，登录还是失败。"))),
        ("prose_token_zh", lambda: {"v": (m(36), 0)}, ctx(
            ("zh", "令牌：{v}，请帮忙看下为什么过期了"),
            ("zh", "我的 token 是 {v} 但是调用失败"))),
        ("vault_token_bare", lambda: {"v": ("hvs." + m(24, ALNUM + "_-"), 4)}, BARE),
        ("shopify_token_bare", lambda: {"v": ("shpat_" + c(HEX, 32), 6)}, BARE),
    ]


def build(seed: int = SEED) -> list[dict[str, object]]:
    """Every record of the corpus (deterministic for a seed)."""
    d = Draw(seed)
    records: list[dict[str, object]] = []
    for shape, draw, contexts in shapes(d):
        for n, (lang, template) in enumerate(contexts):
            values = draw()
            text, secrets = _fill(template, values)
            records.append({"id": f"{shape}-{n}", "shape": shape, "lang": lang, "text": text,
                            "secrets": secrets})
    return records


def _fill(template: str, values: dict[str, Value]) -> tuple[str, list[dict[str, int]]]:
    """The template with its ``{name}`` fields filled, and the span of each value."""
    text, secrets = "", []
    literal = template.replace("{{", "\0").replace("}}", "\1")
    while literal:
        head, brace, rest = literal.partition("{")
        text += head.replace("\0", "{").replace("\1", "}")
        if not brace:
            break
        name, _, literal = rest.partition("}")
        value, prefix = values[name]
        secrets.append({"start": len(text), "end": len(text) + len(value), "prefix": prefix})
        text += value
    return text, secrets


def write(path: Path, seed: int = SEED) -> int:
    records = build(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.secret_corpus",
                                     description=__doc__.strip().split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    n = write(args.out, args.seed)
    print(f"wrote {n} records to {args.out}")


if __name__ == "__main__":
    main()
