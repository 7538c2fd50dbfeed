"""Projects with several repos: issues keyed by (repo, number) in the index, the activity
tables and duplicate search; indexes built before are re-keyed without re-embedding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.context import AppContext
from assistant.kinds.triage.duplicates import find_duplicates, issue_ref
from assistant.repos import RepoRef, parse_issue_key, repo_of_url
from assistant.retrieval.retriever import Retriever
from assistant.services.index_info import index_summary
from assistant.settings import Settings, get_settings
from assistant.store.activity import ActivityStore
from ingest.docs import chunk_id
from ingest.migrate import migrate_issue_keys
from ingest.service import ingest_issue_files
from tests.helpers import counting_ctx


def _issue(repo: str, number: int, title: str, body: str, **extra: object) -> dict:
    return {"number": number, "title": title, "body": body, "state": "open",
            "user": {"login": "someone"}, "labels": [], "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-02T00:00:00Z", "comments": 0,
            "html_url": f"https://github.com/{repo}/issues/{number}", **extra}


def _settings(tmp_path: Path) -> Settings:
    return get_settings(profile="test", data_dir=tmp_path / "data", projects={"kvlite": {
        "repo": "example-org/kvlite", "repos": ["example-org/kvlite-py"]}})


def test_repo_names_and_urls() -> None:
    assert RepoRef.parse("gitlab:g/sub/n").key == "gitlab:g/sub/n"
    assert parse_issue_key("gitee:o/r#12") == (RepoRef("gitee", "o/r"), 12)
    assert repo_of_url("https://github.com/o/r/issues/3").key == "o/r"
    assert repo_of_url("https://api.github.com/repos/o/r/issues/3").key == "o/r"
    assert repo_of_url("https://gitee.com/o/r/issues/I4ABCD").key == "gitee:o/r"
    assert repo_of_url("https://gitlab.com/g/s/n/-/issues/3").key == "gitlab:g/s/n"
    assert repo_of_url("https://example.org/x") is None
    for bad in ("o/r/x", "../r", "x", "svn:o/r"):
        with pytest.raises(Exception):  # noqa: B017 - InvalidInput, any message
            RepoRef.parse(bad)
    assert issue_ref("o/r", 3, "o/r") == "#3" and issue_ref("o/p", 3, "o/r") == "o/p#3"


def test_equal_numbers_in_two_repos_never_collide(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    dump = tmp_path / "issues.json"
    dump.write_text(json.dumps([
        _issue("example-org/kvlite", 12, "Compaction stalls", "Compaction stalls at 90%."),
        _issue("example-org/kvlite-py", 12, "pip install fails", "Wheel build fails on arm64."),
    ]))
    ctx = AppContext(settings)
    report = ingest_issue_files(settings, ctx.index(), [dump])
    assert sorted(report.added) == ["issues/example-org/kvlite-py/12",
                                    "issues/example-org/kvlite/12"]
    store = ActivityStore.open(settings)
    try:
        rows = {(item.repo, item.number): item.title for item, _ in store.items("kvlite")}
    finally:
        store.close()
    assert rows == {("example-org/kvlite", 12): "Compaction stalls",
                    ("example-org/kvlite-py", 12): "pip install fails"}
    status = {r.get("repo"): r["items"] for r in index_summary(ctx)["sources"]}
    assert status == {"example-org/kvlite": 1, "example-org/kvlite-py": 1}


def test_duplicates_are_found_across_the_projects_repos(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    dump = tmp_path / "issues.json"
    dump.write_text(json.dumps([
        _issue("example-org/kvlite-py", 4, "Segfault reading an empty value",
               "kvlite-py crashes with SIGSEGV in zstd_decompress_frame: src_size=0 when a "
               "value is empty."),
        _issue("example-org/kvlite", 4, "Add a TTL option", "Keys should expire after a TTL."),
        *[_issue("example-org/kvlite", n, f"Unrelated {n}", f"Something else entirely {n}.")
          for n in range(20, 26)],
    ]))
    ctx = AppContext(settings)
    ingest_issue_files(settings, ctx.index(), [dump])
    found = find_duplicates(
        Retriever(ctx.index(), settings.retrieval), "SIGSEGV on empty values",
        "Reading an empty value segfaults in zstd_decompress_frame: src_size=0.",
        exclude_number=4, exclude_repo="example-org/kvlite", threshold=0.0)
    assert (found[0].repo, found[0].number) == ("example-org/kvlite-py", 4)  # not excluded


def test_an_index_from_before_is_rekeyed_without_embedding_again(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ctx, counting = counting_ctx(settings)
    index = ctx.index()
    dump = tmp_path / "issues.json"
    dump.write_text(json.dumps([_issue("example-org/kvlite", n, f"Issue {n}", f"Body {n}.")
                                for n in (1, 2, 3)]))
    ingest_issue_files(settings, index, [dump])
    # Turn the passages back into the old layout: path issues/N, no repo, old ids.
    ids, vectors, metas = index.vectors({"source_kind": "issue"})
    texts = dict(zip(*index.documents({"source_kind": "issue"})[:2], strict=True))
    from assistant.providers.vector_index import Chunk

    old = []
    for passage_id, meta in zip(ids, metas, strict=True):
        legacy = {k: v for k, v in meta.items() if k not in ("repo", "duplicate_of_repo")}
        legacy["path"] = f"issues/{meta['number']}"
        old.append(Chunk(chunk_id("kvlite", legacy["path"], texts[passage_id], {}),
                         texts[passage_id], legacy))
    index.delete(ids)
    index.add(old, [v.tolist() for v in vectors])
    index.set_state("issue_keys", "")
    before = index.count()
    embedded = len(counting.embedded)

    # A crash after the new passages were written, before the old ones were deleted:
    real_delete = index.delete
    index.delete = lambda ids: (_ for _ in ()).throw(RuntimeError("killed"))  # type: ignore
    with pytest.raises(RuntimeError):
        migrate_issue_keys(index, "example-org/kvlite")
    index.delete = real_delete  # type: ignore[method-assign]
    assert migrate_issue_keys(index, "example-org/kvlite") == before
    assert index.count() == before and len(counting.embedded) == embedded  # nothing embedded
    metas = index.entries({"source_kind": "issue"}).values()
    assert {m["path"] for m in metas} == {f"issues/example-org/kvlite/{n}" for n in (1, 2, 3)}
    assert migrate_issue_keys(index, "example-org/kvlite") == 0  # done, idempotent
    again = ingest_issue_files(settings, index, [dump])  # the next sync embeds nothing
    assert not again.added and again.chunks_embedded == 0
