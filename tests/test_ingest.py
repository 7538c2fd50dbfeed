import os
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.errors import InvalidInput
from assistant.settings import Settings
from ingest.docs import scan_docs
from ingest.service import ingest_docs
from tests.helpers import counting_ctx


def _docs(root: Path) -> Path:
    (root / "guide").mkdir(parents=True)
    (root / "index.md").write_text("# Home\n\nWelcome to the project.\n\n## Next\n\nRead the guide.\n")
    (root / "guide" / "setup.md").write_text(
        "# Setup\n\n## Install\n\npip install thing\n\n## Configure\n\nSet cache_size_mb.\n"
    )
    (root / "notes.txt").write_text("Plain text notes about compaction.\n")
    return root


def test_incremental_sync(settings: Settings, tmp_path: Path) -> None:
    root = _docs(tmp_path / "docs")
    ctx, counter = counting_ctx(settings)
    first = ingest_docs(settings, ctx.index(), root, repo_path="docs")
    assert sorted(first.added) == ["docs/guide/setup.md", "docs/index.md", "docs/notes.txt"]
    total = ctx.index().count()
    assert total == first.chunks_total == len(counter.embedded) == 5

    counter.embedded.clear()
    again = ingest_docs(settings, ctx.index(), root, repo_path="docs")
    assert counter.embedded == [] and len(again.unchanged) == 3
    assert ctx.index().count() == total

    (root / "guide" / "setup.md").write_text(
        "# Setup\n\n## Install\n\npip install thing\n\n## Configure\n\nSet sync_mode.\n"
    )
    (root / "notes.txt").unlink()
    changed = ingest_docs(settings, ctx.index(), root, repo_path="docs")
    assert changed.updated == ["docs/guide/setup.md"] and changed.removed == ["docs/notes.txt"]
    assert len(counter.embedded) == 1 and "sync_mode" in counter.embedded[0]
    metas = ctx.index().entries().values()
    assert ctx.index().count() == 4
    assert {m["path"] for m in metas} == {"docs/index.md", "docs/guide/setup.md"}


def test_killed_ingest_converges_on_rerun(settings: Settings, tmp_path: Path) -> None:
    root = _docs(tmp_path / "docs")
    for i in range(5):
        (root / f"extra{i}.md").write_text(f"# Extra {i}\n\nText number {i}.\n")
    settings = settings.model_copy(update={
        "embedding": settings.embedding.model_copy(update={"batch_size": 2}),
        "ingest": settings.ingest.model_copy(update={"write_batch": 2}),
    })
    ctx, _ = counting_ctx(settings, fail_after=4)
    with pytest.raises(KeyboardInterrupt):
        ingest_docs(settings, ctx.index(), root)
    partial = ctx.index().count()
    assert 0 < partial < 10
    ctx2, counter = counting_ctx(settings)
    ingest_docs(settings, ctx2.index(), root)
    assert ctx2.index().count() == 10
    assert len(counter.embedded) == 10 - partial  # only what was missing
    expected = {c.id for cs in scan_docs(root, project=settings.project,
                                         project_settings=settings.project_settings()
                                         ).chunks_by_path.values() for c in cs}
    assert ctx2.index().ids() == expected


def test_bad_files_are_skipped_with_reasons(settings: Settings, tmp_path: Path) -> None:
    root = _docs(tmp_path / "docs")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "binary.md").write_bytes(b"# x\x00\x01\x02")
    (root / "latin1.md").write_bytes("# Café\n\nr\xe9sum\xe9".encode("latin-1"))
    (root / "empty.md").write_text("   \n")
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nnot for the index")
    os.symlink(outside, root / "escape.md")
    os.symlink(root, root / "guide" / "loop")  # a directory loop
    (root / "huge.md").write_bytes(b"a" * (5 * 1024 * 1024 + 1))
    ctx, _ = counting_ctx(settings)
    report = ingest_docs(settings, ctx.index(), root)
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["logo.png"].startswith("unsupported type")
    assert reasons["binary.md"] == "binary file"
    assert reasons["latin1.md"].startswith("not UTF-8")
    assert reasons["empty.md"] == "empty file"
    assert reasons["escape.md"] == "symlink to a path outside the root"
    assert reasons["huge.md"].startswith("too large")
    assert len(report.added) == 3
    assert all("not for the index" not in m.get("title", "") for m in ctx.index().entries().values())


