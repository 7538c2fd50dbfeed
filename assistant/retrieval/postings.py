"""BM25 over a set of passages that grows and shrinks in place, scored exactly like ``bm25s``.

``bm25s`` (the ``lucene`` variant that ``lexical.BM25`` uses) bakes N, the document
frequencies and the average length into its matrix, so one new passage means a full
rebuild. Here the postings keep raw term counts and the statistics are applied at query
time, which gives the same scores after any sequence of adds and removes:

    idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
    score(d) = sum over query terms t (repeats count) of
               idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / avglen))

Postings live in a sorted term-major array (built in bulk or at a merge) plus a small
per-term tail of recent additions; removed passages are tombstones until the next merge.
Only the passages that contain a query term are scored.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

EMPTY = "\u0000"  # what an empty passage indexes, as in lexical.BM25
MERGE_MIN = 200_000  # tail entries before a merge is considered
MERGE_SHARE = 0.125  # ... and the tail's size relative to the sorted part
DEAD_SHARE = 0.25  # tombstoned slots (of all slots) that trigger a compaction


class _Grow:
    """A numpy array with amortised appends."""

    def __init__(self, dtype: type, fill: object = 0) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0
        self._fill = fill

    def ensure(self, size: int) -> None:
        if size > len(self.data):
            grown = np.full(max(size, 2 * len(self.data)), self._fill, dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.size = max(self.size, size)

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class IncrementalBM25:
    """BM25 postings over numbered slots; ``add`` and ``remove`` cost one passage's terms."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        self._df = _Grow(np.int64)
        self._length = _Grow(np.float64)
        self._alive = _Grow(np.bool_, False)
        self.alive_count = 0
        self._total_length = 0.0
        self._indptr = np.zeros(1, dtype=np.int64)  # sorted part, term-major
        self._docs = np.zeros(0, dtype=np.int32)
        self._tfs = np.zeros(0, dtype=np.float32)
        self._tail: dict[int, tuple[array[int], array[int]]] = {}
        self._tail_size = 0

    @property
    def slots(self) -> int:
        """Slots handed out so far (alive or removed)."""
        return self._alive.size

    def alive(self) -> np.ndarray:
        """Whether each slot holds a live passage."""
        return self._alive.view()

    def _term(self, term: str) -> int:
        tid = self.vocab.get(term)
        if tid is None:
            tid = self.vocab[term] = len(self.vocab)
            self._df.ensure(tid + 1)
        return tid

    def _new_slot(self, terms: Sequence[str]) -> tuple[int, Counter[str]]:
        terms = list(terms) or [EMPTY]
        slot = self.slots
        self._alive.ensure(slot + 1)
        self._length.ensure(slot + 1)
        self._alive.data[slot] = True
        self._length.data[slot] = len(terms)
        self.alive_count += 1
        self._total_length += len(terms)
        return slot, Counter(terms)

    def add(self, terms: Sequence[str]) -> int:
        """Index one passage's terms; returns its slot."""
        slot, counts = self._new_slot(terms)
        for term, tf in counts.items():
            tid = self._term(term)
            self._df.data[tid] += 1
            docs, tfs = self._tail.setdefault(tid, (array("i"), array("i")))
            docs.append(slot)
            tfs.append(tf)
        self._tail_size += len(counts)
        return slot

    def extend(self, passages: Iterable[Sequence[str]]) -> list[int]:
        """Index many passages at once (one sort, no per-term tails); returns their slots."""
        term_ids, docs, tfs, slots = array("i"), array("i"), array("i"), []
        for terms in passages:
            slot, counts = self._new_slot(terms)
            slots.append(slot)
            ids = [self._term(t) for t in counts]
            term_ids.extend(ids)
            docs.extend([slot] * len(ids))
            tfs.extend(counts.values())
        new_terms = np.frombuffer(term_ids, dtype=np.int32).astype(np.int64)
        np.add.at(self._df.data, new_terms, 1)
        self._merge(new_terms, np.frombuffer(docs, dtype=np.int32),
                    np.frombuffer(tfs, dtype=np.int32).astype(np.float32))
        return slots

    def remove(self, slot: int, terms: Sequence[str]) -> None:
        """Drop a passage (its terms as given to ``add``); its postings become tombstones."""
        if not self._alive.data[slot]:
            return
        terms = list(terms) or [EMPTY]
        for term in set(terms):
            self._df.data[self.vocab[term]] -= 1
        self._alive.data[slot] = False
        self.alive_count -= 1
        self._total_length -= len(terms)

    def needs_merge(self) -> bool:
        """Whether the tail or the tombstones have grown enough to fold in."""
        dead = self.slots - self.alive_count
        return (self._tail_size > max(MERGE_MIN, MERGE_SHARE * len(self._docs))
                or dead > max(1000, DEAD_SHARE * self.slots))

    def compact(self) -> np.ndarray:
        """Fold the tail in and renumber the live slots 0..n-1; returns old slot per new slot."""
        alive = self.alive()
        kept = np.flatnonzero(alive)
        renumber = np.full(self.slots, -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        self._merge(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32),
                    np.zeros(0, dtype=np.float32), renumber)
        length = self._length.view()[kept].copy()
        for grow, values in ((self._alive, np.ones(len(kept), dtype=np.bool_)),
                             (self._length, length)):
            grow.data[:] = grow._fill
            grow.size = 0
            grow.ensure(len(kept))
            grow.data[: len(kept)] = values
        return kept

    def _merge(self, terms: np.ndarray, docs: np.ndarray, tfs: np.ndarray,
               renumber: np.ndarray | None = None) -> None:
        """Rebuild the sorted part from itself, the tail and new entries, dropping tombstones."""
        base_terms = np.repeat(np.arange(len(self._indptr) - 1), np.diff(self._indptr))
        tail_terms = [np.full(len(d), t, dtype=np.int64) for t, (d, _) in self._tail.items()]
        tail_docs = [np.frombuffer(d, dtype=np.int32) for d, _ in self._tail.values()]
        tail_tfs = [np.frombuffer(f, dtype=np.int32).astype(np.float32)
                    for _, f in self._tail.values()]
        all_terms = np.concatenate([base_terms, *tail_terms, terms])
        all_docs = np.concatenate([self._docs, *tail_docs, docs]).astype(np.int32)
        all_tfs = np.concatenate([self._tfs, *tail_tfs, tfs]).astype(np.float32)
        live = self.alive()[all_docs]
        all_terms, all_docs, all_tfs = all_terms[live], all_docs[live], all_tfs[live]
        if renumber is not None:
            all_docs = renumber[all_docs].astype(np.int32)
        order = np.lexsort((all_docs, all_terms))
        self._docs, self._tfs = all_docs[order], all_tfs[order]
        counts = np.bincount(all_terms, minlength=len(self.vocab))
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._tail, self._tail_size = {}, 0

    def _postings(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        docs, tfs = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if tid + 1 < len(self._indptr):
            start, end = self._indptr[tid], self._indptr[tid + 1]
            docs, tfs = self._docs[start:end], self._tfs[start:end]
        if tid in self._tail:
            tail_docs, tail_tfs = self._tail[tid]
            docs = np.concatenate([docs, np.frombuffer(tail_docs, dtype=np.int32)])
            tfs = np.concatenate([tfs, np.frombuffer(tail_tfs, dtype=np.int32)])
        return docs, tfs

    def score(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The live slots containing any of the terms, and their BM25 scores (float32)."""
        wanted = Counter(self.vocab[t] for t in terms if t in self.vocab)
        if not wanted or not self.alive_count:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        n, alive = self.alive_count, self.alive()
        avg = self._total_length / n
        length = self._length.view()
        all_docs, all_scores = [], []
        for tid, repeats in wanted.items():
            df = int(self._df.data[tid])
            if df <= 0:
                continue
            docs, tfs = self._postings(tid)
            keep = alive[docs]
            docs, tfs = docs[keep], tfs[keep].astype(np.float64)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            norm = self.k1 * (1 - self.b + self.b * length[docs] / avg)
            all_docs.append(docs)
            all_scores.append(repeats * idf * tfs / (tfs + norm))
        if not all_docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(all_docs) == 1:
            return all_docs[0].astype(np.int64), all_scores[0].astype(np.float32)
        slots, where = np.unique(np.concatenate(all_docs), return_inverse=True)
        totals = np.bincount(where, weights=np.concatenate(all_scores), minlength=len(slots))
        return slots.astype(np.int64), totals.astype(np.float32)

    def dense_scores(self, terms: Sequence[str]) -> np.ndarray:
        """One score per slot (zeros for removed slots and passages without the terms)."""
        out = np.zeros(self.slots, dtype=np.float32)
        slots, scores = self.score(terms)
        out[slots] = scores
        return out
