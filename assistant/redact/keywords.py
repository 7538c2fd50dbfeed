"""Secrets named by what holds them rather than by their shape.

- assignments: ``password: x``, ``"password": "two words"``, ``DB_PASSWORD=x``, ``AccountKey=x;``,
  ``"Authorization": "Bearer x"``, ``-H 'X-API-Key: x'``, ``<password>x</password>``;
- URL parameters: ``?key=``, ``&token=``, ``access_token=``, ``sig=``;
- command lines: ``--password x``, ``--token=x``, ``docker login -p x``, ``mysql -px``,
  ``redis-cli -a x``, ``curl -u user:x``;
- prose: "the password is x", "我的密码是 x", "令牌：x".

A key counts when its last word names a secret (``client_secret``, ``X-API-KEY``,
``access_key_secret``, not ``max_tokens``, ``token_uri`` or ``secret_name``); its value is kept
when it is a placeholder (``placeholders.py``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from functools import lru_cache

from .placeholders import is_placeholder, looks_secret

Span = tuple[int, int]

# Last words of a key that name a secret, and the words before a final "key" that do.
SECRET_WORDS = frozenset({
    "password", "passwd", "passphrase", "pwd", "pw", "pass", "secret", "token", "apikey",
    "secretkey", "accesskey", "privatekey", "authtoken", "signature"
})
KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "admin", "auth", "account", "master", "signing",
    "encryption", "client", "app", "service", "sas", "ssh", "deploy", "webhook", "subscription",
    "consumer", "shared", "license"
})
# Keys whose value is a secret only when it looks like one (``"auth": true`` is a switch).
WEAK_WORDS = frozenset({"auth", "credential", "credentials", "cookie"})
# URL parameters that hold credentials under a name that says nothing elsewhere.
QUERY_KEYS = frozenset({"key", "sig"})
SCHEMES = ("bearer", "basic", "token", "digest", "bot", "apikey", "sso-key")
ZH_WORDS = ("密码", "口令", "密钥", "秘钥", "令牌", "私钥", "凭证", "凭据")
COMMANDS = ("login", "sshpass", "mysql", "redis-cli", "curl")
# What a lower-cased line must hold for any rule below to match: every secret word, qualifier
# + "key", command and Chinese word above holds one of these (tests check it). Few literals
# keep the gate fast; "key" lets through more lines than needed.
GATE_LITERALS = ("pass", "pwd", "pw", "secret", "token", "key", "auth", "cred", "cookie", "sig",
                 "login", "curl", "redis-cli", "mysql", *ZH_WORDS)
_FIRST_LETTERS = "".join(sorted({w[0] for w in GATE_LITERALS}))
HINTS = re.compile(f"(?=[{_FIRST_LETTERS}])(?:{'|'.join(map(re.escape, GATE_LITERALS))})")
_WORD_SPLIT = re.compile(r"[_.\-\s:]+|(?<=[a-z0-9])(?=[A-Z])")
_CJK = r"\u3000-\u303f\uff00-\uffef\u4e00-\u9fff"
# Values shorter than placeholders.MIN_LENGTH are never secrets: the regexes skip them.
_BARE = rf"[^\s'\"`,;&<>()\[\]{_CJK}]{{4,1024}}"
_VALUE = rf"""(?P<value>"[^"\n]{{4,4096}}"|'[^'\n]{{4,4096}}'|`[^`\n]{{4,512}}`|{_BARE})"""
_SCHEME = r"(?P<scheme>(?i:bearer|basic|token|digest|bot|apikey|sso-key)[ \t]+)?"

# Matched only from the start of a key that _KEY_END finds: matching at every word would cost
# more than all the other rules together on dense JSON.
_ASSIGNMENT = re.compile(
    r"""(?<![A-Za-z0-9_.$-])(?P<q>["']?)(?P<key>[A-Za-z_][A-Za-z0-9_.-]{0,60})(?P=q)"""
    rf"[ \t]*(?::=|=>|=|:(?!//)|：)[ \t]*{_SCHEME}{_VALUE}")
