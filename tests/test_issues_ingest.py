import json
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.settings import Settings
from ingest.issues import issue_chunks, parse_issue_json, read_issue_files
from ingest.service import ingest_issue_files
from tests.helpers import counting_ctx


def _rest_issue(number: int, **kw) -> dict:
    issue = {
        "number": number, "title": f"Crash number {number}", "body": f"Body {number}",
        "state": "open", "state_reason": None, "labels": [{"name": "bug"}],
        "user": {"login": "alice"}, "author_association": "NONE", "comments": 0,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": f"2026-01-{number:02d}T00:00:00Z",
        "closed_at": None, "html_url": f"https://github.com/o/r/issues/{number}",
    }
    issue.update(kw)
    return issue


def test_every_json_shape_is_understood(tmp_path: Path) -> None:
    rest_list = json.dumps([_rest_issue(1), _rest_issue(2)])
    paginated = json.dumps([_rest_issue(3)]) + "\n" + json.dumps([_rest_issue(4)])
    slurped = json.dumps([[_rest_issue(5)], [_rest_issue(6)]])
    single = json.dumps(_rest_issue(7))
    jsonl = json.dumps(_rest_issue(8)) + "\n" + json.dumps(_rest_issue(9)) + "\n"
    gh_cli = json.dumps([{
        "number": 10, "title": "以 gh 导出的问题", "body": "内容", "state": "CLOSED",
        "stateReason": "COMPLETED", "labels": [{"name": "question", "color": "x"}],
        "author": {"login": "bob"}, "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-10T00:00:00Z", "url": "https://github.com/o/r/issues/10",
        "comments": [{"author": {"login": "carol"}, "authorAssociation": "MEMBER",
                      "body": "已修复", "createdAt": "2026-01-09T00:00:00Z"}],
    }])
    pr = json.dumps(_rest_issue(11, pull_request={"url": "x"},
                                html_url="https://github.com/o/r/pull/11"))
    parsed = parse_issue_json(rest_list, "a")
    for n, text in enumerate([paginated, slurped, single, jsonl, gh_cli, pr]):
        parse_issue_json(text, f"f{n}", parsed)
    assert sorted(parsed.issues) == [("o/r", n) for n in range(1, 12)] and not parsed.skipped
    gh = parsed.one(10)
    assert (gh.state, gh.state_reason, gh.labels, gh.author) == (
        "closed", "completed", ["question"], "bob")
    assert gh.comments[0].author == "carol" and gh.comments[0].author_association == "MEMBER"
    assert parsed.one(11).is_pull_request and not parsed.one(1).is_pull_request


def test_comments_from_a_separate_file_and_duplicate_links(tmp_path: Path) -> None:
    issues = [
        _rest_issue(1, state="closed", state_reason="duplicate", comments=1),
        _rest_issue(2, body="Same crash.\n\nDuplicate of #1", state="closed"),
        _rest_issue(3, comments=2),
    ]
    comments = [
        {"issue_url": "https://api.github.com/repos/o/r/issues/3", "user": {"login": "m"},
         "author_association": "MEMBER", "body": "Second", "created_at": "2026-02-02T00:00:00Z"},
        {"issue_url": "https://api.github.com/repos/o/r/issues/3", "user": {"login": "m"},
         "author_association": "MEMBER", "body": "First", "created_at": "2026-02-01T00:00:00Z"},
        {"issue_url": "https://api.github.com/repos/o/r/issues/99", "user": {"login": "x"},
         "body": "orphan", "created_at": "2026-02-01T00:00:00Z"},
    ]
    (tmp_path / "issues.json").write_text(json.dumps(issues))
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    parsed = read_issue_files([tmp_path / "issues.json", tmp_path / "comments.json"], 10**7)
    assert [c.body for c in parsed.one(3).comments] == ["First", "Second"]
    assert parsed.one(1).is_duplicate and parsed.one(1).duplicate_of is None
    assert parsed.one(2).duplicate_of == 1 and parsed.one(2).is_duplicate
    assert [n for _, n in parsed.orphan_comments] == [99]


