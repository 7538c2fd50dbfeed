"""Language detection for English and Chinese text (the two languages served first)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from assistant.textrules import CJK

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_CODE = re.compile(r"```.*?```|`[^`\n]*`|https?://\S+", re.DOTALL)

LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese"}

HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)  # GitHub does not show them
FENCE = re.compile(  # a fenced code block, to its closing fence or the end
    r"^(?:```|~~~).*?(?:^(?:```|~~~)[^\n]*$|\Z)", re.DOTALL | re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
# a log, stack or config line: a timestamp, a log level, a stack frame, key: value / key=value,
# a shell prompt, a path, or mostly symbols and digits
_LOG_LINE = re.compile(
    r"\d{4}[-/]\d{2}[-/]\d{2}[ T]\d{1,2}:\d{2}|\b\d{1,2}:\d{2}:\d{2}\b|"
    r"\[(?:error|warn|info|debug|notice|crit|alert|emerg)\]|\b(?:ERROR|WARN|INFO|DEBUG|FATAL)\b|"
    r"^\s*(?:at |File \"|Traceback|\$ |> |[\w./-]+\.(?:lua|py|go|java|js|ts|rs|c):\d+)|"
    r"^\s*[-*]?\s*[\w.-]+\s*(?:=|:)\s*\S+\s*$|^\s*[{}\[\]<]|"
    r"^\s*[-*]\s+[^:：\n]{1,60}[:：]\s*\S{0,80}\s*$",
    re.IGNORECASE)
PROSE_MIN = 8  # units (Han characters or English words) below which the title is counted too


_STOPWORDS = frozenset({
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "i", "we", "you", "it",
    "this", "that", "to", "of", "in", "on", "for", "with", "and", "or", "but", "not", "no",
    "when", "if", "my", "our", "have", "has", "had", "do", "does", "did", "can", "cannot",
    "can't", "don't", "doesn't", "there", "what", "how", "why", "which", "after", "before",
    "from",
})


def _english_prose(line: str) -> bool:
    """An English sentence rather than a command, log or form line: it has function words."""
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", line)]
    return sum(w in _STOPWORDS for w in words) >= 2


def prose_of(text: str) -> str:
    """The reporter's sentences: without HTML comments, code blocks, inline code, URLs,
    headings (an issue form's section names), log, stack or config lines, and English lines
    without function words (commands, paths, form values). Chinese lines always count:
    logs and commands are seldom written in Chinese."""
    text = FENCE.sub("\n", HTML_COMMENT.sub(" ", text))
    kept = []
    for line in (_CODE.sub(" ", line) for line in text.splitlines()):
        if not line.strip() or _HEADING.match(line):
            continue
        if len(CJK.findall(line)) >= 2 or (not _LOG_LINE.search(line) and _english_prose(line)):
            kept.append(line)
    return "\n".join(kept)


def detect_language(text: str) -> str:
    """``zh`` when Chinese carries the prose, else ``en``.

    Code, inline code and URLs are ignored, so an English log pasted into a
    Chinese issue does not flip the answer. A Chinese character weighs about as
    much as an English word. For an issue use ``reporter_language``.
    """
    prose = _CODE.sub(" ", text)
    han = len(CJK.findall(prose))
    words = len(_LATIN_WORD.findall(prose))
    return "zh" if han >= 2 and han * 0.7 >= words * 0.5 else "en"


def _units(text: str) -> tuple[int, int]:
    return len(CJK.findall(text)), len(_LATIN_WORD.findall(text))


def reporter_language(title: str, body: str) -> str:
    """The language of the reporter's own prose in an issue.

    Logs, code, URLs, template headings and config lines are ignored; the body's prose decides
    and the title is counted only when the body says too little, because titles are often
    rewritten in English (by a translator bot or a maintainer) above a Chinese report."""
    han, words = _units(prose_of(body))
    if han + words < PROSE_MIN:
        title_han, title_words = _units(_CODE.sub(" ", title))
        han, words = han + title_han, words + title_words
    return "zh" if han >= 2 and han * 0.7 >= words * 0.5 else "en"


def to_traditional(text: str, variant: str = "s2twp", protect: Iterable[str] = ()) -> str:
    """Simplified Chinese as Traditional, by OpenCC (offline; its dictionaries ship in the
    wheel). ``s2twp``: Taiwan usage with phrases; ``s2hk``: Hong Kong; ``s2t``: characters.

    Terms in ``protect`` (the glossary's Chinese terms) get their characters converted but
    never their wording: phrase conversion would turn 参数 into 引數. Latin text (code names,
    links) passes through unchanged.
    """
    if not text:
        return text
    terms = sorted({t for t in protect if t.strip()}, key=len, reverse=True)
    if not terms:
        return _converter(variant)(text)
    parts = re.split("(" + "|".join(map(re.escape, terms)) + ")", text)
    characters = _converter("s2tw" if variant.startswith("s2tw") else "s2t")
    return "".join(characters(part) if n % 2 else _converter(variant)(part)
                   for n, part in enumerate(parts))


@functools.cache
def _converter(variant: str) -> Callable[[str], str]:
    import opencc

    if variant not in ("s2t", "s2tw", "s2twp", "s2hk"):
        raise ValueError(f"unknown OpenCC conversion {variant!r}")
    return opencc.OpenCC(f"{variant}.json").convert
