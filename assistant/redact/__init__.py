"""Secret redaction: tokens, keys and passwords are replaced before text is stored or sent.

Three kinds of finding, merged into spans and each replaced by ``[REDACTED]``:

- fixed-shape tokens, from Yelp's detect-secrets plugins plus the shapes it lacks
  (``tokens.py``);
- values named by their key, flag, header, URL parameter or the prose around them, with
  placeholders kept readable (``keywords.py``, ``placeholders.py``);
- private-key blocks, whole or truncated (``private_keys.py``).

Cheap gates keep it fast on ordinary text: the token detectors only see lines holding a run of
16+ token characters with a digit or capital (or ``://``), the keyword rules only lines naming
a secret, and lines longer than ``LONG_LINE`` are cut into overlapping windows, so the cost
stays linear in the text's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .keywords import HINTS as KEYWORD_HINTS
from .keywords import keyword_spans
from .private_keys import private_key_spans
from .tokens import token_spans

__all__ = ["REDACTED", "redact", "redact_json", "secret_spans"]

REDACTED = "[REDACTED]"
LONG_LINE = 16384
STEP = 16384
OVERLAP = 1024

Span = tuple[int, int]

_TOKEN_HINTS = re.compile(r"[A-Za-z0-9_+/=-]{16,256}|://|(?i:xox[a-z]-)")
_LOWER_RUN = re.compile(r"[a-z_+/=-]+")


def _token_like(match: re.Match[str]) -> bool:
    """A run of token characters counts if it holds a digit or a capital ("limit-count-redis"
    does not)."""
    return _LOWER_RUN.fullmatch(match.group()) is None


def _windows(text: str, hints: re.Pattern[str],
             accept: Callable[[re.Match[str]], bool] | None = None) -> list[Span]:
    """The lines (or windows of long lines) holding a match of ``hints`` that ``accept``
    takes; the search goes on after each window found, so it is one pass over the text."""
    windows: list[Span] = []
    match = hints.search(text)
    while match is not None:
        if accept is not None and not accept(match):
            match = hints.search(text, match.end())
            continue
        pos = match.start()
        line_start = text.rfind("\n", 0, pos) + 1
        found = text.find("\n", pos)
        line_end = len(text) if found < 0 else found
        if line_end - line_start <= LONG_LINE:
            windows.append((line_start, line_end))
            match = hints.search(text, line_end + 1)
            continue
        k = (pos - line_start) // STEP
        windows.append((max(line_start, line_start + k * STEP - OVERLAP),
                        min(line_end, line_start + (k + 1) * STEP + OVERLAP)))
        match = hints.search(text, min(line_end + 1, line_start + (k + 1) * STEP))
    return windows


def _spans_in(text: str, hints: re.Pattern[str], find: Callable[[str], list[Span]],
              lowered: str | None = None,
              accept: Callable[[re.Match[str]], bool] | None = None) -> list[Span]:
    """Spans ``find`` reports in the windows of ``text`` where ``hints`` match (searched in
    ``lowered`` if given: the lower-cased text, of the same length)."""
    spans: list[Span] = []
    for start, end in _windows(text if lowered is None else lowered, hints, accept):
        spans.extend((start + s, start + e) for s, e in find(text[start:end]))
    return spans


def secret_spans(text: str) -> list[Span]:
    """The merged, sorted spans of everything ``redact`` replaces."""
    spans = private_key_spans(text)
    spans += _spans_in(text, _TOKEN_HINTS, token_spans, accept=_token_like)
    lowered = text.lower()  # the keyword gate is case-sensitive: much faster on lower case
    if len(lowered) == len(text):
        spans += _spans_in(text, KEYWORD_HINTS, keyword_spans, lowered)
    else:  # a character whose lower case is longer ("İ") would shift the offsets
        spans += _spans_in(text, re.compile(KEYWORD_HINTS.pattern, re.I), keyword_spans)
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def redact(text: str) -> str:
    """The text with anything that looks like a credential replaced by ``[REDACTED]``."""
    spans = secret_spans(text)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts += [text[pos:start], REDACTED]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def redact_json(value: object) -> object:
    """A JSON value with every string in it redacted (keys are kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value
