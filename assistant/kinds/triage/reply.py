"""The reply of a triage draft: the model phrases 2-3 cited sentences; code does the rest.

Code picks the passages, fences the issue, checks the reply (links, mentions, citations,
language, loops, echoes of the issue), retries once and otherwise falls back to a template.
The questions for missing information, the likely duplicates and the cited pages are
appended by code, so every link points to an ingested source or a retrieved past issue.
"""

from __future__ import annotations

import re

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
from assistant.language import LANGUAGE_NAMES
from assistant.project_files import Glossary
from assistant.prompting import Prompt, fence
from assistant.redact import redact
from assistant.settings import Settings

BODY_IN_PROMPT = 1_200
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

_RELATED = {"en": "Related documentation", "zh": "相关文档"}
_MISSING = {
    "en": "To help us look into it, could you add:", "zh": "为了便于排查，能否补充以下信息：",
}
_DUPLICATES = {"en": "This may be the same problem as:", "zh": "这可能与以下 issue 是同一个问题："}
_FALLBACK = {
    "en": "Thanks for opening this issue! The pages below look related{cites}.",
    "zh": "感谢提交这个 issue！下面的文档可能与此问题相关{cites}。",
}
_THANKS = {
    "en": "Thanks for opening this issue! A maintainer will take a look.",
    "zh": "感谢提交这个 issue！维护者会尽快查看。",
}


def issue_block(issue: IssueInput, max_body: int = BODY_IN_PROMPT) -> str:
    """The redacted, truncated issue inside ``<issue>`` tags it cannot close. HTML comments
    go first: GitHub does not show them, so they hold template hints or hidden instructions."""
    body = redact(_HTML_COMMENT.sub("", issue.body))
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
) -> Generation:
    """The model's 2-3 sentences, guarded; ``text`` is None when both attempts failed."""
    messages = prompt.render(
        project=project,
        language_name=LANGUAGE_NAMES[language],
        sources=passages_for_prompt(passages, docs, settings.retrieval.max_passage_chars),
        issue=issue_block(issue),
        glossary=glossary.relevant(f"{issue.title}\n{issue.body}\n" + "\n".join(passages)),
    )

    def check(raw: str) -> Checked:
        guarded = guard_reply(trim_unfinished(cut_at_structure(raw)), allowed_urls=set(),
                              n_sources=len(docs), reporter=issue.author)
        found = problems(guarded.text, language, max_chars=900)
        if echoes(guarded.text, issue.body):
            found.append("echoes the issue")
        if leaks(guarded.text, str(messages[0].content)):
            found.append("repeats the prompt")
        return Checked(guarded.text, found, guarded.removed, guarded.cited)

    return generate(chat_model, messages, settings=settings, max_tokens=prompt.max_tokens,
                    check=check, usage=usage)


def fallback_text(language: str, docs: list[DocLink]) -> str:
    """The template reply, citing the best two passages when there are any."""
    if not docs:
        return _THANKS[language]
    refs = " ".join(f"[{d.ref}]" for d in docs[:2])
    return _FALLBACK[language].format(cites=f" {refs}")


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
            f"- #{d.number} {d.title}" for d in duplicates))
    cited = [d for d in docs if d.cited]
    if cited:
        lines = []
        for d in cited:
            label = f"{d.title} / {d.heading}" if d.heading and d.heading != d.title else d.title
            lines.append(f"- [{d.ref}] [{label}]({d.url})")
        parts.append(f"**{_RELATED[language]}**\n\n" + "\n".join(lines))
    return "\n\n".join(parts)