def test_empty_or_missing_folder_is_refused_and_index_untouched(
    settings: Settings, tmp_path: Path
) -> None:
    root = _docs(tmp_path / "docs")
    ctx, _ = counting_ctx(settings)
    ingest_docs(settings, ctx.index(), root)
    before = ctx.index().ids()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="No usable Markdown"):
        ingest_docs(settings, ctx.index(), empty)
    with pytest.raises(InvalidInput, match="does not exist"):
        ingest_docs(settings, ctx.index(), tmp_path / "nope")
    assert ctx.index().ids() == before


def test_metadata_urls_and_redaction(make_settings, tmp_path: Path) -> None:
    settings = make_settings(project="kvlite")
    root = tmp_path / "docs"
    (root / "zh").mkdir(parents=True)
    (root / "zh" / "faq.md").write_text(
        "# 常见问题\n\n## 数据库被锁定\n\n运行 `kvlite unlock`。token=ghp_abcdefghijklmnopqrstuvwxyz0123\n"
    )
    ctx, _ = counting_ctx(settings)
    ingest_docs(settings, ctx.index(), root, repo_path="docs")
    hit = ctx.index().search("database is locked", k=1)[0]
    assert hit.url == "https://github.com/example-org/kvlite/blob/main/docs/zh/faq.md#数据库被锁定"
    assert hit.metadata["language"] == "zh" and hit.metadata["source_kind"] == "doc"
    assert "ghp_" not in hit.text and "[REDACTED]" in hit.text


def test_unchanged_files_are_not_even_chunked_again(settings: Settings, tmp_path: Path) -> None:
    root = _docs(tmp_path / "docs")
    ctx, _ = counting_ctx(settings)
    ingest_docs(settings, ctx.index(), root)
    from ingest.sync import known_items, source_entries

    known = known_items(source_entries(ctx.index(), f"docs:{root.resolve()}"))
    assert len(known) == 3
    scan = scan_docs(root, project=settings.project, project_settings=settings.project_settings(),
                     known=known)
    assert scan.chunks_by_path == {} and len(scan.unchanged) == 3
    (root / "index.md").write_text("# Home\n\nWelcome, changed.\n")
    rescan = scan_docs(root, project=settings.project,
                       project_settings=settings.project_settings(), known=known)
    assert list(rescan.chunks_by_path) == ["index.md"] and len(rescan.unchanged) == 2
    smaller = scan_docs(root, project=settings.project, max_tokens=64,
                        project_settings=settings.project_settings(), known=known)
    assert len(smaller.chunks_by_path) == 3  # chunking settings changed: every file is redone


@pytest.mark.slow
def test_big_ingests_embed_in_worker_processes_with_the_same_vectors(
    make_settings, tmp_path: Path
) -> None:
    import numpy as np

    from ingest.parallel import MIN_PASSAGES

    root = tmp_path / "docs"
    root.mkdir()
    sections = "\n\n".join(f"## Option {i}\n\nSetting number {i} controls feature {i * 7}."
                           for i in range(MIN_PASSAGES + 20))
    (root / "options.md").write_text(f"# Options\n\n{sections}\n")
    parallel = make_settings(data_dir=tmp_path / "p", embedding={"workers": 2},
                             ingest={"chunk_tokens": 64})
    ctx = AppContext(parallel)
    report = ingest_docs(parallel, ctx.index(), root)
    assert report.chunks_embedded >= MIN_PASSAGES and ctx.index().count() == report.chunks_total
    ids = ctx.index().documents()[0]
    stored = ctx.index()._collection.get(ids=ids[:20], include=["embeddings", "documents"])
    want = ctx.embeddings().embed_documents(list(stored["documents"]))
    assert np.allclose(np.asarray(stored["embeddings"]), np.asarray(want), atol=1e-4)
