"""Output guards: what a drafted text may contain before a human ever sees it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from assistant.redact import redact
from assistant.textnorm import fold_fullwidth, strip_invisible
from assistant.textrules import CJK

# GitHub's rendering is the reference: whatever it would turn into a link, an image or a
# mention goes, unless it is an allowed URL or the reporter. Rather than one pattern per
# trick, the text is first made plain (entities decoded, escapes and HTML dropped, backticks
# paired the way CommonMark pairs them), then everything risky is removed: URLs, e-mail
# addresses and host names everywhere (a reader may copy them out of code too); square
# brackets (so no inline or reference link, definition or image can remain) but citations,
# mentions and issue/commit references outside real code spans, where GitHub links them.
# A tag, closed or not: "<img src=x" could close on a ">" code appends later.
_HTML = re.compile(r"<!--.*?(?:-->|\Z)|<[^<>]*>|<[a-z/!?][^\s<>]*", re.DOTALL | re.IGNORECASE)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_BACKTICKS = re.compile(r"`+")
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\(\s*<?([^)\s>]*)>?[^)]*\)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(\S+).*$", re.MULTILINE)
# Extended autolinks (scheme://, www.), scheme-relative //host, mailto:/xmpp:.
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:)?//[^\s<>()\[\]`/][^\s<>()\[\]`]*|"
                  r"\bwww\.[^\s<>()\[\]`]+|\b(?:mailto|xmpp):[^\s<>()\[\]`]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Any script: "@mіra-chen" with a Cyrillic і is caught whole, never half-linked; "请@mira"
# and "`@mira" are mentions on GitHub (only an ASCII letter or digit before "@" is not).
_HANDLE = r"[^\W\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]"  # a word character, not CJK
_MENTION = re.compile(rf"(?<![A-Za-z0-9])@((?!_){_HANDLE}(?:{_HANDLE}|-){{0,38}})"
                      rf"(/(?:{_HANDLE}|[.-])+)?")
# #N, GH-N, owner/repo#N, owner#N, owner/repo@sha, owner@sha and bare commit SHAs.
_REF = re.compile(
    r"(?<![\w#])(?:[\w.-]+/[\w.-]+|[\w-]+)?#\d+(?!\w)|(?<!\w)GH-\d+(?!\w)|"
    r"(?<!\w)[\w.-]+(?:/[\w.-]+)?@[0-9a-f]{7,40}(?!\w)|"
    r"(?<!\w)(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}(?!\w)",
    re.IGNORECASE | re.ASCII)
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
_BRACKET = re.compile(r"\[(\d{1,2})\]|[\[\]]")


@dataclass
class GuardResult:
    """The cleaned text and what was taken out of it."""

    text: str
    removed: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)


def _unescape(text: str) -> str:
    """HTML entities decoded until none is left (``&amp;#64;`` is an "@" two steps away)."""
    for _ in range(5):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def code_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has code spans, paired as CommonMark pairs them: a backtick string opens
    a span only if a later string of the same length closes it; else it is literal."""
    runs = list(_BACKTICKS.finditer(text))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        size = len(runs[i].group())
        close = next((k for k in range(i + 1, len(runs)) if len(runs[k].group()) == size), None)
        if close is None:
            i += 1
            continue
        spans.append((runs[i].start(), runs[close].end()))
        i = close + 1
    return spans


def pair_backticks(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text with only code spans that cannot mean anything else: unpaired backticks are
    dropped, and spans over a line break or a table pipe are unwrapped (a block boundary or a
    table cell there would change the pairing). Every backtick left closes on its own line."""
    while True:
        spans = code_spans(text)
        keep = {i for a, b in spans if "\n" not in text[a:b] and "|" not in text[a:b]
                for i in range(a, b)}
        out = "".join(c for i, c in enumerate(text) if c != "`" or i in keep)
        if out == text:
            return text, spans
        text = out


def _outside(text: str, spans: list[tuple[int, int]], edit: Callable[[str], str]) -> str:
    """``edit`` applied to the parts of ``text`` outside ``spans``."""
    parts, last = [], 0
    for a, b in spans:
        parts += [edit(text[last:a]), text[a:b]]
        last = b
    return "".join([*parts, edit(text[last:])])


def _plain(text: str, *, allowed_urls: set[str], reporter: str | None, n_sources: int,
           removed: list[str]) -> str:
    """One pass of the guard (see the comment above ``_HTML``)."""
    text = fold_fullwidth(strip_invisible(_unescape(text)))

    def html_tag(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        if inner in allowed_urls:
            return inner
        removed.append("html")
        return ""

    text = _HTML.sub(html_tag, text)
    text = _ESCAPE.sub(r"\1", text)
    text, spans = pair_backticks(text)

    def link(match: re.Match[str]) -> str:
        if match.group(2) in allowed_urls:
            return match.group(0)
        removed.append(f"link:{match.group(2)}")
        return match.group(1)

    def definition(match: re.Match[str]) -> str:
        removed.append(f"definition:{match.group(1)}")
        return ""

    def links(part: str) -> str:
        return _DEFINITION.sub(definition, _MD_LINK.sub(link, part))

    text = _outside(text, spans, links)
    text, spans = pair_backticks(text)

    def url(match: re.Match[str]) -> str:
        value = match.group(0).rstrip(".,;:!?'\"")
        if value in allowed_urls:
            return match.group(0)
        removed.append(f"url:{value}")
        return ""

    def email(match: re.Match[str]) -> str:
        removed.append(f"email:{match.group(0)}")
        return ""

    def domain(match: re.Match[str]) -> str:
        removed.append(f"domain:{match.group(0)}")
        return ""

    # Everywhere, code spans too: none of these contains a backtick, so spans stay as paired.
    text = _BARE_DOMAIN.sub(domain, _EMAIL.sub(email, _URL.sub(url, text)))
    spans = code_spans(text)

    def bracket(match: re.Match[str]) -> str:
        if match.group(1) is None:
            removed.append(f"bracket:{match.group(0)}")
            return ""
        number = int(match.group(1))
        if 1 <= number <= n_sources:
            return match.group(0)
        removed.append(f"citation:[{number}]")
        return ""

    def mention(match: re.Match[str]) -> str:
        if reporter and match.group(1).lower() == reporter.lower() and not match.group(2):
            return match.group(0)
        removed.append(f"mention:@{match.group(1)}{match.group(2) or ''}")
        return ""  # the whole handle: "cc mira-chen" left behind would still point at someone

    def ref(match: re.Match[str]) -> str:
        removed.append(f"reference:{match.group(0)}")
        return ""

    def refs(part: str) -> str:
        part = _BRACKET.sub(bracket, part)
        # a citation right before "(", "[" or ":" would open a link or a definition
        part = re.sub(r"(\[\d{1,2}\])(?=[(\[:])", r"\1 ", part)
        return _REF.sub(ref, _MENTION.sub(mention, part))

    return _outside(text, spans, refs)


def guard_reply(
    text: str, *, allowed_urls: set[str], n_sources: int, reporter: str | None
) -> GuardResult:
    """Strip what GitHub would link (links, images, definitions, autolinks, URLs, e-mail
    addresses, references) unless in ``allowed_urls``, mentions other than the reporter,
    unknown citations, HTML and secrets; collect the passages cited."""
    removed: list[str] = []
    for _ in range(5):  # a removal can join two harmless pieces into a risky one
        cleaned = _plain(text, allowed_urls=allowed_urls, reporter=reporter,
                         n_sources=n_sources, removed=removed)
        if cleaned == text:
            break
        text = cleaned
    cited: list[int] = []
    _outside(text, code_spans(text), lambda part: _CITE.sub(lambda m: _cite(m, cited), part))
    cleaned = redact(text)
    if cleaned != text:
        removed.append("secret")
    cleaned = re.sub(r"[ \t]+\n", "\n", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return GuardResult(cleaned, removed, cited)


def _cite(match: re.Match[str], cited: list[int]) -> str:
    if int(match.group(1)) not in cited:
        cited.append(int(match.group(1)))
    return match.group(0)


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
