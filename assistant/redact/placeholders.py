"""Which keyword-assigned values are placeholders a reader needs, not secrets to hide.

Docs and code samples say ``password: your_password``, ``token: ${TOKEN}``,
``apikey: john-key`` or ``"private_key": "-----BEGIN ...\\n...\\n"``; redacting those makes
samples unreadable and protects nothing. A value is kept when it is

- a variable, template or reference: ``$X``, ``${X}``, ``{{ x }}``, ``<x>``, ``%X%``,
  ``os.environ[...]``, ``config.password``, a call ``get_token()``, a type (``SecretStr``);
- masked or elided: ``****``, ``xxxx``, ``...``, one repeated character;
- a well-known dummy (``changeme``, ``p@ssw0rd``, ``123456``, ``true``, ``string``...) or the
  key's own name (``"private_key": "private_key"``);
- self-describing: lower-case words joined by ``-``/``_``/space of which one names its role
  (``john-key``, ``quickstart-user-pass``, ``your-aws-secret-access-key``,
  ``jack-hs256-secret-that-is-very-long``), lower-case letters only holding such a word
  (``mytoken``, ``adminpassword``), or holding a placeholder word (``example``...);
- shorter than four characters.

Anything else assigned to a secret-named key is redacted, random-looking or not: a real
password can be a passphrase (``correct horse battery staple``). Published defaults such as
APISIX's old ``admin_key`` are redacted too: their shape cannot be told from a real key's.
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_LENGTH = 4

DUMMIES = frozenset({
    "password", "passwd", "pass", "pwd", "secret", "token", "key", "apikey", "api_key", "admin",
    "root", "test", "guest", "user", "username", "foo", "bar", "baz", "qux", "none", "null", "nil",
    "undefined", "true", "false", "yes", "no", "on", "off", "string", "str", "int", "bytes",
    "required", "optional", "empty", "default", "demo", "value", "changeme", "change_me",
    "change-me", "changeit", "letmein", "qwerty", "123456", "1234567", "12345678", "123456789",
    "1234567890", "password1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "pa55word",
    "pa$$word", "admin123", "abc123", "abcdef", "secret123", "toor"
})

# Whole words that make a word-joined value describe itself as a sample.
ROLE_WORDS = frozenset({
    "key", "keys", "secret", "secrets", "pass", "password", "passwd", "pwd", "token", "tokens",
    "user", "admin", "demo", "test", "testing", "example", "sample", "consumer", "client", "your",
    "auth", "cred", "creds", "credential", "credentials", "session", "api", "access", "private",
    "placeholder", "dummy", "fake", "mock"
})

PLACEHOLDER_WORDS = ("your", "example", "sample", "placeholder", "changeme", "change_me",
                     "change-me", "change_to", "replace", "dummy", "redacted", "xxxx", "****",
                     "...", "…", "<", ">", "${", "{{", "}}")

_VARIABLE = re.compile(r"""^(?:\$|%[A-Za-z_]|@[A-Za-z_]|&[A-Za-z_]|\[.*\]$|\(.*\)$|\{.*\}$|\*)""")
_REFERENCE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$|^[A-Za-z_][\w.]*\s*[(\[]")
_TYPE_NAME = re.compile(r"^(?:[A-Z][a-z]+){2,}$")
_WORDS = re.compile(r"[a-z0-9]+(?:[-_ ][a-z0-9]+)+")
_DIGITS = re.compile(r"\d+")
# A value of lower-case letters only that says what it is: "mytoken", "newkey", "adminpassword".
_NAMED = re.compile(r"[a-z]*(?:key|secret|pass|pwd|token)[a-z]*")


def _self_describing(value: str) -> bool:
    if _NAMED.fullmatch(value):
        return True
    if not _WORDS.fullmatch(value):
        return False
    words = {_DIGITS.sub("", w) for w in re.split(r"[-_ ]", value)}
    return bool(words & ROLE_WORDS)


@lru_cache(maxsize=8192)
def is_placeholder(value: str, key: str = "", *, code: bool = True) -> bool:
    """Whether ``value`` (assigned to ``key``) is a placeholder to keep rather than a secret;
    ``code``: a dotted name or a call counts as a reference (not after ``Bearer``)."""
    value = value.strip().strip("'\"`").strip()
    if len(value) < MIN_LENGTH or "[REDACTED]" in value:
        return True
    lowered = value.lower()
    if lowered in DUMMIES or (key and lowered in {key.lower(), key.lower().strip("_-")}):
        return True
    if ":" in value and all(is_placeholder(part) for part in value.split(":")):
        return True  # "test:test", "user:password"
    if len(set(lowered)) <= 2 or any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    if _VARIABLE.match(value) or (code and (_REFERENCE.match(value) or _TYPE_NAME.match(value))):
        return True
    return _self_describing(value)


def looks_secret(value: str) -> bool:
    """Whether a value named only loosely ("the password is X", ``"auth": X``) looks like a
    credential: not a placeholder, eight characters or more, of two kinds or more among lower
    case, upper case, digits and symbols."""
    if len(value) < 8 or is_placeholder(value):
        return False
    kinds = (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum() and c not in "-_.")
    return sum(any(kind(c) for c in value) for kind in kinds) >= 2
