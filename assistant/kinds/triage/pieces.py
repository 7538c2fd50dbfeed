"""A reply built from verified pieces: the small model selects, it does not write advice.

- **doc_quote**: sentences copied from the retrieved docs passages are offered to the model as
  a numbered list; it answers with one number (a closed choice, parsed and range-checked) and
  the reply quotes that sentence verbatim with its link;
- **past_answer**: a maintainer's answer on a similar past issue, quoted with its link
  (``answers.py``);
- duplicates, missing information and the next step come from code;
- the opening and closing are fixed texts in the reporter's language: they never thank the
  reporter for the docs, never promise, never claim an action or a verification.
When no piece stands on a source, the draft asks for what is missing or abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.forge.shapes import IssueInput
from assistant.kinds.triage.models import (
    DocLink,
    DuplicateSuggestion,
    MissingItem,
    PastAnswer,
    ReplyPiece,
)
from assistant.kinds.triage.reply import issue_block
from assistant.language import FENCE
from assistant.prompting import Prompt
from assistant.retrieval.lexical import tokenize
from assistant.settings import Settings
from assistant.textrules import CJK, sentences

MAX_CANDIDATES = 6
_SKIP_LINE = re.compile(r"^\s*(?:#|\||:::|<|import |export |!\[|-{3,}|\* \* \*)")
_MARKUP = re.compile(r"\[([^\]]{1,200})\]\([^)]*\)|<[^>\n]{0,200}>")
_CHOICE = re.compile(r"^\W{0,3}(\d{1,2})(?!\d)")  # the answer starts with the number
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")

TEXTS = {
    "en": {
        "opening": "Thanks for opening this issue.",
        "past": "A similar problem came up in {ref} ({title}); a maintainer answered "
                "there:",
        "doc": "The documentation ([{label}]({url})) says:",
        "missing": "To help us look into it, could you add:",
        "duplicates": "This may be the same problem as:",
        "next_answered": "If this does not solve it, please reply with what you tried and "
                         "what happened.",
        "next_duplicate": "If it is the same problem, please follow that issue; if not, "
                          "please say what is different.",
        "next_none": "A maintainer will take a look.",
    },
    "zh": {
        "opening": "感谢提交这个 issue。",
        "past": "{ref}（{title}）中出现过类似的问题，维护者当时的回答是：",
        "doc": "文档（[{label}]({url})）中写道：",
        "missing": "为了便于排查，能否补充以下信息：",
        "duplicates": "这可能与以下 issue 是同一个问题：",
        "next_answered": "如果这没有解决问题，请回复你尝试过的操作和看到的结果。",
        "next_duplicate": "如果是同一个问题，请关注该 issue；如果不是，请说明有何不同。",
        "next_none": "维护者会来看一下。",
    },
}


@dataclass(frozen=True)
class Candidate:
    """A docs sentence offered to the model, with the page it comes from."""

    doc: int  # index into the draft's docs
    text: str
    overlap: float
    quote: str = ""  # the sentence with its neighbours in the paragraph, as the reply quotes it


QUOTE_CHARS = 400


def _window(parts: list[str], i: int, limit: int = QUOTE_CHARS) -> str:
    """Sentence ``i`` with the one before it and then the one after, while they fit."""
    start, end = i, i + 1
    if i > 0 and len(parts[i - 1]) >= 12 and len(_join(parts[i - 1 : end])) <= limit:
        start = i - 1
    if end < len(parts) and len(_join(parts[start : end + 1])) <= limit:
        end += 1
    return _join(parts[start:end])


def _join(parts: list[str]) -> str:
    """Sentences as one text: a space after Latin punctuation, none after Chinese."""
    text = ""
    for part in parts:
        text += part if not text or text.endswith(("。", "！", "？", "；")) else " " + part
    return text


def _prose_sentences(passage: str) -> list[tuple[str, str]]:
    """The prose sentences of a docs passage (no code, tables, headings or markup), each
    with the quote around it."""
    body = passage.split("\n\n", 1)[-1]
    body = FENCE.sub("\n\n", body)
    paragraphs = re.split(r"\n\s*\n", body)
    found = []
    for paragraph in paragraphs:
        lines = [ln for ln in paragraph.splitlines() if ln.strip() and not _SKIP_LINE.match(ln)]
        text = _MARKUP.sub(r"\1", " ".join(ln.strip().lstrip("-*+ ") for ln in lines))
        text = _EMPHASIS.sub("", text)
        parts = [part.strip() for part in sentences(text) if part.strip()]
        for i, sentence in enumerate(parts):
            han = len(CJK.findall(sentence))
            size = han * 2 + len(re.findall(r"[A-Za-z]{2,}", sentence)) * 5
            if size >= 40 and len(sentence) <= 320 and not sentence.endswith((":", "：")):
                found.append((sentence, _window(parts, i)))
    return found


def doc_candidates(query: str, passages: list[str], limit: int = MAX_CANDIDATES
                   ) -> list[Candidate]:
    """Up to ``limit`` docs sentences sharing terms with the issue, most shared first."""
    terms = set(tokenize(query))
    scored = []
    for n, passage in enumerate(passages):
        for sentence, quote in _prose_sentences(passage):
            mine = set(tokenize(sentence))
            shared = len(mine & terms)
            if shared:
                scored.append(Candidate(n, sentence, shared / (len(mine) ** 0.5 or 1.0), quote))
    scored.sort(key=lambda c: (-c.overlap, c.doc))
    seen: set[str] = set()
    unique = []
    for candidate in scored:
        if candidate.text not in seen:
            seen.add(candidate.text)
            unique.append(candidate)
    return unique[:limit]


def choose_sentence(
    issue: IssueInput, candidates: list[Candidate], *, project: str, chat_model: BaseChatModel,
    prompt: Prompt, settings: Settings, usage: Usage,
) -> int | None:
    """The model's closed choice among ``candidates``: an index, or None (none answers, or
    the model's answer was not one of the numbers)."""
    if not candidates:
        return None
    messages = prompt.render(project=project, candidates=[c.text for c in candidates],
                             issue=issue_block(issue))

    def check(raw: str) -> Checked:
        match = _CHOICE.match(raw.strip())
        if match is None or int(match.group(1)) > len(candidates):
            return Checked("", ["not one of the numbers"])
        return Checked(match.group(1))

    result = generate(chat_model, messages, settings=settings, max_tokens=prompt.max_tokens,
                      check=check, usage=usage)
    if result.text is None or int(result.text) == 0:
        return None
    return int(result.text) - 1


