"""Issue text as evidence: a project's issue-form boilerplate, and error signatures.

``Boilerplate`` holds the lines every report of a project carries whatever its problem: the
headings, field labels, options and hints of its issue templates, and lines that recur across
many of its own past issues ("### CPU architecture", "amd64", "_No response_"). They say
nothing about the problem, so duplicate detection strips them before comparing two issues.

``signature`` extracts the error and log lines of an issue (exception names, error codes, lines
that say error/failed/panic/traceback, Python, Java, Go, Lua and JavaScript stack lines, HTTP
status lines), normalised so two reports of the same failure compare equal: timestamps, numbers,
hex ids, IPs, paths, UUIDs, URLs and e-mail addresses are masked. ``shared_error`` finds the
longest run of tokens two signatures share, shown as plain text that can carry no link, mention
or markup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from assistant.project_files import IssueTemplate

# ------------------------------------------------------------------------------ boilerplate

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LIST_MARK = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+(?:\[[ xX]?\]\s*)?")
_MARKS = re.compile(r"[*_`~>#|]+")
# what GitHub writes for an optional issue-form field left empty
FORM_LINES = ("_No response_", "No response")


def line_key(line: str) -> str:
    """A line as boilerplate is compared: no list or checkbox mark, markup, case or spacing."""
    text = _LIST_MARK.sub("", line)
    text = _MARKS.sub(" ", text)
    return " ".join(text.split()).strip(" :：.-–").casefold()


@dataclass(frozen=True)
class Boilerplate:
    """Lines (as ``line_key`` keys) that a project's reports carry whatever their problem."""

    lines: frozenset[str] = frozenset()
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.lines)

    def __or__(self, other: Boilerplate | None) -> Boilerplate:
        if not other:
            return self
        if not self:
            return other
        return Boilerplate(self.lines | other.lines, f"{self.source} + {other.source}")

    def covers(self, line: str) -> bool:
        return line_key(line) in self.lines

    def strip(self, text: str) -> str:
        """The text without its boilerplate lines and HTML comments (blank lines dropped)."""
        text = _HTML_COMMENT.sub("", text)
        return "\n".join(line for line in text.splitlines()
                         if line.strip() and line_key(line) not in self.lines)

    @classmethod
    def from_templates(cls, templates: Iterable[IssueTemplate]) -> Boilerplate:
        """Headings, field labels, options and hints of the project's issue templates."""
        keys: set[str] = set()
        for template in templates:
            keys.update(line_key(t) for t in template.boilerplate)
            for item in template.fields:
                keys.add(line_key(item.label))
                keys.update(line_key(o) for o in item.options)
        if keys:
            keys.update(line_key(t) for t in FORM_LINES)
        keys.discard("")
        return cls(frozenset(keys), "templates") if keys else cls()

    @classmethod
    def learned(cls, documents: Iterable[str], share: float = 0.2, minimum: int = 3
                ) -> Boilerplate:
        """Lines found in at least ``share`` of the documents (and in ``minimum`` of them)."""
        counts: Counter[str] = Counter()
        total = 0
        for text in documents:
            total += 1
            counts.update({line_key(line) for line in _HTML_COMMENT.sub("", text).splitlines()})
        counts.pop("", None)
        cut = max(minimum, share * total)
        keys = frozenset(k for k, n in counts.items() if n >= cut)
        return cls(keys, "recurring lines") if keys else cls()


# ------------------------------------------------------------------------------ signatures

MASKS = {"\u2039url\u203a", "\u2039host\u203a", "\u2039email\u203a", "\u2039uuid\u203a",
         "\u2039ts\u203a", "\u2039ip\u203a", "\u2039hex\u203a", "\u2039path\u203a", "\u2039n\u203a"}
_MASKING = [  # order matters: a URL holds a path, a timestamp holds numbers
    (re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.I), "\u2039url\u203a"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "\u2039email\u203a"),
    (re.compile(r"(?<![\w.])@[\w-]+(?:/[\w-]+)?|(?<![\w&])#\d+\b|\bGH-\d+\b"), ""),
    (re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|app|cn|co|me|info|xyz|example|"
                r"local|internal|test)\b(?![.\w])"), "\u2039host\u203a"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
     "\u2039uuid\u203a"),
    (re.compile(r"\b\d{2,4}[-/]\d{1,2}[-/]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
                r"(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"),
     "\u2039ts\u203a"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b|\[?\b(?:[0-9a-f]{1,4}:){3,7}"
                r"[0-9a-f]{1,4}\b\]?", re.I), "\u2039ip\u203a"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", re.I),
     "\u2039hex\u203a"),
    (re.compile(r"(?:\b[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?"), "\u2039path\u203a"),
    (re.compile(r"(?<![A-Za-z_])\d+(?:[.,]\d+)*(?:ms|us|ns|[smhdk]|[kmgt]?b|px)?(?![A-Za-z_])",
                re.I), "\u2039n\u203a"),  # 30s, 1.5GB; not S3A or http2
]
EXCEPTION = re.compile(
    r"\b(?:[a-z_][\w]*\.)*([A-Z][A-Za-z0-9]*(?:Error|Exception|Fault|Panic|Failure))\b")
