"""BM25 tokenizer, rank fusion, and the retriever's three modes over a real index."""

from pathlib import Path

import numpy as np

from assistant.retrieval.fusion import rrf
from assistant.retrieval.lexical import BM25, tokenize, top_k
from assistant.retrieval.retriever import Retriever, matches
from assistant.settings import RetrievalSettings, Settings
from ingest.service import ingest_docs
from tests.helpers import counting_ctx


def test_tokenizer_handles_english_code_and_chinese() -> None:
    assert tokenize("How do I set cache_size_mb?") == ["set", "cache", "size", "mb"]
    assert tokenize("数据库锁定") == ["数", "据", "库", "锁", "定", "数据", "据库", "库锁", "锁定"]
    bm25 = BM25(["数据库 被 锁定 了", "how to compact the database", "unrelated text"])
    assert int(np.argmax(bm25.scores("数据库锁定怎么办"))) == 0
    assert int(np.argmax(bm25.scores("compact database"))) == 1
    assert not bm25.scores("zzzz").any() and not BM25([]).scores("x").size


def test_rrf_and_top_k() -> None:
    fused = rrf([["a", "b", "c"], ["c", "a", "d"]])
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    scores = np.array([0.1, 0.9, 0.5, 0.9])
    assert top_k(scores, 3) == [1, 3, 2]
    assert top_k(scores, 3, mask=np.array([True, False, True, False])) == [2, 0]


def test_where_filters_like_chroma() -> None:
    meta = {"source_kind": "issue", "number": 5, "language": "zh"}
    assert matches(meta, {"source_kind": "issue"})
    assert matches(meta, {"$and": [{"number": {"$lt": 6}}, {"language": {"$in": ["zh"]}}]})
    assert not matches(meta, {"$or": [{"number": {"$gte": 6}}, {"source_kind": "doc"}]})


def test_modes_filters_and_a_changed_index(settings: Settings, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "lock.md").write_text("# Locked database\n\nRun `kvlite unlock` when the file is "
                                  "locked by a crashed process.\n")
    (root / "tune.md").write_text("# Tuning\n\nRaise cache_size_mb for faster reads.\n")
    ctx, _ = counting_ctx(settings)
    ingest_docs(settings, ctx.index(), root)
    for mode in ("dense", "bm25", "hybrid"):
        retriever = Retriever(ctx.index(), RetrievalSettings(mode=mode))
        hits = retriever.search("database is locked, how do I unlock it?", k=2)
        assert hits[0].metadata["path"] == "lock.md", mode
        assert set(hits[0].scores) >= ({"dense"} if mode == "dense" else {"bm25"})
    hybrid = Retriever(ctx.index(), RetrievalSettings(mode="hybrid"))
    assert hybrid.search("cache_size_mb", k=2, where={"path": "lock.md"})[0].metadata[
        "path"] == "lock.md"
    (root / "backup.md").write_text("# Backups\n\nUse kvlite backup for snapshots.\n")
    ingest_docs(settings, ctx.index(), root)  # the BM25 view must see the new page
    assert hybrid.search("snapshots backup", k=1)[0].metadata["path"] == "backup.md"
    bm25_only = Retriever(ctx.index(), RetrievalSettings(mode="bm25"))
    assert bm25_only.search("snapshots backup", k=1)[0].metadata["path"] == "backup.md"
