"""Exact cosine search over a view's stored vectors, restricted to the rows a filter allows.

Chroma's own ``where`` filtering dominates a filtered query (43 ms at 11.6k passages); with
the passages' vectors in memory a filtered dense search is a mask from the filter columns
and one matrix-vector product. Rows are unit-normalised on the way in, so cosine = dot, and
scores come out exactly as ``VectorIndex.search`` makes them from Chroma's cosine distance
(``round(1 - distance, 4)``). Memory: 4 B x dim per passage (100k x 384 = 154 MB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GATHER_SHARE = 0.25  # below this share of allowed rows, multiply only those rows


class VectorRows:
    """Unit-normalised float32 vectors by slot, growing by a quarter when full."""

    def __init__(self) -> None:
        self.data = np.zeros((0, 0), dtype=np.float32)

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    @staticmethod
    def _unit(vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def fill(self, vectors: np.ndarray) -> None:
        """Replace every row (a bulk build: row i is slot i)."""
        self.data = self._unit(vectors) if len(vectors) else np.zeros((0, 0), dtype=np.float32)

    def set(self, slot: int, vector: Sequence[float] | np.ndarray) -> None:
        row = self._unit(np.asarray(vector, dtype=np.float32))
        if self.data.shape[1] != len(row):
            if len(self.data) and self.data.shape[1]:
                raise ValueError(f"vector of {len(row)} dims in a view of {self.data.shape[1]}")
            self.data = np.zeros((0, len(row)), dtype=np.float32)
        if slot >= len(self.data):
            grown = np.zeros((max(slot + 1, len(self.data) + len(self.data) // 4 + 1024),
                              len(row)), dtype=np.float32)  # +25%: the matrix is big
            grown[: len(self.data)] = self.data
            self.data = grown
        self.data[slot] = row

    def keep(self, kept: np.ndarray) -> None:
        """Renumber after a compaction: new slot n holds old slot ``kept[n]``."""
        if len(self.data):
            self.data = self.data[kept]

    def top(self, query: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Slots and cosine similarities of the (up to) k best allowed rows, unordered.

        ``allowed`` is a boolean mask over slots. A small allowed share multiplies only
        those rows; a large one multiplies the whole matrix (cheaper than gathering rows).
        """
        rows = np.flatnonzero(allowed)
        if not len(rows) or not self.data.shape[1]:
            return rows[:0], np.zeros(0, dtype=np.float32)
        unit = self._unit(query)
        if len(rows) < GATHER_SHARE * len(allowed):
            scores = self.data[rows] @ unit
        else:
            scores = (self.data[: len(allowed)] @ unit)[rows]
        if len(rows) > k:
            near = np.argpartition(-scores, k - 1)[:k]
            kth = scores[near].min()
            near = np.flatnonzero(scores >= kth)  # keep ties at the k-th score for the id order
            rows, scores = rows[near], scores[near]
        return rows, scores


def chroma_score(similarity: float) -> float:
    """The score ``VectorIndex.search`` gives a hit at this cosine similarity."""
    distance = np.float32(1.0) - np.float32(similarity)  # Chroma's cosine distance, float32
    return round(1.0 - float(distance), 4)
