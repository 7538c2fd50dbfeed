"""The systems compared, each turning one ``IssueInput`` into a row of what its draft shows.

- ``pieces`` / ``generative``: ``draft_triage`` with ``triage.reply_mode`` set so (where the
  code has that setting; otherwise both are today's chain, and the row says so);
- ``chain``: ``draft_triage`` with the default settings of whatever code is on PYTHONPATH
  (run from a worktree of an older commit to measure that commit's chain);
- ``naive``: one prompt with the top-4 docs passages, the top-3 similar past issues with their
  maintainers' comments and the issue, "write a helpful reply to this issue"; no checks.

Only APIs that exist at db06467 are used, newer ones behind ``hasattr``/``try``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage

from assistant.forge.shapes import IssueInput
from assistant.kinds.triage.chain import draft_triage
from assistant.kinds.triage.duplicates import issue_query
from assistant.language import detect_language
from assistant.project_files import load_project_files
from assistant.providers.vector_index import VectorIndex
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings

from .data import url_key

SYSTEMS = ("pieces", "generative", "chain", "naive")
NAIVE_DOCS, NAIVE_ISSUES = 4, 3
NAIVE_PASSAGE, NAIVE_COMMENT, NAIVE_BODY = 1200, 600, 1500


def has_reply_mode(settings: Settings) -> bool:
    return "reply_mode" in type(settings.triage).model_fields


def system_settings(settings: Settings, system: str) -> Settings:
    """The settings a system drafts with."""
    if system in ("pieces", "generative") and has_reply_mode(settings):
        triage = settings.triage.model_copy(update={"reply_mode": system})
        return settings.model_copy(update={"triage": triage})
    return settings


@dataclass
class Drafting:
    """What every system needs: the index, the chat model, the prompts, past maintainer
    comments (past issues only)."""

    settings: Settings
    index: VectorIndex
    chat: BaseChatModel
    prompts: Any
    past_comments: dict[str, list[str]]


def draft_row(system: str, job: Drafting, issue: IssueInput,
              index: VectorIndex | None = None) -> dict[str, Any]:
    """One system's draft of ``issue`` as a row (``index``: another index to draft against)."""
    if system == "naive":
        return naive_row(job, issue, index or job.index)
    settings = system_settings(job.settings, system)
    index = index or job.index
    draft = draft_triage(issue, settings=settings, index=index, chat_model=job.chat,
                         prompts=job.prompts, files=load_project_files(index))
    reply = draft.reply_markdown if draft.reply_needed else ""
    return {
        "system": system, "reply_mode": getattr(draft, "reply_mode", None)
        if has_reply_mode(settings) else "n/a (no reply_mode in this code)",
        "language": draft.language, "reply": reply, "reply_text": draft.reply_text,
        "reply_needed": draft.reply_needed, "no_reply_reason": draft.no_reply_reason,
        "labels": [{"name": s.name, "source": s.source, "confidence": s.confidence}
                   for s in draft.labels],
        "labels_abstained": draft.labels_abstained,
        "label_candidates": [s.name for s in getattr(draft, "label_candidates", [])],
        "duplicates": [url_key(d.url, d.number) for d in draft.duplicates],
        "related": [url_key(d.url, d.number) for d in draft.related],
        "duplicate_scores": [round(d.score, 3) for d in [*draft.duplicates, *draft.related]],
        "duplicate_reasons": [d.reason for d in [*draft.duplicates, *draft.related]],
        "docs": [{"path": d.path, "cited": d.cited, "language": d.language,
                  "score": round(d.score, 3)} for d in draft.docs],
        "past_answers": [a.number for a in getattr(draft, "past_answers", [])],
        "pieces": [p.kind for p in getattr(draft, "pieces", [])],
        "confidence": draft.confidence, "fallback": draft.fallback, "seconds": draft.seconds,
        "model_calls": draft.usage.calls,
    }


def _similar_issues(retriever: Retriever, query: str, own: str) -> list[tuple[str, Any]]:
    best: dict[str, Any] = {}
    for hit in retriever.search(query, k=4 * NAIVE_ISSUES + 4, where={"source_kind": "issue"}):
        found = url_key(hit.url, hit.metadata.get("number"))
        if found != own and found not in best:
            best[found] = hit
    return list(best.items())[:NAIVE_ISSUES]


def naive_prompt(project: str, issue: IssueInput, docs: list[Any],
                 issues: list[tuple[str, Any]], past_comments: dict[str, list[str]]) -> str:
    """The naive baseline's single prompt."""
    parts = [f"You are helping the maintainers of {project} answer a GitHub issue.", "",
             "Documentation passages:"]
    parts += [f"[{n}] {h.title} ({h.url})\n{h.text[:NAIVE_PASSAGE]}\n"
              for n, h in enumerate(docs, start=1)]
    parts += ["Similar past issues and what the maintainers answered:"]
    for found, hit in issues:
        answers = past_comments.get(found) or []
        said = "\n".join(f"Maintainer: {a[:NAIVE_COMMENT]}" for a in answers[:2]) \
            or "(no maintainer answer)"
        parts.append(f"{found} {hit.title}\n{said}\n")
    parts += ["The issue:", f"Title: {issue.title}", issue.body[:NAIVE_BODY], "",
              "Write a helpful reply to this issue."]
    return "\n".join(parts)


def naive_row(job: Drafting, issue: IssueInput, index: VectorIndex) -> dict[str, Any]:
    """The naive single-prompt RAG reply, unchecked."""
    started = time.perf_counter()
    retriever = Retriever(index, job.settings.retrieval)
    query = issue_query(issue.title, issue.body)
    docs = retriever.search(query, k=NAIVE_DOCS, where={"source_kind": "doc"})
    own = url_key(issue.url or "", issue.number)
    issues = _similar_issues(retriever, query, own)
    prompt = naive_prompt(index.project, issue, docs, issues, job.past_comments)
    reply = str(job.chat.invoke([HumanMessage(prompt)],
                                max_tokens=job.settings.llm.max_tokens).content).strip()
    return {
        "system": "naive", "reply_mode": None, "language": detect_language(reply),
        "reply": reply, "reply_text": reply, "reply_needed": True, "no_reply_reason": None,
        "labels": None, "labels_abstained": None, "label_candidates": [],
        "duplicates": None, "related": None, "duplicate_scores": [], "duplicate_reasons": [],
        "context_issues": [k for k, _ in issues],
        "docs": [{"path": str(h.metadata.get("path", "")),
                  "cited": bool(h.url and h.url in reply) or f"[{n}]" in reply,
                  "language": str(h.metadata.get("language", "")), "score": round(h.score, 3)}
                 for n, h in enumerate(docs, start=1)],
        "past_answers": [], "pieces": [], "confidence": None, "fallback": False,
        "seconds": round(time.perf_counter() - started, 2), "model_calls": 1,
    }
