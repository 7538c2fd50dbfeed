"""Incremental, idempotent sync of a source's passages into the index.

The manifest is the index itself: every passage id is a hash of its project,
path and text, and its metadata carries ``source`` and a ``meta_hash``. So:
- an unchanged passage is never embedded again;
- a passage whose text is unchanged but whose metadata changed (an issue's
  labels or state) gets its metadata updated, without embedding;
- new passages are written before stale ones are deleted, so a run killed
  halfway leaves nothing missing, and the next run converges exactly.
Keeping the manifest inside the collection means it cannot drift from what is
indexed, also when several workers share one Chroma server.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from assistant.providers.vector_index import Chunk, Metadata, VectorIndex
from ingest.files import Skipped
from ingest.parallel import EmbedBatches, batch_embedder

Progress = Callable[[int, int], None]


@dataclass
class SyncReport:
    """What a sync changed, by source item (file, issue) and by passage."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_relabelled: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    def merge(self, other: SyncReport) -> None:
        """Add another report's counts to this one (for syncs done in several rounds)."""
        for name in ("added", "updated", "unchanged", "removed", "skipped"):
            getattr(self, name).extend(getattr(other, name))
        self.chunks_embedded += other.chunks_embedded
        self.chunks_relabelled += other.chunks_relabelled
        self.chunks_deleted += other.chunks_deleted
        self.chunks_total = other.chunks_total
        self.seconds = round(self.seconds + other.seconds, 2)


def meta_hash(metadata: Metadata) -> str:
    """A short hash of a passage's metadata (without the hash itself)."""
    body = {k: v for k, v in metadata.items() if k != "meta_hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def sync_source(
    index: VectorIndex,
    source: str,
    chunks_by_path: dict[str, Sequence[Chunk]],
    *,
    complete: bool = True,
    unchanged: set[str] | None = None,
    existing: dict[str, Metadata] | None = None,
    batch_size: int = 32,
    write_batch: int = 512,
    workers: int = 1,
    progress: Progress | None = None,
) -> SyncReport:
    """Make the index hold ``chunks_by_path`` for ``source``.

    With ``complete`` the given paths are everything the source holds, and any
    other path of the source is removed; otherwise only the given paths are
    replaced (an empty list removes that path), as for an incremental issue sync.
    Paths in ``unchanged`` keep what they have (the caller saw their content hash
    match); ``existing`` saves reading the source's entries again.
    """
    started = time.perf_counter()
    report = SyncReport()
    if existing is None:
        existing = source_entries(index, source)
    existing_by_path: dict[str, set[str]] = {}
    for chunk_id, meta in existing.items():
        existing_by_path.setdefault(str(meta.get("path", "")), set()).add(chunk_id)

    to_embed: list[Chunk] = []
    relabel: list[Chunk] = []
    wanted: set[str] = set()
    for path in sorted(unchanged or ()):
        wanted |= existing_by_path.get(path, set())
        report.unchanged.append(path)
    for path, chunks in sorted(chunks_by_path.items()):
        ids = {c.id for c in chunks}
        wanted |= ids
        changed_meta = False
        for chunk in chunks:
            chunk.metadata["source"] = source
            chunk.metadata["meta_hash"] = meta_hash(chunk.metadata)
            if chunk.id not in existing:
                to_embed.append(chunk)
            elif existing[chunk.id].get("meta_hash") != chunk.metadata["meta_hash"]:
                relabel.append(chunk)
                changed_meta = True
        before = existing_by_path.get(path, set())
        if not chunks:
            if before:
                report.removed.append(path)
        elif not before:
            report.added.append(path)
        elif before == ids and not changed_meta:
            report.unchanged.append(path)
        else:
            report.updated.append(path)
    if complete:
        report.removed = sorted(set(existing_by_path) - set(chunks_by_path) - (unchanged or set()))
        considered = set(existing)
    else:
        considered = {i for p in chunks_by_path for i in existing_by_path.get(p, set())}

    with batch_embedder(index.embedder, len(to_embed), workers) as embed_batches:
        _embed_and_write(index, to_embed, embed_batches, batch_size, write_batch, progress)
    index.update_metadata([c.id for c in relabel], [c.metadata for c in relabel])
    stale = considered - wanted
    index.delete(sorted(stale))
    report.chunks_embedded = len(to_embed)
    report.chunks_relabelled = len(relabel)
    report.chunks_deleted = len(stale)
    report.chunks_total = len(set(existing) - stale | wanted)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def source_entries(index: VectorIndex, source: str) -> dict[str, Metadata]:
    """Id → metadata of everything indexed for a source (the manifest)."""
    return index.entries(where={"source": source})


def known_items(existing: dict[str, Metadata]) -> dict[str, str]:
    """Path → item hash of the items already indexed (for skipping unchanged files)."""
    return {str(m["path"]): str(m["item_hash"]) for m in existing.values() if m.get("item_hash")}


def _embed_and_write(
    index: VectorIndex, chunks: list[Chunk], embed_batches: EmbedBatches, batch_size: int,
    write_batch: int, progress: Progress | None,
) -> None:
    """Embed in batches of ``batch_size``; write every ``write_batch`` passages.

    Chroma's cost per write call is high, so writes are grouped, and each group is
    written in a background thread while the next is embedded. A crash loses at
    most the group not yet written (it is embedded again on the next run).
    """
    total = len(chunks)
    # an embedder that pads each batch to its longest text asks for bigger batches, so texts
    # of like length share one (the ONNX engine: 13.4 passages/s in batches of 32 here)
    batch_size = max(batch_size, getattr(index.embedder, "batch_hint", 0))
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-writer") as writer:
        pending: Future[None] | None = None
        group: list[Chunk] = []
        vectors: list[list[float]] = []
        batches = [chunks[s : s + batch_size] for s in range(0, total, batch_size)]
        embedded = embed_batches([[c.text for c in b] for b in batches])
        for start, batch, batch_vectors in zip(
            range(0, total, batch_size), batches, embedded, strict=True
        ):
            vectors += batch_vectors
            group += batch
            if len(group) >= write_batch or start + batch_size >= total:
                if pending is not None:
                    pending.result()
                pending = writer.submit(index.add, group, vectors)
                group, vectors = [], []
            if progress:
                progress(min(start + batch_size, total), total)
        if pending is not None:
            pending.result()
