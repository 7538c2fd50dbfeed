"""BM25 over passages (``bm25s``), with a tokenizer that handles English, code and Chinese.

Chinese has no spaces, so runs of CJK characters become overlapping character
bigrams (plus unigrams, so one-character words still match); everything else is
lower-cased word pieces with English stopwords removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.textrules import CJK

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for",
        "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my",
        "no", "not", "of", "on", "or", "our", "so", "such", "that", "the", "their", "then",
        "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where",
        "which", "who", "why", "will", "with", "would", "you", "your",
    }
)


def tokenize(text: str) -> list[str]:
    """BM25 terms of a text: word pieces, and CJK unigrams plus bigrams."""
    terms: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        piece = match.group(0)
        if CJK.match(piece):
            terms.extend(piece)
            terms.extend(piece[i : i + 2] for i in range(len(piece) - 1))
        elif piece not in _STOPWORDS:
            terms.append(piece)
    return terms


class BM25:
    """A BM25 index over a fixed list of texts; scores every text for a query."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        self.size = len(texts)
        self._model: Any = bm25s.BM25(k1=k1, b=b)
        corpus = [tokenize(t) or ["\u0000"] for t in texts]
        if corpus:
            self._model.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per indexed text (zeros when no term matches)."""
        terms = tokenize(query)
        if not self.size or not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[int]:
    """Indices of the k best scores, best first, among the allowed ones (ties: lower index)."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    return sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