# In the lower-cased text: a key's last word, then a separator and four value characters.
_KEY_END = re.compile(r"(?:pass(?:word|wd|phrase)?|pwd|pw|secret|token|key|auth|credentials?|cookie"
                      r"|signature)[\"']?[ \t]*(?::=|=>|=|:(?!//)|：)[ \t]*(?=[\"'`]?[^\s\"'`]{4})")
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
MAX_KEY = 60
# Authorization headers: any scheme word ("Bearer", "Splunk", "ldap"), then the credential.
_AUTHORIZATION = re.compile(
    r"""(?<![\w-])(?P<q>["']?)(?P<key>(?i:(?:proxy-)?authorization))(?P=q)[ \t]*[:=][ \t]*"""
    r"""(?P<oq>["']?)(?:(?P<scheme>[A-Za-z][A-Za-z0-9-]{0,20})[ \t]+)?"""
    r"""(?P<value>[^\s"'`,;]{1,4096})""")
_PARAMETERS = re.compile(r"[A-Za-z][\w-]*=")
_XML = re.compile(r"<(?P<key>[A-Za-z_][\w:.-]{0,40})>(?P<value>[^<\n]{1,1024})</(?P=key)>")
_QUERY = re.compile(r"[?&;](?P<key>[A-Za-z0-9_.-]{1,40})=(?P<value>[^&#\s'\"<>`]{1,2048})")
_FLAG = re.compile(rf"(?<!\S)--(?P<key>[A-Za-z][A-Za-z0-9-]{{1,40}})(?:=|[ \t]+){_VALUE}")
# Command-line flags that take a password only after some commands: the flag is matched, then
# the command looked for earlier on the line (a lazy scan from the command would be quadratic).
_COMMAND_FLAGS = [(literal, re.compile(flag), re.compile(command))
                  for literal, flag, command in (
    ("login", rf"(?<!\S)-p(?:[ \t]+|=)?{_VALUE}", r"\b(?:login|sshpass)\b"),
    ("sshpass", rf"(?<!\S)-p(?:[ \t]+|=)?{_VALUE}", r"\bsshpass\b"),
    ("mysql", r"(?<!\S)-p(?P<value>[^\s'\"`]{4,256})", r"\bmysql(?:dump|admin)?\b"),
    ("redis-cli", rf"(?<!\S)-a[ \t]+{_VALUE}", r"\bredis-cli\b"),
    ("curl", r"(?<!\S)(?:-u|--user|-U|--proxy-user)(?:[ \t]+|=)[\"']?[^\s:'\"`]{1,256}:[\"']?"
             r"(?P<value>[^\s'\"`]{4,1024})", r"\bcurl\b"),
)]
COMMAND_REACH = 2000

# Matched in the lower-cased text (a case-insensitive pattern is several times slower).
_PROSE_EN = re.compile(
    r"\b(?:password|passphrase|passwd|pwd|token|api[ _-]?key|secret(?:[ _-]key)?"
    rf"|access[ _-]key)[ \t]+(?:is|was|is set to)[ \t]+{_VALUE}")
_PROSE_ZH = re.compile(
    r"(?:密码|口令|密钥|秘钥|令牌|私钥|凭证|凭据|(?i:token|api[ _-]?key|password))"
    rf"[ \t]*(?P<sep>是|为|：|:|=)[ \t]*[:：]?[ \t]*{_VALUE}")


@lru_cache(maxsize=4096)
def key_words(key: str) -> tuple[str, ...]:
    """A key's words in lower case: ``X-API-KEY`` -> x, api, key; ``AccountKey`` -> account, key."""
    return tuple(w.lower() for w in _WORD_SPLIT.split(key) if w)


@lru_cache(maxsize=4096)
def secret_key(key: str) -> str | None:
    """"strong" if ``key`` names a secret, "weak" if it may hold one, else None."""
    words = key_words(key)
    if not words:
        return None
    last = words[-1]
    if last in SECRET_WORDS or (last == "key" and len(words) > 1 and words[-2] in KEY_QUALIFIERS):
        return "strong"
    return "weak" if last in WEAK_WORDS else None


Found = tuple[str, str | None, int, int, bool]  # key, strength, value span, after a scheme


