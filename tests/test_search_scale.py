"""Search at scale: the incremental BM25 index, change-log sync across processes, filter
columns and the query-vector cache (no model: a tiny hashing embedder stands in)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest

from assistant.providers.embeddings import NamedEmbeddings
from assistant.providers.vector_index import QUERY_VECTORS, Chunk, QueryVectorCache, VectorIndex
from assistant.retrieval.filters import FilterColumns, matches
from assistant.retrieval.lexical import BM25, tokenize
from assistant.retrieval.postings import IncrementalBM25
from assistant.retrieval.retriever import Retriever
from assistant.retrieval.view import LexicalView, lexical_view
from assistant.settings import RetrievalSettings, Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["database is locked", "how do I compact the store", "cache_size_mb reads",
           "数据库 锁定", "备份 快照", "install from source with make", "the the of",
           "replication lag on followers", "zzzz-unknown-term"]


def _real_passages() -> list[str]:
    """Paragraphs of the example project's EN/ZH docs and of this repo's own docs."""
    files = sorted((ROOT / "examples" / "kvlite").rglob("*.md")) + sorted((ROOT / "docs").glob("*.md"))
    passages = [p.strip() for f in files for p in f.read_text(encoding="utf-8").split("\n\n")]
    return [*[p for p in passages if p][:1500], "", "!!!"]  # plus passages with no terms


class HashEmbedder(NamedEmbeddings):
    """Deterministic 16-d vectors from a text's hash: enough for Chroma, no model."""

    identity = "test:hash16"

    def __init__(self) -> None:
        self.queries: list[str] = []

    def _vector(self, text: str) -> list[float]:
        raw = np.frombuffer(hashlib.sha256(text.encode()).digest()[:16], dtype=np.uint8)
        vector = raw.astype(np.float32) + 1.0
        return (vector / np.linalg.norm(vector)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return self._vector(text)


def _assert_same_scores(index: IncrementalBM25, slots: dict[str, int], live: dict[str, str]
                        ) -> None:
    order = sorted(live)
    fresh = BM25([live[i] for i in order])
    for query in QUERIES:
        expected = fresh.scores(query)
        got = index.dense_scores(tokenize(query))
        np.testing.assert_allclose(got[[slots[i] for i in order]], expected, rtol=1e-5,
                                   atol=1e-6, err_msg=query)
        dead = np.setdiff1d(np.arange(index.slots), [slots[i] for i in order])
        assert not got[dead].any()


def test_incremental_bm25_matches_a_fresh_bm25s_build_after_adds_and_deletes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.retrieval.postings as postings

    monkeypatch.setattr(postings, "MERGE_MIN", 300)  # so merges happen along the way
    texts = _real_passages()
    rng = random.Random(7)
    index = IncrementalBM25()
    live = {f"p{i:05d}": t for i, t in enumerate(texts[:600])}
    slots = dict(zip(live, index.extend(tokenize(t) for t in live.values()), strict=True))
    _assert_same_scores(index, slots, live)
    merges = 0
    pending = [(f"p{i:05d}", t) for i, t in enumerate(texts[600:], start=600)]
    for step in range(6):
        for pid, text in pending[step * 150 : (step + 1) * 150]:
            live[pid] = text
            slots[pid] = index.add(tokenize(text))
        for pid in rng.sample(sorted(live), 120):
            index.remove(slots.pop(pid), tokenize(live.pop(pid)))
        _assert_same_scores(index, slots, live)
        if index.needs_merge():
            kept = index.compact()
            merges += 1
            renumbered = {int(old): new for new, old in enumerate(kept)}
            slots = {pid: renumbered[s] for pid, s in slots.items()}
            assert index.slots == len(live) == index.alive_count
            _assert_same_scores(index, slots, live)
    assert merges >= 2


def test_filter_columns_agree_with_matches_and_follow_changes() -> None:
    rng = random.Random(3)
    metas: list = [{"source_kind": rng.choice(["doc", "issue", "pull_request"]),
                    "number": rng.randint(1, 50), "language": rng.choice(["en", "zh"]),
                    "flag": rng.choice([True, False, 1, 0])} for _ in range(400)]
    for meta in metas[::7]:
        del meta["language"]
    columns = FilterColumns(metas)
    wheres = [{"source_kind": {"$in": ["issue", "pull_request"]}}, {"language": "zh"},
              {"language": {"$ne": "zh"}}, {"flag": True},
              {"$and": [{"number": {"$gte": 10}}, {"number": {"$lt": 20}}]},
              {"$or": [{"source_kind": "doc"}, {"language": {"$nin": ["en"]}}]}]

    def check() -> None:
        for where in wheres:
            expected = [matches(m or {}, where) for m in metas]
            assert columns.mask(where).tolist() == expected, where

    check()
    metas.append({"source_kind": "issue", "number": 15, "language": "zh"})
    columns.changed(len(metas) - 1)
    metas[0] = {"source_kind": "doc", "language": "en", "number": 99}
    columns.changed(0)
    check()
    with pytest.raises(ValueError, match="unsupported"):
        columns.mask({"number": {"$regex": "x"}})


def _index(data_dir: Path, embedder: NamedEmbeddings) -> VectorIndex:
    """A fresh VectorIndex object (own client) on a persistent Chroma dir: another process."""
    from assistant.providers import vector_index

    settings: Settings = get_settings(profile="test", data_dir=data_dir)
    vector_index._CLIENTS.clear()  # a second process would not share the client either
    return VectorIndex.open(settings, embedder, "scale")


def _chunks(texts: list[str], start: int, kind: str = "doc") -> list[Chunk]:
    return [Chunk(f"c{start + i:05d}", t, {"source_kind": kind, "n": start + i})
            for i, t in enumerate(texts)]


def test_delta_sync_across_two_index_objects_on_one_chroma_dir(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    texts = _real_passages()[:300]
    writer = _index(tmp_path / "data", embedder)
    first = _chunks(texts[:200], 0)
    writer.add(first, embedder.embed_documents([c.text for c in first]))
    reader = _index(tmp_path / "data", embedder)
    view = LexicalView()
    view.sync(reader)
    assert len(view) == 200 and view.stats.rebuilds == 1

    new = _chunks(texts[200:260], 200, kind="issue")
    writer.add(new, embedder.embed_documents([c.text for c in new]))
    writer.delete([c.id for c in first[:30]])
    writer.update_metadata([first[40].id], [{"source_kind": "issue", "n": 40}])
    view.sync(reader)
    assert view.stats.rebuilds == 1 and view.stats.deltas == 1 and view.stats.applied == 91
    ids, texts_now, _ = reader.documents()
    assert sorted(view.ids) == ids and len(view) == 230
    got = dict(zip(view.ids, view.metadatas, strict=True))
    assert got[first[40].id]["source_kind"] == "issue"
    fresh = BM25(texts_now)
    for query in QUERIES[:5]:
        expected = sorted(((float(s), i) for s, i in zip(fresh.scores(query), ids, strict=True)
                           if s > 0), key=lambda p: (-p[0], p[1]))[:10]
        hits = [(s, pid) for pid, _, _, s in view.search(query, 10)]
        assert [i for _, i in hits] == [i for _, i in expected], query
    query = " ".join(c.text for c in new[:5])
    issue_ids = {c.id for c in new} | {first[40].id}
    every = [hit[0] for hit in view.search(query, 500)]
    only_issues = [hit[0] for hit in view.search(query, 500, {"source_kind": "issue"})]
    assert only_issues and set(only_issues) <= issue_ids
    assert only_issues == [i for i in every if i in issue_ids]

    view.sync(reader)  # nothing new: no rebuild, no delta
    assert (view.stats.rebuilds, view.stats.deltas) == (1, 1)


def test_a_change_missing_from_the_log_is_caught_by_the_count(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    writer = _index(tmp_path / "data", embedder)
    chunks = _chunks(_real_passages()[:50], 0)
    writer.add(chunks, embedder.embed_documents([c.text for c in chunks]))
    reader = _index(tmp_path / "data", embedder)
    view = LexicalView()
    view.sync(reader)
    extra = _chunks(["a passage written behind the log's back about snapshots"], 50)
    writer._collection.upsert(ids=[extra[0].id], documents=[extra[0].text],
                              metadatas=[extra[0].metadata],
                              embeddings=embedder.embed_documents([extra[0].text]))
    view.sync(reader)
    assert view.stats.reconciles == 1 and len(view) == 51
    assert view.search("snapshots", 1)[0][0] == extra[0].id


def test_retriever_sees_a_new_issue_without_a_rebuild_and_drop_clears_the_log(
        tmp_path: Path) -> None:
    embedder = HashEmbedder()
    index = _index(tmp_path / "data", embedder)
    chunks = _chunks(_real_passages()[:100], 0)
    index.add(chunks, embedder.embed_documents([c.text for c in chunks]))
    retriever = Retriever(index, RetrievalSettings(mode="hybrid"))
    assert retriever.search("database locked", k=3)
    issue = _chunks(["Webhook: compaction stalls when the disk is full (quasarflux)"], 100,
                    kind="issue")
    index.add(issue, embedder.embed_documents([issue[0].text]))
    hits = retriever.search("quasarflux compaction", k=3, where={"source_kind": "issue"})
    assert hits[0].id == issue[0].id and set(hits[0].scores) == {"rrf", "dense", "bm25"}
    view = lexical_view(index)
    # the first search built the view; the first filtered one read it again with the vectors
    assert view.has_vectors and view.stats.rebuilds == 2 and view.stats.deltas >= 1
    second = _chunks(["Webhook: snapshot upload retries forever (zorblatt)"], 101, kind="issue")
    index.add(second, embedder.embed_documents([second[0].text]))
    hits = retriever.search("zorblatt snapshot", k=3, where={"source_kind": "issue"})
    assert hits[0].id == second[0].id and set(hits[0].scores) == {"rrf", "dense", "bm25"}
    assert view.stats.rebuilds == 2 and view.stats.deltas >= 2
    settings = get_settings(profile="test", data_dir=tmp_path / "data")
    VectorIndex.drop(settings, "scale")
    client = index._client
    assert not [c for c in client.list_collections()
                if (c if isinstance(c, str) else c.name).startswith("devrel-scale")]


def test_query_vectors_are_cached_per_embedder_identity_and_text(tmp_path: Path) -> None:
    cache = QueryVectorCache(size=2)
    embedder = HashEmbedder()
    first = cache.vector(embedder, "locked")
    assert cache.vector(embedder, "locked") is first and embedder.queries == ["locked"]
    other = HashEmbedder()
    other.identity = "test:other"
    cache.vector(other, "locked")  # another identity: embedded again
    cache.vector(embedder, "backup")  # evicts the oldest entry
    cache.vector(embedder, "locked")
    assert other.queries == ["locked"] and embedder.queries == ["locked", "backup", "locked"]
    assert (cache.hits, cache.misses) == (1, 4)
    index = _index(tmp_path / "data", embedder)
    index.add(_chunks(["x"], 0), embedder.embed_documents(["x"]))
    before = QUERY_VECTORS.hits
    index.search("a repeated query", k=1)
    index.search("a repeated query", k=1)
    assert QUERY_VECTORS.hits == before + 1
    assert embedder.queries.count("a repeated query") == 1


# ----------------------------------------------------------------------------- in-memory dense

FILTERED = [{"source_kind": {"$in": ["issue", "pull_request"]}}, {"source_kind": "doc"},
            {"$and": [{"source_kind": "doc"}, {"language": "zh"}]},
            {"$or": [{"source_kind": "issue"}, {"language": "en"}]}]


def test_filtered_in_memory_dense_equals_chromas_filtered_query(triage_ctx) -> None:
    index = triage_ctx.index()
    view = LexicalView()
    view.sync(index)
    view.keep_vectors(index)
    assert view.vectors.data.shape[0] == len(view) > 100
    queries = ["database is locked", "how do I compact the store", "数据库 锁定",
               "crash after upgrade", "replication lag on followers", "install from source"]
    compared = 0
    for where in FILTERED:
        allowed = len(index.ids(where))
        assert allowed, where
        for query in queries:
            vector = QUERY_VECTORS.vector(index.embedder, query)
            chroma = index.search(query, 10, where=where)
            mine = view.dense_search(vector, 10, where)
            assert [h.id for h in chroma] == [pid for pid, *_ in mine], (query, where)
            for hit, (_, text, meta, score) in zip(chroma, mine, strict=True):
                assert abs(hit.score - score) <= 1e-4 and hit.text == text
                assert hit.metadata == meta and matches(meta, where)
            compared += len(mine)
    assert compared > 150
    retriever = Retriever(index, RetrievalSettings(mode="dense", issues_mode="dense"))
    where = FILTERED[0]
    hits = retriever.search("crash after upgrade", 5, where=where)
    assert [(h.id, h.scores) for h in hits] == [
        (h.id, h.scores) for h in index.search("crash after upgrade", 5, where=where)]


def test_vectors_written_by_another_index_object_appear_in_the_next_filtered_search(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.retrieval.postings as postings
    from assistant.retrieval import view as view_module

    monkeypatch.setattr(postings, "MERGE_MIN", 50)  # compactions renumber the vector rows too
    monkeypatch.setattr(view_module, "_VIEWS", {})
    embedder = HashEmbedder()
    texts = _real_passages()[:400]
    writer = _index(tmp_path / "data", embedder)
    first = _chunks(texts[:200], 0)
    writer.add(first, embedder.embed_documents([c.text for c in first]))
    reader = _index(tmp_path / "data", embedder)
    retriever = Retriever(reader, RetrievalSettings(mode="dense", issues_mode="dense",
                                                    dense_in_memory="on"))
    issues = {"source_kind": "issue"}
    assert retriever.search("anything", 5, where=issues) == []
    view = lexical_view(reader)
    assert view.has_vectors and view.stats.rebuilds == 2  # the first, then with vectors

    for round_ in range(3):  # other writes, each seen by the next search as a delta
        new = _chunks(texts[200 + 60 * round_: 260 + 60 * round_], 200 + 60 * round_, "issue")
        writer.add(new, embedder.embed_documents([c.text for c in new]))
        writer.delete([c.id for c in first[30 * round_: 30 * round_ + 30]])
        target = new[7].text
        hits = retriever.search(target, 5, where=issues)
        assert hits[0].id == new[7].id and hits[0].score == pytest.approx(1.0, abs=1e-4)
        expected = reader.search(target, 5, where=issues)
        assert [h.id for h in hits] == [h.id for h in expected]
        assert [h.score for h in hits] == pytest.approx([h.score for h in expected], abs=1e-4)
    assert view.stats.rebuilds == 2 and view.stats.deltas == 3
    assert view.bm25.slots < 200 + 180  # a compaction renumbered the slots on the way
    ids, matrix, _ = reader.vectors()
    live = [view._slot[i] for i in ids]
    np.testing.assert_allclose(view.vectors.data[live], matrix / np.linalg.norm(
        matrix, axis=1, keepdims=True), atol=1e-6)


def test_dense_in_memory_off_or_over_the_limit_asks_chroma(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.retrieval import view as view_module

    monkeypatch.setattr(view_module, "_VIEWS", {})
    embedder = HashEmbedder()
    index = _index(tmp_path / "data", embedder)
    chunks = _chunks(_real_passages()[:80], 0, kind="issue")
    index.add(chunks, embedder.embed_documents([c.text for c in chunks]))
    asked: list[dict | None] = []
    search = index.search

    def counting(query: str, k: int, where: dict | None = None) -> list:
        asked.append(where)
        return search(query, k, where)

    monkeypatch.setattr(index, "search", counting)
    where = {"source_kind": "issue"}
    for setting, limit, chroma in (("off", 500_000, True), ("auto", 10, True),
                                   ("auto", 500_000, False), ("on", 10, False)):
        asked.clear()
        retriever = Retriever(index, RetrievalSettings(
            mode="dense", dense_in_memory=setting, dense_in_memory_max=limit))
        hits = retriever.search(chunks[3].text, 3, where=where)
        assert hits[0].id == chunks[3].id
        assert asked == ([where] if chroma else []), (setting, limit)
        assert lexical_view(index).has_vectors is (not chroma)
    asked.clear()
    Retriever(index, RetrievalSettings(mode="dense", dense_in_memory="on")).search("x", 3)
    assert asked == [None]  # unfiltered: Chroma's HNSW
