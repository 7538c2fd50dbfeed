"""The generative reply of a triage draft (``triage.reply_mode: generative``): the model
phrases 2-3 cited sentences; code does the rest.

Code picks the passages, fences the issue, checks the reply (links, mentions, citations,
language, loops, echoes of the issue), retries once and otherwise gives up (the chain then
builds the reply from verified pieces alone, ``pieces.py``).
Whatever the model writes, a sentence of its own that claims an action, promises, names a
state change, a label or an issue number, or repeats issue text the docs do not support, is
dropped (``screen_sentences``). The questions for missing information, the likely duplicates
and the cited pages are appended by code, so every link points to an ingested source or a
retrieved past issue, and every label or number named was chosen by code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Generation, Usage, generate
from assistant.chains.guards import (
    cut_at_structure,
    echoes,
    guard_reply,
    leaks,
    problems,
    trim_unfinished,
)
from assistant.forge.shapes import IssueInput
from assistant.kinds.triage.models import DocLink, DuplicateSuggestion, MissingItem
from assistant.language import HTML_COMMENT, LANGUAGE_NAMES
from assistant.project_files import Glossary
from assistant.prompting import Prompt, fence
from assistant.redact import redact
from assistant.settings import Settings
from assistant.textnorm import fold_fullwidth, strip_invisible
from assistant.textrules import (
    ACTION_CLAIM,
    CJK,
    PROMISE,
    STATE_CHANGE,
    identifiers,
    mentions,
    sentences,
)

BODY_IN_PROMPT = 1_200

_RELATED = {"en": "Related documentation", "zh": "相关文档"}
_MISSING = {
    "en": "To help us look into it, could you add:", "zh": "为了便于排查，能否补充以下信息：",
}
_DUPLICATES = {"en": "This may be the same problem as:", "zh": "这可能与以下 issue 是同一个问题："}

# An issue or PR number, however written: #12, GH-12, owner/repo#12, "issue 12", 第 12 号.
_NUMBER = re.compile(
    r"#\s?\d+|\bGH-\d+|\b(?:issues?|PRs?|pull requests?|tickets?|bugs?)\s*(?:#|no\.?|number)?"
    r"\s*\d+(?![\d.])|第\s*\d+\s*号|\d+\s*号\s*(?:issue|问题)|(?:issue|问题|工单)\s*#?\s*\d{2,}",
    re.IGNORECASE)
_QUOTED = re.compile(r"`([^`\n]{2,80})`|\"([^\"\n]{2,80})\"|“([^”\n]{2,80})”|「([^」\n]{2,80})」|"
                     r"『([^』\n]{2,80})』|‘([^’\n]{2,80})’")
_HYPHENATED = re.compile(r"\b[^\W_]+(?:-[^\W_]+)+\b")
_THANKS_WORD = re.compile(r"^\W*(?:thanks?|thank you|感谢|谢谢|多谢)", re.IGNORECASE)
_LABEL_WORD = re.compile(r"\blabel|\btag|标签", re.IGNORECASE)
_CAPS = re.compile(r"\b[A-Z][A-Z0-9]+(?:[-_][A-Z0-9]+)*[A-Za-z0-9]*\b")
_DIGITS = re.compile(r"\d{3,}|\b(?=\w*\d)(?=\w*[a-z])\w{10,}\b")  # numbers, key-like tokens
_CITATION = re.compile(r"\[\d{1,2}\]")
_WORDS = re.compile(r"[a-z0-9_]+(?:['-][a-z0-9_]+)*")
_CJK_RUN = re.compile(f"(?:{CJK.pattern})+")
EN_SPAN, ZH_SPAN = 5, 6  # words, Han characters: a span this long copied from the issue


def _view(text: str) -> str:
    """What a sentence says once rendered: entities, escapes, invisible and fullwidth gone."""
    return fold_fullwidth(strip_invisible(html.unescape(text))).replace("\\", "").lower()


def _quote(match: re.Match[str]) -> str:
    return next(g for g in match.groups() if g).strip()


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class Evidence:
    """What a reply sentence may repeat: the retrieved passages support a phrase; the issue,
    untrusted, does not. ``labels``: names the free text must not use."""

    issue: str
    supported: str
    labels: frozenset[str] = frozenset()
    prompt: str = ""
    reporter: str | None = None
    n_sources: int = 0

    @cached_property
    def _issue(self) -> str:
        return _view(self.issue)

    @cached_property
    def _ours(self) -> str:
        return _view(self.supported)

    @cached_property
    def _quoted(self) -> set[str]:
        return {_quote(m) for m in _QUOTED.finditer(self._issue)}

    @cached_property
    def _han(self) -> tuple[str, str]:
        return "|".join(_CJK_RUN.findall(self._issue)), "|".join(_CJK_RUN.findall(self._ours))

    @cached_property
    def requested_labels(self) -> set[str]:
        """What the issue quotes in a sentence about labels: labels it asks for."""
        return {_quote(m) for sentence in sentences(self._issue) if _LABEL_WORD.search(sentence)
                for m in _QUOTED.finditer(sentence)}

    def _new(self, phrase: str) -> bool:
        return phrase in self._issue and phrase not in self._ours

    def copied(self, sentence: str) -> str | None:
        """A phrase of ``sentence`` taken from the issue and not found in the passages."""
        said = _view(sentence)
        thanks = bool(_THANKS_WORD.match(said))
        core = _CITATION.sub("", said).strip(" \t\n.,;:!?。，；：！？")
        if len(core) >= 3 and not thanks and self._new(core):
            return core  # a short sentence copied whole
        tokens = ({t.lower() for t in identifiers(sentence)} | {t.lower() for t in _CAPS.findall(
            sentence) if len(t) >= 4} | set(_DIGITS.findall(said)) | set(_HYPHENATED.findall(said)))
        quoted = {q for q in self._quoted if len(q) >= 3 and q in said}
        for phrase in sorted(quoted | tokens):
            if self._new(phrase):
                return phrase
        # EN_SPAN words or ZH_SPAN Han characters in a row (a shorter sentence: all of it)
        words = _WORDS.findall(_CITATION.sub(" ", said))
        n = max(1, min(EN_SPAN, len(words)))
        if n == EN_SPAN or not (thanks or len("".join(words)) < 6):
            theirs = _grams(_WORDS.findall(self._issue), n) - _grams(
                _WORDS.findall(self._ours), n)
            for gram in _grams(words, n) & theirs:
                return " ".join(gram)
        han_issue, han_ours = self._han
        runs = _CJK_RUN.findall(said)
        size = max(2, min(ZH_SPAN, sum(len(r) for r in runs)))
        if size < ZH_SPAN and thanks:
            return None
        for run in runs:
            for i in range(len(run) - size + 1):
                piece = run[i : i + size]
                if piece in han_issue and piece not in han_ours:
                    return piece
        return None

    def why_not(self, sentence: str) -> str | None:
        """Why ``sentence`` cannot stand as the assistant's own words (None: it can)."""
        view = _view(sentence)
        if ACTION_CLAIM.search(view):
            return "claims an action"
        if PROMISE.search(view):
            return "promises"
        if STATE_CHANGE.search(view):
            return "names a state change"
        if _NUMBER.search(view):
            return "names an issue number"
        quoted = {_quote(m) for m in _QUOTED.finditer(view)}
        if any(name.lower() in quoted or (not name.isalpha() and mentions(view, name.lower()))
               for name in self.labels) or any(
                mentions(view, name) for name in self.requested_labels):
            return "names a label"
        if self.prompt and leaks(sentence, self.prompt, n=EN_SPAN):
            return "repeats the prompt"
        phrase = self.copied(sentence)
        return f"repeats the issue ({phrase})" if phrase else None