def test_issue_chunks_keep_title_and_body_together_then_comments(settings: Settings) -> None:
    parsed = parse_issue_json(json.dumps(_rest_issue(
        5, body="It crashes when I open the db.\n\ntoken: ghp_abcdefghijklmnopqrstuvwxyz0123",
        labels=[{"name": "bug"}, {"name": "area: storage"}],
        comments=[{"user": {"login": "m"}, "author_association": "MEMBER",
                   "body": "Which version?", "created_at": "2026-02-01T00:00:00Z"}])), "x")
    chunks = issue_chunks(parsed.one(5), "demo", max_tokens=350)
    assert [c.metadata["part"] for c in chunks] == ["body", "comments"]
    first, second = chunks
    assert first.text.startswith("#5 Crash number 5\n\nIt crashes") and "ghp_" not in first.text
    assert "[REDACTED]" in first.text and "Which version?" in second.text
    meta = first.metadata
    assert meta["labels"] == "area: storage,bug" and meta["state"] == "open"
    assert meta["source_kind"] == "issue" and meta["number"] == 5 and meta["language"] == "en"
    assert meta["url"] == "https://github.com/o/r/issues/5"


def test_issue_ingest_is_incremental_and_relabels_without_embedding(
    settings: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "issues.json"
    dump.write_text(json.dumps([_rest_issue(1), _rest_issue(2), _rest_issue(3)]))
    ctx, counter = counting_ctx(settings)
    first = ingest_issue_files(settings, ctx.index(), [dump])
    assert len(first.added) == 3 and first.chunks_embedded == 3 == ctx.index().count()

    counter.embedded.clear()
    again = ingest_issue_files(settings, ctx.index(), [dump])
    assert counter.embedded == [] and len(again.unchanged) == 3

    dump.write_text(json.dumps([
        _rest_issue(1, labels=[{"name": "question"}], state="closed",
                    updated_at="2026-03-01T00:00:00Z"),
        _rest_issue(2, body="Body 2, now with a stack trace"),
    ]))
    changed = ingest_issue_files(settings, ctx.index(), [dump])
    assert changed.chunks_relabelled == 1 and changed.chunks_embedded == 1
    assert sorted(changed.updated) == ["issues/o/r/1", "issues/o/r/2"] and changed.removed == []
    metas = {m["number"]: m for m in ctx.index().entries().values()}
    assert metas[1]["labels"] == "question" and metas[1]["state"] == "closed"
    assert ctx.index().count() == 3  # issue 3 is kept: a partial dump does not delete

    pruned = ingest_issue_files(settings, ctx.index(), [dump], prune=True)
    assert pruned.removed == ["issues/o/r/3"] and ctx.index().count() == 2


def test_bad_issue_files_are_skipped_and_nothing_stored_is_lost(
    settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([_rest_issue(1), _rest_issue(2)]))
    ctx, _ = counting_ctx(settings)
    ingest_issue_files(settings, ctx.index(), [good])
    before = ctx.index().ids()

    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps([_rest_issue(3)])[:-20])
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('[{"number": 4, "title": "caf\xe9"}]'.encode("latin-1"))
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # a 50 MB (sparse) file
    weird = tmp_path / "weird.json"
    weird.write_text(json.dumps([{"hello": "world"}, 42, _rest_issue(5, title="")]))
    for bad in (truncated, latin1, huge, weird):
        with pytest.raises(InvalidInput, match="No issues or pull requests found"):
            ingest_issue_files(settings, ctx.index(), [bad])
    assert ctx.index().ids() == before

    mixed = ingest_issue_files(settings, ctx.index(), [truncated, good, huge, weird])
    reasons = " | ".join(f"{s.path}: {s.reason}" for s in mixed.skipped)
    assert "not valid JSON" in reasons and "too large (52.4 MB" in reasons
    assert "not an issue or comment" in reasons and "not a JSON object" in reasons
    assert len(mixed.unchanged) == 2 and ctx.index().ids() == before


def test_example_project_issues(settings: Settings, example_dir: Path) -> None:
    ctx, _ = counting_ctx(settings)
    report = ingest_issue_files(
        settings, ctx.index(), [example_dir / "issues.json", example_dir / "comments.json"])
    assert len(report.added) == 12 and not report.skipped
    metas = list(ctx.index().entries().values())
    assert {m["source"] for m in metas} == {"issues:example-org/kvlite"}
    assert any(m["is_duplicate"] for m in metas)
    assert {m["source_kind"] for m in metas} == {"issue", "pull_request"}
    zh = [m for m in metas if m["language"] == "zh"]
    assert zh and all(m["url"].startswith("https://github.com/example-org/kvlite/") for m in zh)