_THANKS_DOCS = re.compile(
    r"(?:thank|thanks|感谢|谢谢)[^.!?。！？]{0,60}(?:doc|passage|documentation|文档|段落|资料)",
    re.IGNORECASE)


# words of a pointer to the sources, which a source need not contain
_GENERIC = frozenset({
    "please", "see", "documentation", "docs", "doc", "page", "section", "guide", "check",
    "refer", "read", "more", "details", "information", "following", "above", "below", "link",
    "also", "here", "there", "参考", "文档", "可以", "查看", "问题", "这个", "相关", "以下",
    "详细", "信息", "内容", "说明"})


def _content_terms(text: str) -> set[str]:
    """Content terms: words, and Han bigrams (single characters say too little), without
    the words of a pointer ("please see the docs")."""
    return {t for t in tokenize(re.sub(r"\[\d{1,2}\]", " ", text))
            if not (len(t) == 1 and CJK.match(t)) and t not in _GENERIC}


def support(sentence: str, sources: list[str]) -> float:
    """The share of a sentence's content terms that appear in one of its sources (the best)."""
    mine = _content_terms(sentence)
    if not mine:
        return 1.0
    return max((len(mine & _content_terms(s)) / len(mine) for s in sources), default=0.0)


def supported_only(text: str, sources: list[str], min_support: float
                   ) -> tuple[str, list[str], float]:
    """``text`` without the sentences its sources do not support (and without thanks for
    the docs); what was dropped; the lowest support kept (1.0 when nothing was kept)."""
    kept, dropped, lowest = [], [], 1.0
    for sentence in sentences(text):
        if not sentence.strip():
            continue
        if _THANKS_DOCS.search(sentence):
            dropped.append("sentence:thanks for the docs")
            continue
        thanks = re.match(r"^\W*(?:thanks?|thank you|感谢|谢谢)", sentence, re.IGNORECASE)
        value = support(sentence, sources)
        if thanks and len(_content_terms(sentence)) <= 4:
            kept.append(sentence)
        elif value >= min_support:
            kept.append(sentence)
            lowest = min(lowest, value)
        else:
            dropped.append(f"sentence:unsupported ({value:.2f})")
    return "".join(kept).strip(), dropped, lowest


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() if line.strip())


def _label(doc: DocLink) -> str:
    return f"{doc.title} / {doc.heading}" if doc.heading and doc.heading != doc.title \
        else doc.title


def _title(text: str) -> str:
    """Text safe inside a link label or after an issue number: no brackets, tags or pipes."""
    return re.sub(r"\s+", " ", re.sub(r"[\[\]()<>|]", "", text))[:100].strip()


def assemble(
    language: str,
    *,
    doc_quote: tuple[DocLink, str] | None,
    past: PastAnswer | None,
    duplicates: list[DuplicateSuggestion],
    missing: list[MissingItem],
    model_text: str = "",
) -> tuple[str, list[ReplyPiece]]:
    """The reply as posted, and its pieces; empty when there is nothing verified to say."""
    words = TEXTS[language]
    pieces: list[ReplyPiece] = []
    if model_text:
        pieces.append(ReplyPiece(kind="model_text", text=model_text, by_model=True))
    else:
        pieces.append(ReplyPiece(kind="opening", text=words["opening"]))
    if past is not None:
        intro = words["past"].format(ref=past.ref or f"#{past.number}", title=_title(past.title))
        pieces.append(ReplyPiece(kind="past_answer", text=f"{intro}\n\n{_blockquote(past.quote)}",
                                 source=past.url))
    if doc_quote is not None:
        doc, sentence = doc_quote
        intro = words["doc"].format(label=_title(_label(doc)), url=doc.url)
        pieces.append(ReplyPiece(kind="doc_quote", text=f"{intro}\n\n{_blockquote(sentence)}",
                                 source=doc.url, by_model=True))
    if duplicates:
        pieces.append(ReplyPiece(kind="duplicate", text=words["duplicates"] + "\n\n" + "\n".join(
            f"- {d.ref or f'#{d.number}'} {_title(d.title)}" for d in duplicates)))
    if missing:
        pieces.append(ReplyPiece(kind="missing", text=words["missing"] + "\n\n" + "\n".join(
            f"- {m.question}" for m in missing)))
    if len(pieces) == 1 and not model_text:
        return "", []  # nothing verified: the maintainer decides, nothing is posted as filler
    if past is not None or doc_quote is not None or model_text:
        pieces.append(ReplyPiece(kind="next_step", text=words["next_answered"]))
    elif duplicates:
        pieces.append(ReplyPiece(kind="next_step", text=words["next_duplicate"]))
    return "\n\n".join(p.text for p in pieces), pieces
