"""What the chains, the CLI and the API search with: dense, BM25, or both fused.

The BM25 side is built from the passages stored in the project's collection, so
it can never disagree with the vector side (one source of truth, also with a
Chroma server and several workers). It is rebuilt when the set of passage ids
changes, which a cheap id listing detects.
"""

from __future__ import annotations

import hashlib
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.providers.vector_index import Hit, Metadata, VectorIndex
from assistant.retrieval.fusion import rrf
from assistant.retrieval.lexical import BM25, top_k
from assistant.settings import RetrievalSettings

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$in": lambda value, arg: value in arg,
    "$nin": lambda value, arg: value not in arg,
    "$gte": lambda value, arg: value is not None and value >= arg,
    "$lte": lambda value, arg: value is not None and value <= arg,
    "$gt": lambda value, arg: value is not None and value > arg,
    "$lt": lambda value, arg: value is not None and value < arg,
}


def matches(meta: Metadata, where: dict[str, Any] | None) -> bool:
    """Whether metadata passes a Chroma-style filter ($and, $or and comparison operators)."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(matches(meta, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(meta, c) for c in cond):
                return False
        else:
            value = meta.get(key)
            for op, arg in (cond if isinstance(cond, dict) else {"$eq": cond}).items():
                if op not in _OPS:
                    raise ValueError(f"unsupported filter operator {op}")
                if not _OPS[op](value, arg):
                    return False
    return True


@dataclass
class _LexicalView:
    fingerprint: str
    ids: list[str]
    texts: list[str]
    metadatas: list[Metadata]
    bm25: BM25
    mask_cache: dict[str, np.ndarray] = field(default_factory=dict)


_VIEWS: dict[str, _LexicalView] = {}
_VIEWS_LOCK = threading.Lock()


def _fingerprint(ids: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def lexical_view(index: VectorIndex) -> _LexicalView:
    """The BM25 view of an index, rebuilt only when its passages changed."""
    fingerprint = _fingerprint(index.ids())
    with _VIEWS_LOCK:
        view = _VIEWS.get(index.key)
        if view is not None and view.fingerprint == fingerprint:
            return view
    ids, texts, metadatas = index.documents()
    view = _LexicalView(fingerprint, ids, texts, metadatas, BM25(texts))
    with _VIEWS_LOCK:
        _VIEWS[index.key] = view
    return view


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

    def search(self, query: str, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """The k best passages for a query, best first; ``where`` filters on metadata.

        A search restricted to issues/PRs uses ``issues_mode`` (hybrid wins on duplicates),
        anything else ``mode`` (dense wins on docs questions): see docs/retrieval.md.
        """
        mode = self.issues_mode if _only_issues(where) else self.mode
        if mode == "dense":
            return self.index.search(query, k=k, where=where)
        lexical = self._bm25(query, max(k, self.candidates), where)
        if mode == "bm25":
            return lexical[:k]
        dense = self.index.search(query, k=max(k, self.candidates), where=where)
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

    def _bm25(self, query: str, k: int, where: dict[str, Any] | None) -> list[Hit]:
        view = lexical_view(self.index)
        if not view.ids:
            return []
        mask = None
        if where:
            mask = np.array([matches(m, where) for m in view.metadatas], dtype=bool)
        scores = view.bm25.scores(query)
        picked = [i for i in top_k(scores, k, mask) if scores[i] > 0]
        return [
            Hit(view.ids[i], view.texts[i], dict(view.metadatas[i]), round(float(scores[i]), 4),
                {"bm25": round(float(scores[i]), 4)})
            for i in picked
        ]