def _value_span(segment: str, found: Found) -> Span | None:
    """The span of the secret in a found value, or None to keep it."""
    key, strength, start, end, scheme = found
    if strength is None:
        return None
    value = segment[start:end]
    if value[:1] in "\"'`" and value[-1:] == value[:1]:
        start, end, value = start + 1, end - 1, value[1:-1]
    elif not value.endswith(("...", "…")):  # elided samples stay whole, to be kept
        trimmed = value.rstrip(".,!?:")
        if trimmed.endswith("}") and "{" not in trimmed:  # "{'token': token}"
            trimmed = trimmed.rstrip("}")
        end, value = end - (len(value) - len(trimmed)), trimmed
    words = value.split(" ", 1)
    if len(words) == 2 and words[0].lower() in SCHEMES:
        start, value, scheme = start + len(words[0]) + 1, words[1].lstrip(), True
    last = key_words(key)[-1:]
    if _PARAMETERS.match(value) and last != ("cookie",):
        return None  # "Signature keyId=...,signature=...": each parameter is matched apart
    if last == ("cookie",) and "=" in value:
        cut = value.index("=") + 1
        start, value = start + cut, value[cut:]
    if last == ("authorization",) and not scheme and value.isalpha():
        return None  # a scheme word alone: "Authorization: Bearer", "`Authorization: Signature`"
    if is_placeholder(value, key, code=not scheme):
        return None
    if strength == "weak" and not looks_secret(value):
        return None
    return start, end


def _found(m: re.Match[str], key: str, strength: str | None) -> Found:
    return key, strength, *m.span("value"), bool(m.groupdict().get("scheme"))


def _assignments(segment: str, lowered: str) -> Iterator[Found]:
    """Assignments whose key ends in a secret word, matched from the start of that key."""
    tried: set[int] = set()
    for end in _KEY_END.finditer(lowered):
        start = end.start()
        floor = max(0, start - MAX_KEY)
        while start > floor and segment[start - 1] in _KEY_CHARS:
            start -= 1
        if start in tried:
            continue
        tried.add(start)
        quoted = start > 0 and segment[start - 1] in "\"'"
        m = (quoted and _ASSIGNMENT.match(segment, start - 1)) or _ASSIGNMENT.match(segment, start)
        if m and key_words(m.group("key"))[-1:] != ("authorization",):
            yield _found(m, m.group("key"), secret_key(m.group("key")))


def _matches(segment: str, lowered: str) -> Iterator[Found]:
    yield from _assignments(segment, lowered)
    if "authorization" in lowered:
        for m in _AUTHORIZATION.finditer(segment):
            yield _found(m, m.group("key"), "strong")
    if "</" in segment:
        for m in _XML.finditer(segment):
            yield _found(m, m.group("key"), secret_key(m.group("key")))
    if "=" in segment:
        for m in _QUERY.finditer(segment):
            key = m.group("key")
            yield _found(m, key, "strong" if key.lower() in QUERY_KEYS else secret_key(key))
    if "--" in segment:
        for m in _FLAG.finditer(segment):
            if not m.group("value").startswith("-"):
                yield _found(m, m.group("key"), secret_key(m.group("key")))
    for literal, flag, command in _COMMAND_FLAGS:
        if literal not in lowered:
            continue
        for m in flag.finditer(segment):
            line_start = segment.rfind("\n", 0, m.start()) + 1
            if not m.group("value").startswith("-") and command.search(
                    segment, max(line_start, m.start() - COMMAND_REACH), m.start()):
                yield _found(m, "", "strong")
    if " is " in lowered or " was " in lowered:
        for m in _PROSE_EN.finditer(lowered):
            yield _found(m, "", "weak")
    if any(word in segment for word in ZH_WORDS) or any(sep in segment for sep in "是为："):
        for m in _PROSE_ZH.finditer(segment):
            yield _found(m, "", "weak" if m.group("sep") in "是为" else "strong")


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def keyword_spans(segment: str) -> list[Span]:
    """Spans of keyword-named secret values in one line (or window of a long line)."""
    lowered = segment.lower()
    if len(lowered) != len(segment):  # "İ" lower-cases to two characters
        lowered = segment.translate(_ASCII_LOWER)
    spans = []
    for found in _matches(segment, lowered):
        span = _value_span(segment, found)
        if span is not None and span[1] > span[0]:
            spans.append(span)
    return spans
