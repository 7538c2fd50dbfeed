"""What the chains, the CLI and the API search with: dense, BM25, or both fused.

The BM25 side is built from the passages stored in the project's collection, so
it can never disagree with the vector side (one source of truth, also with a
Chroma server and several workers). It is built once and then kept in step with
the collection's change log (``view.py``): one new issue costs its own passages.
A filtered dense search runs over vectors the view keeps in memory (``dense.py``) unless
``retrieval.dense_in_memory`` says otherwise; an unfiltered one asks Chroma's HNSW.
"""

from __future__ import annotations

from typing import Any

from assistant.providers.vector_index import QUERY_VECTORS, Hit, VectorIndex
from assistant.retrieval.filters import matches
from assistant.retrieval.fusion import rrf
from assistant.retrieval.view import LexicalView, lexical_view
from assistant.settings import RetrievalSettings

__all__ = ["ISSUE_KINDS", "LexicalView", "Retriever", "lexical_view", "matches"]

ISSUE_KINDS = frozenset({"issue", "pull_request"})


def _only_issues(where: dict[str, Any] | None) -> bool:
    """Whether a filter restricts the search to issues and PRs (also inside ``$and``)."""
    if where and "$and" in where:
        return any(_only_issues(part) for part in where["$and"])
    kind = (where or {}).get("source_kind")
    if isinstance(kind, dict):
        kind = kind.get("$in", kind.get("$eq"))
    kinds = {kind} if isinstance(kind, str) else set(kind or ())
    return bool(kinds) and kinds <= ISSUE_KINDS


class Retriever:
    """Searches one project's index the configured way."""

    def __init__(self, index: VectorIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.mode = settings.mode
        self.issues_mode = settings.issues_mode
        self.candidates = settings.candidates
        self.dense_in_memory = settings.dense_in_memory
        self.dense_in_memory_max = settings.dense_in_memory_max

    def search(self, query: str, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """The k best passages for a query, best first; ``where`` filters on metadata.

        A search restricted to issues/PRs uses ``issues_mode`` (hybrid wins on duplicates),
        anything else ``mode`` (dense wins on docs questions): see docs/retrieval.md.
        """
        mode = self.issues_mode if _only_issues(where) else self.mode
        if mode == "dense":
            return self._dense(query, k, where)
        lexical = self._bm25(query, max(k, self.candidates), where)
        if mode == "bm25":
            return lexical[:k]
        dense = self._dense(query, max(k, self.candidates), where)
        by_id = {h.id: h for h in lexical} | {h.id: h for h in dense}
        dense_scores = {h.id: h.score for h in dense}
        lexical_scores = {h.id: h.score for h in lexical}
        fused = rrf([[h.id for h in dense], [h.id for h in lexical]])[:k]
        hits = []
        for item, score in fused:
            hit = by_id[str(item)]
            scores = {"rrf": round(score, 5)}
            if hit.id in dense_scores:
                scores["dense"] = dense_scores[hit.id]
            if hit.id in lexical_scores:
                scores["bm25"] = lexical_scores[hit.id]
            hits.append(Hit(hit.id, hit.text, hit.metadata, round(score, 5), scores))
        return hits

    def _dense(self, query: str, k: int, where: dict[str, Any] | None) -> list[Hit]:
        """Chroma's query, or (with a filter, when the setting allows) the in-memory vectors."""
        if not where or self.dense_in_memory == "off":
            return self.index.search(query, k=k, where=where)
        view = lexical_view(self.index)
        in_memory = self.dense_in_memory == "on" or len(view) <= self.dense_in_memory_max
        view.keep_vectors(self.index, in_memory)
        if not in_memory:
            return self.index.search(query, k=k, where=where)
        vector = QUERY_VECTORS.vector(self.index.embedder, query)
        return [Hit(pid, text, meta, score, {"dense": score})
                for pid, text, meta, score in view.dense_search(vector, k, where)]

    def _bm25(self, query: str, k: int, where: dict[str, Any] | None) -> list[Hit]:
        view = lexical_view(self.index)
        hits = []
        for pid, text, meta, score in view.search(query, k, where):
            rounded = round(score, 4)
            hits.append(Hit(pid, text, meta, rounded, {"bm25": rounded}))
        return hits
