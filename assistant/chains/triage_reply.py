"""The first triage chain: retrieve documentation for an issue and draft a short, cited reply.

Code retrieves the passages, fences the issue text, checks the model's reply
(links, mentions, citations, language, loops), retries once, and otherwise falls
back to a template. The list of cited pages is built by code from the index, so
every link in a draft points to an ingested source.
"""

from __future__ import annotations

import time
from typing import Literal

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import BaseModel, Field, field_validator

from assistant.chains.guards import echoes, guard_reply, problems, trim_unfinished
from assistant.errors import EmptyIndexError, InvalidInput
from assistant.language import LANGUAGE_NAMES, detect_language
from assistant.prompting import Prompt, fence
from assistant.providers.chat import chat_model_name, invoke_error
from assistant.providers.vector_index import Hit, VectorIndex
from assistant.redact import redact
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings

MAX_TITLE = 512
MAX_BODY = 60_000
BODY_IN_PROMPT = 1_600


class IssueInput(BaseModel):
    """An issue as a reporter wrote it."""

    title: str = Field("", max_length=MAX_TITLE, examples=["database is locked after a crash"])
    body: str = Field("", max_length=MAX_BODY)
    author: str | None = Field(None, max_length=64)
    repo: str | None = Field(None, max_length=140)
    number: int | None = None

    @field_validator("title", "body")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return value.replace("\x00", "")

    def require_text(self) -> None:
        if not (self.title.strip() or self.body.strip()):
            raise InvalidInput(
                "The issue is empty (no title, no body).", fix="pass --title and/or --body"
            )


class Citation(BaseModel):
    """A documentation passage given to the model, and whether the reply cites it."""

    ref: int
    title: str
    heading: str
    url: str
    path: str
    score: float
    cited: bool = False


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0


class Timings(BaseModel):
    retrieve: float = 0.0
    generate: float = 0.0


class TriageReply(BaseModel):
    """A drafted first reply, ready for review."""

    language: Literal["en", "zh"]
    reply_markdown: str
    reply_text: str
    citations: list[Citation]
    fallback: bool
    removed: list[str]
    prompt: str
    model: str
    usage: Usage
    timings: Timings
    seconds: float


_RELATED = {"en": "Related documentation", "zh": "相关文档"}
_FALLBACK = {
    "en": "Thanks for opening this issue! These pages of the documentation look related{cites}. "
    "If they don't solve it, please share the version you use, the steps to reproduce and the "
    "full error log, so a maintainer can take a closer look.",
    "zh": "感谢提交这个 issue！以下文档可能与此问题相关{cites}。如果仍未解决，请补充你使用的版本、"
    "复现步骤和完整的错误日志，方便维护者进一步排查。",
}


def _query(issue: IssueInput) -> str:
    return f"{issue.title}\n{issue.body[:1500]}".strip()


def _passages(hits: list[Hit], max_chars: int) -> list[dict[str, str]]:
    passages = []
    for hit in hits:
        text = hit.text.split("\n\n", 1)[-1]  # the title/heading prefix is shown separately
        passages.append({
            "title": hit.title,
            "heading": str(hit.metadata.get("heading", "")),
            "excerpt": text[:max_chars],
        })
    return passages


def _issue_block(issue: IssueInput) -> str:
    body = redact(issue.body)
    if len(body) > BODY_IN_PROMPT:
        body = body[:BODY_IN_PROMPT] + "\n[… truncated]"
    author = f"Reporter: {issue.author}\n" if issue.author else ""
    return fence(f"{author}Title: {redact(issue.title)}\n\n{body}", "issue")


def _fallback_text(language: str, citations: list[Citation]) -> str:
    refs = " ".join(f"[{c.ref}]" for c in citations[:2])
    return _FALLBACK[language].format(cites=f" {refs}" if refs else "")


def _markdown(text: str, citations: list[Citation], language: str) -> str:
    cited = [c for c in citations if c.cited]
    lines = [text, "", f"**{_RELATED[language]}**", ""]
    for c in cited:
        label = f"{c.title} / {c.heading}" if c.heading and c.heading != c.title else c.title
        lines.append(f"- [{c.ref}] [{label}]({c.url})")
    return "\n".join(lines) if cited else text


def draft_triage_reply(
    issue: IssueInput,
    *,
    settings: Settings,
    index: VectorIndex,
    chat_model: BaseChatModel,
    prompt: Prompt,
) -> TriageReply:
    """Retrieve, prompt, validate (retry once), fall back; return a typed draft."""
    started = time.perf_counter()
    issue.require_text()
    if index.count() == 0:
        raise EmptyIndexError(
            f"The index of project {index.project!r} is empty.",
            fix=f"run `devrel ingest docs PATH --project {index.project}` first",
        )
    language = detect_language(f"{issue.title}\n{issue.body}")
    timings = Timings()
    mark = time.perf_counter()
    retriever = Retriever(index, settings.retrieval)
    hits = retriever.search(_query(issue), k=settings.retrieval.k, where={"source_kind": "doc"})
    timings.retrieve = round(time.perf_counter() - mark, 3)
    citations = [
        Citation(ref=n, title=h.title, heading=str(h.metadata.get("heading", "")), url=h.url,
                 path=str(h.metadata.get("path", "")), score=h.score)
        for n, h in enumerate(hits, start=1)
    ]
    messages = prompt.render(
        project=index.project,
        language_name=LANGUAGE_NAMES[language],
        sources=_passages(hits, settings.retrieval.max_passage_chars),
        issue=_issue_block(issue),
    )
    usage = Usage()
    removed: list[str] = []
    text: str | None = None
    budget = min(settings.llm.max_tokens, prompt.max_tokens or settings.llm.max_tokens)
    mark = time.perf_counter()
    for attempt in range(2):
        options: dict[str, float | int] = {"max_tokens": budget}
        if attempt:
            options["temperature"] = 0.0
        try:
            reply = chat_model.invoke(messages, **options)
        except Exception as exc:
            raise invoke_error(exc, settings) from None
        meta = getattr(reply, "usage_metadata", None) or {}
        usage.input_tokens += int(meta.get("input_tokens", 0))
        usage.output_tokens += int(meta.get("output_tokens", 0))
        usage.calls += 1
        guarded = guard_reply(
            trim_unfinished(str(reply.content)), allowed_urls=set(), n_sources=len(citations),
            reporter=issue.author,
        )
        removed += guarded.removed
        found = problems(guarded.text, language)
        if echoes(guarded.text, issue.body):
            found.append("echoes the issue")
        if not found:
            text = guarded.text
            for n in guarded.cited:
                citations[n - 1].cited = True
            break
    timings.generate = round(time.perf_counter() - mark, 3)
    fallback = text is None
    if text is None:
        text = _fallback_text(language, citations)
        for c in citations[:2]:
            c.cited = True
    if citations and not any(c.cited for c in citations):
        citations[0].cited = True
    return TriageReply(
        language=language,  # type: ignore[arg-type]
        reply_markdown=_markdown(text, citations, language),
        reply_text=text,
        citations=citations,
        fallback=fallback,
        removed=removed,
        prompt=prompt.ref,
        model=chat_model_name(chat_model),
        usage=usage,
        timings=timings,
        seconds=round(time.perf_counter() - started, 2),
    )
