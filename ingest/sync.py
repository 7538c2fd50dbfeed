"""Incremental, idempotent sync of a source's passages into the index.

Passage ids are content hashes, so a passage that did not change is never
embedded again; new ones are upserted before stale ones are deleted, so a run
killed halfway leaves nothing missing and the next run converges exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.providers.vector_index import Chunk, VectorIndex
from ingest.docs import Skipped

Progress = Callable[[int, int], None]


@dataclass
class SyncReport:
    """What a sync changed, by source file and by passage."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    seconds: float = 0.0


def sync_source(
    index: VectorIndex,
    source: str,
    chunks_by_path: dict[str, Sequence[Chunk]],
    *,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> SyncReport:
    """Make the index hold exactly ``chunks_by_path`` for ``source``."""
    started = time.perf_counter()
    report = SyncReport()
    existing = index.entries(where={"source": source})
    existing_by_path: dict[str, set[str]] = {}
    for chunk_id, meta in existing.items():
        existing_by_path.setdefault(str(meta.get("path", "")), set()).add(chunk_id)

    to_embed: list[Chunk] = []
    wanted: set[str] = set()
    for path, chunks in sorted(chunks_by_path.items()):
        ids = {c.id for c in chunks}
        wanted |= ids
        before = existing_by_path.get(path, set())
        if not before:
            report.added.append(path)
        elif before == ids:
            report.unchanged.append(path)
        else:
            report.updated.append(path)
        for chunk in chunks:
            if chunk.id not in existing:
                chunk.metadata["source"] = source
                to_embed.append(chunk)
    report.removed = sorted(set(existing_by_path) - set(chunks_by_path))

    total = len(to_embed)
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
        batch = to_embed[start : start + batch_size]
        index.add(batch, index.embedder.embed_documents([c.text for c in batch]))
        if progress:
            progress(min(start + batch_size, total), total)
    stale = set(existing) - wanted
    index.delete(sorted(stale))
    report.chunks_embedded = total
    report.chunks_deleted = len(stale)
    report.chunks_total = len(wanted)
    report.seconds = round(time.perf_counter() - started, 2)
    return report