def screen_sentences(text: str, evidence: Evidence) -> tuple[str, list[str]]:
    """``text`` without the sentences that cannot stand (see ``Evidence.why_not``), and why
    each dropped one was dropped."""
    kept, dropped = [], []
    for sentence in sentences(text):
        if not re.search(r"[^\W_]", _CITATION.sub("", sentence)):
            kept += ["\n"] if "\n" in sentence else []  # keep paragraph breaks, not stray marks
            continue
        markup = guard_reply(sentence, allowed_urls=set(), n_sources=evidence.n_sources,
                             reporter=evidence.reporter).removed
        reason = "has links or mentions" if markup else evidence.why_not(sentence)
        if reason:  # what is left of "cc @x" or "see [fix]" says nothing: the sentence goes
            dropped += [f"sentence:{reason}", *markup]
        else:
            kept.append(sentence)
    return "".join(kept).strip(), dropped


def issue_block(issue: IssueInput, max_body: int = BODY_IN_PROMPT) -> str:
    """The redacted, truncated issue inside ``<issue>`` tags it cannot close. HTML comments
    go first: GitHub does not show them, so they hold template hints or hidden instructions."""
    body = redact(HTML_COMMENT.sub("", issue.body))
    if len(body) > max_body:
        body = body[:max_body] + "\n[… truncated]"
    author = f"Reporter: {issue.author}\n" if issue.author else ""
    return fence(f"{author}Title: {redact(issue.title)}\n\n{body}", "issue")


