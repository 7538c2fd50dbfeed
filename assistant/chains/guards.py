"""Output guards: what a drafted text may contain before a human ever sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from assistant.redact import redact
from assistant.textnorm import fold_fullwidth, strip_invisible
from assistant.textrules import CJK

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
# Any script: "@mіra-chen" with a Cyrillic і is caught whole, never half-linked.
_MENTION = re.compile(r"(?<![\w`/])@([^\W_][\w-]{0,38})")
# A host name without a scheme ("pypi.evil.example"): GitHub does not link it, but a reader
# may follow it, so it goes like a URL (homoglyph hosts too). Only common TLDs, so file names
# (setup.py) stay.
_BARE_DOMAIN = re.compile(
    r"(?<![\w@/.-])(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
    r"(?:com|net|org|io|dev|app|xyz|cn|ru|info|biz|co|me|sh|site|online|top|link|click|"
    r"example|test|invalid|local)\b(?![\w-])(?:/\S*)?",
    re.IGNORECASE,
)
_CITE = re.compile(r"\[(\d{1,2})\]")
_HTML = re.compile(r"<!--.*?-->|<[^>]{1,200}>", re.DOTALL)


@dataclass
class GuardResult:
    """The cleaned text and what was taken out of it."""

    text: str
    removed: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)


def guard_reply(
    text: str, *, allowed_urls: set[str], n_sources: int, reporter: str | None
) -> GuardResult:
    """Strip links not in ``allowed_urls``, mentions other than the reporter, unknown citations,
    HTML and secrets; collect the passages cited."""
    removed: list[str] = []
    text = fold_fullwidth(strip_invisible(text))

    def link(match: re.Match[str]) -> str:
        if match.group(2) in allowed_urls:
            return match.group(0)
        removed.append(f"link:{match.group(2)}")
        return match.group(1)

    text = _MD_LINK.sub(link, text)

    def url(match: re.Match[str]) -> str:
        value = match.group(0).rstrip(".,;:!?'\"")
        if value in allowed_urls:
            return match.group(0)
        removed.append(f"url:{value}")
        return ""

    text = _URL.sub(url, text)

    def domain(match: re.Match[str]) -> str:
        removed.append(f"domain:{match.group(0)}")
        return ""

    text = _BARE_DOMAIN.sub(domain, text)

    def html(match: re.Match[str]) -> str:
        removed.append("html")
        return ""

    text = _HTML.sub(html, text)

    def mention(match: re.Match[str]) -> str:
        if reporter and match.group(1).lower() == reporter.lower():
            return match.group(0)
        removed.append(f"mention:@{match.group(1)}")
        return ""  # the whole handle: "cc mira-chen" left behind would still point at someone

    text = _MENTION.sub(mention, text)
    cited: list[int] = []

    def cite(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if 1 <= number <= n_sources:
            if number not in cited:
                cited.append(number)
            return match.group(0)
        removed.append(f"citation:[{number}]")
        return ""

    text = _CITE.sub(cite, text)
    cleaned = redact(text)
    if cleaned != text:
        removed.append("secret")
    cleaned = re.sub(r"[ \t]+\n", "\n", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return GuardResult(cleaned, removed, cited)


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？]|\n\n")


_DANGLING = re.compile(r"(?:\n\s*(?:[-*+]|\d{1,2}[.)]|#{1,6}|\*\*[^*\n]*:?\*\*:?)\s*)+$")


_STRUCTURE = re.compile(r"^\s*(?:[-*+]\s|\d{1,2}[.)]\s|#{1,6}\s|```|\|)", re.MULTILINE)


def cut_at_structure(text: str) -> str:
    """The prose before the first list, heading, table or code block, cut to its last full
    sentence (the reply is 2-3 sentences; code appends every structured part). Unchanged when
    there is no prose before it."""
    match = _STRUCTURE.search(text)
    if not match or not text[: match.start()].strip():
        return text
    head = text[: match.start()].rstrip()
    ends = list(_SENTENCE_END.finditer(head))
    return head[: ends[-1].end()].rstrip() if ends else head


def trim_unfinished(text: str) -> str:
    """Cut a reply that stopped mid-sentence (token limit) back to its last full sentence,
    dropping a list marker or heading left dangling at the end."""
    text = text.rstrip()
    if text and text[-1] not in ".!?。！？)`":
        ends = list(_SENTENCE_END.finditer(text))
        if ends and ends[-1].end() > len(text) // 3:
            text = text[: ends[-1].end()].rstrip()
    return _DANGLING.sub("", text).rstrip()


def echoes(reply: str, source: str, min_chars: int = 80) -> bool:
    """True when the reply copies a long stretch of the (untrusted) issue text verbatim."""
    if len(reply) < min_chars or len(source) < min_chars:
        return False
    match = SequenceMatcher(None, reply, source, autojunk=False).find_longest_match(
        0, len(reply), 0, len(source)
    )
    return match.size >= min_chars


# The assistant can take no action: a reply that says it labelled, closed, locked or assigned
# something (as injected issues ask it to) is false, and rejected.
_ACTION_CLAIM = re.compile(
    r"\blabels? (?:has|have )?(?:been )?(?:applied|added|set)\b|\bapplied the labels?\b|"
    r"\b(?:i(?:'ve| have)?|we(?:'ve| have)?) (?:closed|locked|labell?ed|assigned|approved)\b|"
    r"\bclos(?:ed|ing) (?:this|the) issue\b|^\s*/(?:close|lock|label|assign)\b|"
    r"已(?:添加|设置|打上?)标签|标签已(?:添加|设置)|已(?:关闭|锁定)(?:此|该|这个)?\s*issue|"
    r"(?:此|该|这个|本)\s*issue\s*已(?:关闭|锁定)",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"[A-Za-z]+")


def leaks(text: str, secret_text: str, n: int = 7) -> bool:
    """True when ``text`` repeats ``n`` consecutive words of ``secret_text`` (the prompt)."""
    words = [w.lower() for w in _WORD.findall(secret_text)]
    grams = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
    said = [w.lower() for w in _WORD.findall(text)]
    return any(tuple(said[i : i + n]) in grams for i in range(len(said) - n + 1))


def problems(text: str, language: str, max_chars: int = 1500) -> list[str]:
    """Why a drafted text is unusable (empty, looping, too long, wrong language, or claiming
    an action the assistant cannot take)."""
    found: list[str] = []
    if _ACTION_CLAIM.search(text):
        found.append("claims an action")
    if len(text.strip()) < 20:
        found.append("empty or too short")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and max(lines.count(ln) for ln in lines) >= 3:
        found.append("repeats itself")
    if len(text) > max_chars:
        found.append("too long")
    han = len(CJK.findall(text))
    if language == "zh" and han < 5:
        found.append("not in Chinese")
    if language == "en" and han > 10:
        found.append("not in English")
    return found


def clean_line(text: str, max_chars: int = 200) -> str:
    """Untrusted one-line text (a past issue's title, a heading) without links, mentions,
    HTML, citations or secrets, on one line."""
    guarded = guard_reply(" ".join(text.split()), allowed_urls=set(), n_sources=0, reporter=None)
    return guarded.text[:max_chars]
