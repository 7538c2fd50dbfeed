"""Indexes built before issues were keyed by repo: their issue and PR passages (path
``issues/N``, no ``repo`` in the metadata) are re-keyed to ``issues/<repo>/N`` with the repo
their URL names (else the project's main repo), reusing the stored vectors: nothing is
embedded again.

New passages are written before the old ones are deleted, so a run killed halfway loses
nothing, and the next run finishes the job (it is idempotent).
"""

from __future__ import annotations

import logging

from assistant.providers.vector_index import Chunk, VectorIndex
from assistant.repos import repo_of_url
from ingest.docs import chunk_id
from ingest.sync import meta_hash

_log = logging.getLogger(__name__)
STATE_KEY = "issue_keys"
VERSION = "repo"
ISSUE_KINDS = ("issue", "pull_request")


def migrate_issue_keys(index: VectorIndex, main_repo: str, batch: int = 512) -> int:
    """Re-key the index's issue passages that have no repo; returns how many were re-keyed."""
    if index.get_state(STATE_KEY) == VERSION:
        return 0
    ids, vectors, metas = index.vectors({"source_kind": {"$in": list(ISSUE_KINDS)}})
    old = [i for i, m in enumerate(metas) if "repo" not in m]
    if not old:
        index.set_state(STATE_KEY, VERSION)
        return 0
    texts = dict(zip(*index.documents({"source_kind": {"$in": list(ISSUE_KINDS)}})[:2],
                     strict=True))
    by_path: dict[str, list[int]] = {}
    for i in old:
        by_path.setdefault(str(metas[i].get("path", "")), []).append(i)
    moved: list[tuple[Chunk, list[float]]] = []
    for rows in by_path.values():
        rows.sort(key=lambda i: int(metas[i].get("position", 0) or 0))
        seen: dict[str, int] = {}
        for i in rows:
            meta = dict(metas[i])
            found = repo_of_url(str(meta.get("url", "")))
            repo = found.key if found else main_repo
            kind = "pulls" if meta.get("source_kind") == "pull_request" else "issues"
            number = int(meta.get("number", 0) or 0)
            path = f"{kind}/{repo}/{number}" if repo else f"{kind}/{number}"
            meta.update(repo=repo, path=path, duplicate_of_repo="")
            if repo:
                meta["source"] = f"issues:{repo}"
            meta["meta_hash"] = meta_hash(meta)
            text = texts[ids[i]]
            moved.append((Chunk(chunk_id(str(meta.get("project", index.project)), path, text,
                                         seen), text, meta), vectors[i].tolist()))
    for start in range(0, len(moved), batch):
        part = moved[start : start + batch]
        index.add([c for c, _ in part], [v for _, v in part])
    stale = {ids[i] for i in old} - {c.id for c, _ in moved}
    index.delete(sorted(stale))
    index.set_state(STATE_KEY, VERSION)
    _log.warning("Re-keyed %d issue/PR passages of %s by repo (no re-embedding).",
                 len(moved), index.project)
    return len(moved)