def passages_for_prompt(texts: list[str], docs: list[DocLink], max_chars: int) -> list[dict]:
    """Title, heading and excerpt of each passage (the title prefix is shown separately)."""
    return [
        {"title": d.title, "heading": d.heading if d.heading != d.title else "",
         "excerpt": text.split("\n\n", 1)[-1][:max_chars]}
        for d, text in zip(docs, texts, strict=True)
    ]


def phrase_reply(
    issue: IssueInput,
    *,
    language: str,
    project: str,
    docs: list[DocLink],
    passages: list[str],
    glossary: Glossary,
    chat_model: BaseChatModel,
    prompt: Prompt,
    settings: Settings,
    usage: Usage,
    label_names: Sequence[str] = (),
) -> Generation:
    """The model's 2-3 sentences, screened and guarded; ``text`` is None when both attempts
    failed. ``label_names``: the project's labels, which the model's own text never names."""
    messages = prompt.render(
        project=project,
        language_name=LANGUAGE_NAMES[language],
        sources=passages_for_prompt(passages, docs, settings.retrieval.max_passage_chars),
        issue=issue_block(issue),
        glossary=glossary.relevant(f"{issue.title}\n{issue.body}\n" + "\n".join(passages)),
    )

    evidence = Evidence(
        issue=f"{issue.title}\n{issue.body}",
        supported="\n".join([*passages, *(f"{d.title}\n{d.heading}" for d in docs), project]),
        labels=frozenset(label_names), prompt=str(messages[0].content), reporter=issue.author,
        n_sources=len(docs))

    def check(raw: str) -> Checked:
        text, dropped = screen_sentences(trim_unfinished(cut_at_structure(raw)), evidence)
        guarded = guard_reply(text, allowed_urls=set(), n_sources=len(docs),
                              reporter=issue.author)
        found = problems(guarded.text, language, max_chars=900)
        if echoes(guarded.text, issue.body):
            found.append("echoes the issue")
        if leaks(guarded.text, str(messages[0].content)):
            found.append("repeats the prompt")
        return Checked(guarded.text, found, dropped + guarded.removed, guarded.cited)

    return generate(chat_model, messages, settings=settings, max_tokens=prompt.max_tokens,
                    check=check, usage=usage)


def reply_markdown(
    text: str,
    language: str,
    *,
    docs: list[DocLink],
    missing: list[MissingItem],
    duplicates: list[DuplicateSuggestion],
) -> str:
    """The reply as it would be posted: the phrased text, then sections built by code."""
    parts = [text]
    if missing:
        parts.append(_MISSING[language] + "\n\n" + "\n".join(f"- {m.question}" for m in missing))
    if duplicates:
        parts.append(_DUPLICATES[language] + "\n\n" + "\n".join(
            f"- {d.ref or f'#{d.number}'} {d.title}" for d in duplicates))
    cited = [d for d in docs if d.cited]
    if cited:
        lines = []
        for d in cited:
            label = f"{d.title} / {d.heading}" if d.heading and d.heading != d.title else d.title
            lines.append(f"- [{d.ref}] [{label}]({d.url})")
        parts.append(f"**{_RELATED[language]}**\n\n" + "\n".join(lines))
    return "\n\n".join(parts)
