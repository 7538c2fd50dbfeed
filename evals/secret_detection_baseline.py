"""The hand-written redaction before issue 16 (commit 2f7fcdd), kept verbatim as the baseline of
``evals.secret_detection``; the product no longer uses it."""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
]
_ASSIGNMENT = re.compile(
    r"(?i)\b([A-Z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[A-Z0-9_]*)"
    r"(\s*[:=]\s*)(['\"]?)([^\s'\"]{4,})\3"
)
_BEARER = re.compile(r"(?i)\b(authorization:\s*(?:bearer|token|basic)\s+)([A-Za-z0-9._~+/=-]{8,})")
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)")


# One pass for the fixed-shape tokens (the private-key block needs DOTALL, so it stays apart).
_TOKENS = re.compile("|".join(f"(?:{p.pattern})" for p in _PATTERNS[:-1]))
_KEYWORDS = ("pass", "pwd", "secret", "token", "key")


def _assignments(line: str) -> str:
    if not any(k in line.lower() for k in _KEYWORDS):  # cheap: most lines have none
        return line
    return _ASSIGNMENT.sub(
        lambda m: m.group(0) if m.group(4) == REDACTED else f"{m.group(1)}{m.group(2)}{REDACTED}",
        line,
    )


def redact(text: str) -> str:
    """The text with anything that looks like a credential replaced by ``[REDACTED]``."""
    text = _TOKENS.sub(REDACTED, text)
    if "PRIVATE KEY" in text:
        text = _PATTERNS[-1].sub(REDACTED, text)
    if "authorization" in text.lower():
        text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    return "\n".join(_assignments(line) for line in text.split("\n"))