ERROR_CODE = re.compile(
    r"\b(?:ERR_[A-Z0-9_]{3,}|E(?:ACCES|ADDRINUSE|ADDRNOTAVAIL|AGAIN|BADF|BUSY|CONNABORTED|"
    r"CONNREFUSED|CONNRESET|EXIST|HOSTUNREACH|INVAL|ISDIR|MFILE|NETUNREACH|NOENT|NOMEM|NOSPC|"
    r"NOTDIR|NOTEMPTY|NOTFOUND|PERM|PIPE|ROFS|TIMEDOUT)|(?:errno|error code|exit code|exit "
    r"status)[ :=]+-?\d+)\b", re.I)
GENERIC_NAMES = {"error", "exception", "runtimeerror", "ioexception", "failure", "fault",
                 "panic", "assertionerror", "valueerror", "typeerror"}
_STRONG = re.compile(
    r"\b(?:errors?|err|fail(?:ed|ure|s|ing)?|exception|panic(?:ked)?|traceback|fatal|"
    r"segfault|segmentation fault|core dumped|abort(?:ed)?|crash(?:ed)?)\b"
    r"|错误|失败|异常|报错|崩溃",
    re.I)
_WEAK = re.compile(r"\b(?:could not|couldn't|cannot|can't|unable to|refused|denied|timed out|"
                   r"timeout|not found|no such|invalid|unexpected)\b|无法|超时|找不到", re.I)
_CODE_LIKE = re.compile(r"[:=\[\]()\"'/{}]|\b\w+[._]\w+\b")
_STACK = re.compile(
    r"^\s*File \".+\", line \d+|^\s*at [\w$.<>/@:-]+\s*\(.*\)|^\s*Caused by:|^goroutine \d+ \[|"
    r"\.go:\d+|\.lua:\d+:|stack traceback|in function [<'`]|^\s*at .+:\d+:\d+\)?\s*$")
_HTTP = re.compile(
    r"\bHTTP/\d(?:\.\d)?\s+[1-5]\d\d\b|\bstatus(?: code)?[ :=]+[45]\d\d\b|\b[45]\d\d "
    r"(?:Bad Request|Unauthorized|Forbidden|Not Found|Method Not Allowed|Request Timeout|Conflict|"
    r"Payload Too Large|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|"
    r"Gateway Timeout)\b", re.I)
_LEVEL = re.compile(r"\b(?:ERROR|FATAL|PANIC|CRIT(?:ICAL)?|WARN(?:ING)?|SEVERE)\b|\[(?:error|"
                    r"emerg|alert|crit|warn)\]")
_TOKEN = re.compile(r"\u2039\w+\u203a|[\w$]+(?:\.[\w$]+)*|[^\w\s]")
_ALLOWED_PUNCT = set(":=,.;!?'\"()/-+%&")
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u200b-\u200f"
                        r"\u2028-\u202e\u2060-\u2064\ufeff]")
MAX_LINES = 60
MAX_LINE_CHARS = 300


def is_error_line(line: str) -> bool:
    """Whether a line reads as an error, a log line or a stack frame."""
    return bool(
        EXCEPTION.search(line) or ERROR_CODE.search(line) or _STACK.search(line)
        or _HTTP.search(line) or _LEVEL.search(line) or _STRONG.search(line)
        or (_WEAK.search(line) and _CODE_LIKE.search(line)))


