"""What a project's index holds, and searching it: shared by the CLI, the API and the UI."""

from __future__ import annotations

from typing import Any, Literal

from assistant.context import AppContext
from assistant.errors import InvalidInput
from assistant.retrieval.retriever import Retriever

SOURCE_KINDS = ("doc", "issue", "pull_request", "meeting_notes")
Mode = Literal["dense", "bm25", "hybrid"]


def index_summary(ctx: AppContext, project: str | None = None) -> dict[str, Any]:
    """Passages and items per source (issues and PRs: per repo), the embedder, and how far
    each repo's live sync got."""
    index = ctx.index(project)
    sources: dict[tuple[str, str, str], dict[str, Any]] = {}
    for meta in index.entries().values():
        key = (str(meta.get("source_kind", "?")), str(meta.get("source", "?")),
               str(meta.get("repo", "") or ""))
        row = sources.setdefault(key, {"items": set(), "passages": 0})
        row["items"].add(str(meta.get("path", "")))
        row["passages"] += 1
    rows: list[dict[str, Any]] = []
    for (kind, source, repo), row in sorted(sources.items()):
        entry: dict[str, Any] = {"kind": kind, "source": source, "items": len(row["items"]),
                                 "passages": row["passages"]}
        if kind in ("issue", "pull_request"):
            entry["repo"] = repo
            cursor = repo if ":" in repo else f"github:{repo or source[7:]}"
            entry["synced_up_to"] = index.get_state(cursor) or ""
        rows.append(entry)
    return {"project": index.project, "embedder": index.embedder.identity,
            "passages": index.count(), "sources": rows,
            "last_sync": index.get_state("last_sync") or ""}


def search_index(
    ctx: AppContext, query: str, *, k: int = 5, project: str | None = None,
    kind: str | None = None, mode: Mode | None = None,
) -> list[dict[str, Any]]:
    """Passages for a query, the way the chains retrieve them."""
    if not query.strip():
        raise InvalidInput("The query is empty.", fix="say what to look for")
    if kind is not None and kind not in SOURCE_KINDS:
        raise InvalidInput(f"Unknown kind {kind!r}.", fix=f"use one of {', '.join(SOURCE_KINDS)}")
    retrieval = ctx.settings.retrieval
    if mode:
        retrieval = retrieval.model_copy(update={"mode": mode, "issues_mode": mode})
    hits = Retriever(ctx.index(project), retrieval).search(
        query, k=k, where={"source_kind": kind} if kind else None)
    return [{"score": round(h.score, 4), "scores": h.scores,
             "kind": h.metadata.get("source_kind"), "url": h.url, "title": h.title,
             "heading": h.metadata.get("heading", ""), "path": h.metadata.get("path", ""),
             "language": h.metadata.get("language"), "text": h.text} for h in hits]
