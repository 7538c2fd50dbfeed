"""Private-key blocks: PEM, OpenSSH, PGP, SSH2 and PuTTY, whole or cut off before the END line.

The headers are detect-secrets' ``PrivateKeyDetector`` patterns (plus encrypted PKCS#8, which
it lacks). The body after a header is every following piece of base64 (pieces split at real
newlines or at ``\\n`` inside a JSON string), with armor headers such as ``Version:``; it ends
at the END line, at the first piece that is not base64 (a truncated paste followed by prose)
or at the end of the text. The header and END lines stay, so a reader sees a key was there.
"""

from __future__ import annotations

import re

from detect_secrets.plugins.private_key import PrivateKeyDetector

Span = tuple[int, int]

HEADERS = re.compile("|".join([*(p.pattern for p in PrivateKeyDetector.denylist),
                               r"BEGIN ENCRYPTED PRIVATE KEY", r"BEGIN [A-Z0-9]+ PRIVATE KEY"]))
HINTS = ("PRIVATE KEY", "PuTTY-User-Key-File")
MIN_BODY = 16  # shorter bodies are samples such as "\n...\n"

_HEADER_TAIL = re.compile(r"[A-Z0-9 ]{0,40}-{4,5}|[^\n]{0,200}")
_SEPARATOR = re.compile(r"(?:\r?\n|\\r\\n|\\n|\\r|\r)")
_PIECE = re.compile(r"[^\r\n\\]*")
_BASE64 = re.compile(r"[ \t]*[A-Za-z0-9+/]+={0,2}[ \t]*")
_ARMOR = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,30}: [^\r\n\\]*")
_SPACED_BASE64 = re.compile(r"[A-Za-z0-9+/= \t]*")
_END = re.compile(r"-----END |---- END ")
MAX_BLOCK = 64 * 1024
_LEAD = re.compile(r"(?:\s|\\[nr])*")
_TRAIL = re.compile(r"(?:\s|\\[nr])*\Z")


def _whole_block(text: str, pos: int) -> Span | None:
    """The body up to an END line, if everything before it is base64 or armor headers
    (also a key flattened onto one line with spaces)."""
    end_marker = _END.search(text, pos, pos + MAX_BLOCK)
    if end_marker is None:
        return None
    body = text[pos:end_marker.start()]
    for piece in _SEPARATOR.split(body):
        if not (_SPACED_BASE64.fullmatch(piece) or _ARMOR.fullmatch(piece.strip())):
            return None
    lead = _LEAD.match(body).end()  # type: ignore[union-attr]
    trail = _TRAIL.search(body, lead)
    return pos + lead, pos + (trail.start() if trail else len(body))


def _body(text: str, pos: int, putty: bool) -> Span:
    """The body after a header at ``pos``: from its first to its last base64 character."""
    start = end = -1
    seen_base64 = False
    while pos < len(text):
        separator = _SEPARATOR.match(text, pos)
        if separator is None and start >= 0:
            break  # a piece ended at a character that is neither base64 nor a line break
        pos = separator.end() if separator else pos
        piece = _PIECE.match(text, pos).group()  # type: ignore[union-attr]
        if not piece.strip():
            if separator is None:
                break
            continue
        if piece.lstrip().startswith(("-----END", "---- END")):
            break
        if _ARMOR.fullmatch(piece) and (putty or not seen_base64):
            start, end = (pos if start < 0 else start), pos + len(piece)
            pos = end
            continue
        b64 = _BASE64.match(piece)
        whole = b64 is not None and b64.end() == len(piece)
        if b64 is None or (not whole and len(b64.group().strip()) < MIN_BODY):
            break
        seen_base64 = True
        start, end = (pos if start < 0 else start), pos + len(b64.group().rstrip())
        if not whole:
            break
        pos += len(piece)
    return start, end


def private_key_spans(text: str) -> list[Span]:
    """Spans of private-key bodies in ``text``."""
    if not any(hint in text for hint in HINTS):
        return []
    spans: list[Span] = []
    for header in HEADERS.finditer(text):
        tail = _HEADER_TAIL.match(text, header.end())
        pos = tail.end() if tail else header.end()  # type: ignore[union-attr]
        if spans and pos <= spans[-1][1]:
            continue
        whole = _whole_block(text, pos)
        start, end = whole or _body(text, pos, putty=header.group().startswith("PuTTY"))
        if start >= 0 and end - start >= MIN_BODY:
            spans.append((start, end))
    return spans