def normalise(line: str) -> str:
    """An error line with its variable parts masked (timestamps, ids, numbers, paths...)."""
    text = _INVISIBLE.sub("", line)
    text = _LIST_MARK.sub("", text)
    text = re.sub(r"[`*~>|]+|<[^>\n]{0,200}>", " ", text)
    for pattern, mask in _MASKING:
        text = pattern.sub(f" {mask} " if mask else " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ErrorLine:
    """A normalised error line as tokens: ``keys`` to compare, ``shown`` to display."""

    keys: tuple[str, ...]
    shown: tuple[str, ...]
    spaced: tuple[bool, ...]  # whether a space precedes each token in the line


@dataclass(frozen=True)
class Signature:
    """The error lines of one text, and its specific exception names and error codes."""

    lines: tuple[ErrorLine, ...] = ()
    names: frozenset[str] = frozenset()
    trigrams: frozenset[tuple[str, ...]] = field(default=frozenset(), compare=False)

    def __bool__(self) -> bool:
        return bool(self.lines or self.names)


def _tokens(text: str) -> ErrorLine:
    shown, spaced = [], []
    for match in _TOKEN.finditer(text):
        shown.append(match.group(0))
        spaced.append(match.start() > 0 and text[match.start() - 1].isspace())
    return ErrorLine(tuple(t.casefold() for t in shown), tuple(shown), tuple(spaced))


def _trigrams(keys: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {keys[i:i + 3] for i in range(len(keys) - 2)}


def signature(text: str, boilerplate: Boilerplate | None = None) -> Signature:
    """The error signature of an issue's text (its boilerplate lines left out)."""
    if boilerplate:
        text = boilerplate.strip(text)
    lines: dict[tuple[str, ...], ErrorLine] = {}
    names: set[str] = set()
    for raw in _HTML_COMMENT.sub("", text).splitlines():
        raw = raw.strip()[:MAX_LINE_CHARS]
        if not raw or not is_error_line(raw):
            continue
        names.update(n for n in EXCEPTION.findall(raw) if n.casefold() not in GENERIC_NAMES)
        names.update(" ".join(c.split()).casefold() if not c.isupper() else c
                     for c in (m.group(0) for m in ERROR_CODE.finditer(raw)))
        line = _tokens(normalise(raw))
        if len(line.keys) >= 3 and len(lines) < MAX_LINES:
            lines.setdefault(line.keys, line)
    trigrams: set[tuple[str, ...]] = set()
    for line in lines.values():
        trigrams |= _trigrams(line.keys)
    return Signature(tuple(lines.values()), frozenset(names), frozenset(trigrams))


def _is_word(token: str) -> bool:
    return (token not in MASKS and len(token) >= 2 and any(c.isalpha() for c in token))


@dataclass(frozen=True)
class SharedError:
    """What two signatures share: the longest common error-line run and the common names."""

    line: str = ""
    words: int = 0  # words of the shared run that are not common in the project
    names: tuple[str, ...] = ()

    @property
    def strength(self) -> float:
        """The shared run as a feature in [0, 1] (four uncommon words or more: 1)."""
        return min(1.0, self.words / 4)

    @property
    def evidence(self) -> str:
        if self.line:
            return self.line
        return ", ".join(self.names[:3])

    def __bool__(self) -> bool:
        return bool(self.line or self.names)


def shown_text(line: ErrorLine, start: int, size: int, limit: int = 120) -> str:
    """Tokens of a line as plain text: masks as "…", no markup, link or mention can survive."""
    end = start + size
    while start < end and not _is_word(line.shown[start]):
        start += 1  # no leading mask or punctuation
    while end > start and (line.shown[end - 1] in MASKS or line.shown[end - 1] in ",:;-=("):
        end -= 1
    out: list[str] = []
    gap = False
    for i in range(start, end):
        token = line.shown[i]
        if token in MASKS:
            token = "…"
        elif not any(c.isalnum() for c in token) and token not in _ALLOWED_PUNCT:
            gap = True  # brackets, backticks, @, #, <, > and the like
            continue
        if out and (line.spaced[i] or gap) and token not in ")],.:;!?":
            out.append(" ")
        out.append(token)
        gap = False
    text = "".join(out).strip(" :,;-")
    text = re.sub(r"(?:…\s*){2,}", "… ", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def shared_error(query: Signature, candidate: Signature,
                 common: Callable[[str], bool] | None = None) -> SharedError:
    """The longest token run two signatures share (3+ words, 2+ of them not ``common``)."""
    names = tuple(sorted(query.names & candidate.names))
    best: tuple[int, int, ErrorLine | None, int, int] = (0, 0, None, 0, 0)
    if query.trigrams & candidate.trigrams:
        for theirs in candidate.lines:
            if not _trigrams(theirs.keys) & query.trigrams:
                continue
            for mine in query.lines:
                matcher = SequenceMatcher(None, mine.keys, theirs.keys, autojunk=False)
                match = matcher.find_longest_match(0, len(mine.keys), 0, len(theirs.keys))
                if match.size < 3:
                    continue
                run = mine.keys[match.a:match.a + match.size]
                words = [t for t in run if _is_word(t)]
                rare = [t for t in words if not (common and common(t))]
                if len(words) < 3 or len(rare) < 2:
                    continue
                key = (len(rare), len(words))
                if key > best[:2]:
                    best = (len(rare), len(words), mine, match.a, match.size)
    rare_words, _, line, start, size = best
    if line is None:
        return SharedError(names=names)
    return SharedError(shown_text(line, start, size), rare_words, names)
