"""The BM25 view of a project's collection, kept in step with it by applying only the changes.

A view is built once from every stored passage; after that each search reads the
collection's change log (entries since the last sync, minus a ``WINDOW`` to cover
writers whose clocks or commits lag) and re-reads just the passages those entries
name: present ones are (re)indexed, missing ones removed. That is correct whatever
the order of the entries, and with any number of writing processes. A missed change
cannot stay silent: the live count is compared with ``collection.count()`` on every
sync, the full id list is reconciled every ``RECONCILE_S``, and a view that was idle
longer than the log keeps entries is rebuilt.

A view can also keep the passages' vectors (``keep_vectors``, for filtered dense search
in memory, ``dense.py``): they are read with the texts and synced the same way.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.providers.vector_index import LOG_RETENTION_NS, Metadata, VectorIndex
from assistant.retrieval.dense import VectorRows, chroma_score
from assistant.retrieval.filters import FilterColumns
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.postings import IncrementalBM25

WINDOW_NS = 60 * 10**9  # change-log entries re-read behind the newest one seen
RECONCILE_S = 600.0  # how often the full id list is compared anyway


@dataclass
class SyncStats:
    """What the syncs of one view did (for tests and the benchmark)."""

    rebuilds: int = 0
    deltas: int = 0
    reconciles: int = 0
    applied: int = 0


class LexicalView:
    """Slot-indexed passages of one collection with their BM25 postings and filter columns."""

    def __init__(self, vectors: bool = False) -> None:
        self.lock = threading.RLock()
        self.has_vectors = vectors
        self.stats = SyncStats()
        self._token = uuid.uuid4().hex[:8]
        self._version = 0
        self._reset()

    def _reset(self) -> None:
        self.bm25 = IncrementalBM25()
        self._ids: list[str | None] = []
        self._texts: list[str | None] = []
        self._metas: list[Metadata | None] = []
        self._slot: dict[str, int] = {}
        self.vectors = VectorRows()
        self.filters = FilterColumns(self._metas)
        self._cursor = 0
        self._applied: dict[str, int] = {}
        self._synced_at = self._reconciled_at = time.time()
        self._built = False

    # ------------------------------------------------------------------ what callers read

    @property
    def fingerprint(self) -> str:
        """Changes whenever the view's passages (or their metadata) change."""
        return f"{self._token}:{self._version}"

    @property
    def ids(self) -> list[str]:
        """Ids of the live passages, in slot order."""
        return [i for i in self._ids if i is not None]

    @property
    def texts(self) -> list[str]:
        return [t for i, t in zip(self._ids, self._texts, strict=True) if i is not None]

    @property
    def metadatas(self) -> list[Metadata]:
        return [m for i, m in zip(self._ids, self._metas, strict=True) if i is not None]

    def __len__(self) -> int:
        return self.bm25.alive_count

    def passage(self, slot: int) -> tuple[str, str, Metadata]:
        """Id, text and metadata of a live slot."""
        return str(self._ids[slot]), str(self._texts[slot]), dict(self._metas[slot] or {})

    def search(self, query: str, k: int, where: dict[str, Any] | None = None
               ) -> list[tuple[str, str, Metadata, float]]:
        """The k best (id, text, metadata, score) for a query among passages passing ``where``.

        Ties go to the smaller id, as in a fresh build (whose slots are in id order).
        """
        with self.lock:
            slots, scores = self.bm25.score(tokenize(query))
            keep = scores > 0
            if where:
                keep &= self.filters.mask(where)[slots]
            slots, scores = slots[keep], scores[keep]
            if len(slots) > k:
                kth = np.partition(scores, len(scores) - k)[len(scores) - k]
                near = scores >= kth
                slots, scores = slots[near], scores[near]
            ranked = sorted(zip(slots.tolist(), scores.tolist(), strict=True),
                            key=lambda pair: (-pair[1], self._ids[pair[0]]))
            return [(*self.passage(slot), score) for slot, score in ranked[:k]]

    def dense_search(self, query: np.ndarray, k: int, where: dict[str, Any] | None = None
                     ) -> list[tuple[str, str, Metadata, float]]:
        """The k nearest (id, text, metadata, score) by cosine among passages passing ``where``.

        Exact (Chroma's HNSW is approximate); scores as ``VectorIndex.search`` gives them;
        ties go to the smaller id. Needs ``keep_vectors``.
        """
        with self.lock:
            if not self.has_vectors:
                raise RuntimeError("this view keeps no vectors: call keep_vectors first")
            allowed = self.bm25.alive()
            if where:
                allowed = allowed & self.filters.mask(where)
            slots, sims = self.vectors.top(query, allowed, k)
            ranked = sorted(zip(slots.tolist(), sims.tolist(), strict=True),
                            key=lambda pair: (-pair[1], self._ids[pair[0]]))
            return [(*self.passage(slot), chroma_score(sim)) for slot, sim in ranked[:k]]

    def keep_vectors(self, index: VectorIndex, keep: bool = True) -> None:
        """Start keeping the passages' vectors (one full read), or drop them."""
        with self.lock:
            if keep == self.has_vectors:
                return
            self.has_vectors = keep
            if keep:
                self.rebuild(index)
            else:
                self.vectors = VectorRows()

    # ------------------------------------------------------------------ changing it

    def _changed(self) -> None:
        self._version += 1

    def _add(self, pid: str, text: str, meta: Metadata, vector: np.ndarray | None = None
             ) -> None:
        old = self._slot.get(pid)
        if old is not None and self._texts[old] == text:
            if vector is not None:
                self.vectors.set(old, vector)
            if self._metas[old] != meta:
                self._metas[old] = meta
                self.filters.changed(old)
                self._changed()
            return
        if old is not None:
            self._remove(pid)
        slot = self.bm25.add(tokenize(text))
        self._ids.append(pid)
        self._texts.append(text)
        self._metas.append(meta)
        self._slot[pid] = slot
        if vector is not None:
            self.vectors.set(slot, vector)
        self.filters.changed(slot)
        self._changed()

    def _remove(self, pid: str) -> None:
        slot = self._slot.pop(pid, None)
        if slot is None:
            return
        self.bm25.remove(slot, tokenize(str(self._texts[slot])))
        self._ids[slot] = self._texts[slot] = self._metas[slot] = None
        self.filters.removed()
        self._changed()

    def _compact(self) -> None:
        kept = self.bm25.compact().tolist()
        self._ids[:] = [self._ids[s] for s in kept]
        self._texts[:] = [self._texts[s] for s in kept]
        self._metas[:] = [self._metas[s] for s in kept]
        self._slot = {str(pid): slot for slot, pid in enumerate(self._ids)}
        self.vectors.keep(np.asarray(kept, dtype=np.int64))
        self.filters.reset()

    def build(self, ids: Sequence[str], texts: Sequence[str], metas: Sequence[Metadata],
              vectors: np.ndarray | None = None) -> None:
        """Replace everything with these passages (one bulk build; row i of vectors is ids[i])."""
        self._reset()
        if vectors is not None:
            self.vectors.fill(vectors)
        self._token = uuid.uuid4().hex[:8]
        self.bm25.extend(tokenize(t) for t in texts)
        self._ids.extend(ids)
        self._texts.extend(texts)
        self._metas.extend(metas)
        self._slot = {pid: slot for slot, pid in enumerate(ids)}
        self._changed()

    def apply(self, touched: Sequence[str],
              current: dict[str, tuple[str, Metadata]] | dict[str, tuple[str, Metadata, np.ndarray]]
              ) -> None:
        """Bring the touched ids in line with what the collection holds for them now."""
        for pid in touched:
            if pid in current:
                self._add(pid, *current[pid])
            else:
                self._remove(pid)
        if self.bm25.needs_merge():
            self._compact()

    # ------------------------------------------------------------------ staying in step

    def rebuild(self, index: VectorIndex) -> None:
        """Read every passage again (the cursor is taken first, so no change is skipped)."""
        cursor = time.time_ns()
        seen = {c.entry: c.seq for c in index.changes_since(cursor - WINDOW_NS)}
        if self.has_vectors:
            self.build(*index.documents_with_vectors())
        else:
            self.build(*index.documents())
        self._cursor, self._applied = cursor, seen
        self._built = True
        self.stats.rebuilds += 1

    def sync(self, index: VectorIndex) -> None:
        """Apply the collection's changes since the last sync (or rebuild when unknown)."""
        with self.lock:
            now = time.time()
            idle_ns = (now - self._synced_at) * 1e9
            if not self._built:
                self.rebuild(index)
            elif not index.has_change_log or idle_ns > LOG_RETENTION_NS - 2 * WINDOW_NS:
                self._resync_by_ids(index)
            else:
                self._apply_log(index)
            if len(self) != index.count() or now - self._reconciled_at > RECONCILE_S:
                self._resync_by_ids(index)
            self._synced_at = now

    def _apply_log(self, index: VectorIndex) -> None:
        fresh = [c for c in index.changes_since(self._cursor - WINDOW_NS)
                 if c.entry not in self._applied]
        if not fresh:
            return
        touched = list(dict.fromkeys(pid for c in fresh for pid in c.ids))
        self.apply(touched, self._read(index, touched))
        for change in fresh:
            self._applied[change.entry] = change.seq
        self._cursor = max(self._cursor, *(c.seq for c in fresh))
        horizon = self._cursor - 2 * WINDOW_NS
        self._applied = {e: s for e, s in self._applied.items() if s >= horizon}
        self.stats.deltas += 1
        self.stats.applied += len(touched)

    def _read(self, index: VectorIndex, ids: Sequence[str]
              ) -> dict[str, tuple[str, Metadata]] | dict[str, tuple[str, Metadata, np.ndarray]]:
        return index.passages_with_vectors(ids) if self.has_vectors else index.passages(ids)

    def _resync_by_ids(self, index: VectorIndex) -> None:
        """Compare the full id list; apply the difference (the fallback of last resort)."""
        self._reconciled_at = time.time()
        cursor = time.time_ns()
        stored = index.ids()
        mine = set(self._slot)
        if not mine:
            self.rebuild(index)
            return
        touched = sorted((stored - mine) | (mine - stored))
        if len(touched) > max(1000, len(stored) // 4):
            self.rebuild(index)
            return
        self.apply(touched, self._read(index, touched))
        self._cursor = max(self._cursor, cursor - WINDOW_NS)
        self.stats.reconciles += 1


_VIEWS: dict[str, LexicalView] = {}
_VIEWS_LOCK = threading.Lock()


def lexical_view(index: VectorIndex) -> LexicalView:
    """The process's BM25 view of an index, brought up to date with the collection."""
    with _VIEWS_LOCK:
        view = _VIEWS.setdefault(index.key, LexicalView())
    view.sync(index)
    return view
