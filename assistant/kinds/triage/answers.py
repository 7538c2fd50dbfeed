"""Maintainers' answers on similar past issues: the most valuable signal a project has.

The ingest keeps each maintainer's answer as a passage of its own (part ``answer``; see
``ingest.issues.is_maintainer_answer``). A draft looks for answers only on past issues that
the duplicate scoring already found similar enough, and quotes the maintainer verbatim with
the link: code decides what is quoted, nothing is paraphrased.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.kinds.triage.duplicates import key_of
from assistant.kinds.triage.models import DuplicateSuggestion, PastAnswer
from assistant.redact import redact
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.retriever import ISSUE_KINDS, Retriever
from assistant.textrules import sentences

QUOTE_CHARS = 420  # longest quote, at a sentence boundary

_FENCE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]{1,200})\]\([^)]*\)")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HTML = re.compile(r"<!--.*?(?:-->|\Z)|<[^>\n]{0,200}>", re.DOTALL)
_MENTION = re.compile(r"(?<![\w.`])@([\w-]{1,39})")
_QUOTE_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)  # what the maintainer quoted, not said
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|thanks?|thank you|谢谢|感谢|你好|您好)\b[^.!?。！？]*"
                       r"[.!?。！？,，]?\s*", re.IGNORECASE)


def answer_where(numbers: list[int]) -> dict[str, Any]:
    """Maintainer-answer passages of the given issues."""
    return {"$and": [{"source_kind": {"$in": sorted(ISSUE_KINDS)}}, {"part": "answer"},
                     {"number": {"$in": numbers}}]}


def clean_answer(text: str) -> str:
    """A maintainer's comment as plain quotable text: no code blocks, images, links, HTML or
    quoted lines; mentions kept as names (a quote must not ping anyone); secrets redacted."""
    text = text.split("\n\n", 1)[1] if text.startswith("#") and "\n\n" in text else text
    text = _FENCE.sub(" ", redact(text))
    text = _QUOTE_LINE.sub(" ", _HTML.sub(" ", _IMAGE.sub(" ", text)))
    text = _URL.sub(" ", _LINK.sub(r"\1", text))
    text = _MENTION.sub(r"\1", text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\s*\n\s*", " ", text).strip()


def quote_of(answer: str, issue_text: str, limit: int = QUOTE_CHARS) -> str:
    """The maintainer's own sentences, verbatim and in order: all of a short answer; of a
    long one, the sentences sharing the most terms with the issue, up to ``limit``."""
    text = _GREETING.sub("", clean_answer(answer), count=1).strip()
    if len(text) <= limit:
        return text
    issue_terms = set(tokenize(issue_text))
    parts = [s for s in sentences(text) if s.strip()]
    ranked = sorted(range(len(parts)), key=lambda i: (
        -len(set(tokenize(parts[i])) & issue_terms), i))
    chosen: set[int] = set()
    size = 0
    for i in ranked:
        if size + len(parts[i]) > limit and chosen:
            continue
        chosen.add(i)
        size += len(parts[i])
    quote = "".join(parts[i] for i in sorted(chosen)).strip()
    return quote[:limit].rstrip() + ("…" if len(quote) > limit else "")


def find_past_answers(
    retriever: Retriever,
    issue_text: str,
    similar: list[DuplicateSuggestion],
    *,
    min_score: float,
    k: int = 1,
) -> list[PastAnswer]:
    """Up to ``k`` maintainers' answers on the past issues in ``similar`` (the duplicate
    candidates, best first) that score at least ``min_score``; one answer per issue, the
    first substantive one."""
    eligible = {(d.repo, d.number): d for d in similar if d.score >= min_score}
    if not eligible:
        return []
    hits = retriever.index.search(issue_text, k=4 * len(eligible) + 4,
                                  where=answer_where(sorted({n for _, n in eligible})))
    first: dict[tuple[str, int], Any] = {}
    for hit in hits:
        key = key_of(hit.metadata)
        if key not in eligible:
            continue
        known = first.get(key)
        when = str(hit.metadata.get("answer_created", ""))
        if known is None or when < str(known.metadata.get("answer_created", "")):
            first[key] = hit
    found = []
    for key in sorted(first, key=lambda k: -eligible[k].score):
        hit, past = first[key], eligible[key]
        number = key[1]
        quote = quote_of(hit.text, issue_text)
        if len(quote) < 20:
            continue
        found.append(PastAnswer(
            number=number, repo=past.repo, title=past.title,
            url=str(hit.metadata.get("answer_url") or past.url),
            author=str(hit.metadata.get("answer_author", "")), quote=quote,
            score=past.score, evidence=past.evidence))
        if len(found) == k:
            break
    return found
