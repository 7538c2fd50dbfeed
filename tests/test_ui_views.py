"""What the review desk shows, from stored records: hostile text stays text."""

from datetime import UTC, datetime, timedelta

from assistant.store.drafts import DraftContent, DraftRecord
from ui import views


def _record(**fields) -> DraftRecord:
    now = datetime.now(UTC)
    base = dict(id=3, kind="triage", project="kvlite", status="pending_review", title="t",
                language="en", input={}, output={}, sources=[], prompt_name=None,
                prompt_version=None, model=None, confidence=0.5, error=None, revision=1,
                created_at=now - timedelta(hours=2), updated_at=now)
    return DraftRecord(**(base | fields))


def test_reporter_text_is_shown_as_text_not_markup() -> None:
    record = _record(input={"title": "![x](https://tracker.example/p.png) <script>", "number": 9,
                            "repo": "o/r", "author": "eve_[bot]"})
    header = views.input_header(record)
    assert "](" not in header.replace("\\](", "") and "<script>" not in header
    assert "o/r#9" in header and "eve\\_\\[bot\\]" in header


def test_queue_rows_counts_and_age() -> None:
    row = views.queue_rows([_record()])[0]
    assert row[:5] == [3, "triage", "kvlite", "en", "pending_review"] and row[5] == "2 h"
    assert views.counts_line({"pending_review": 2, "failed": 1}) == (
        "**2** pending review · **1** failed")
    assert views.counts_line({}) == "The queue is empty."


def test_diff_and_choices() -> None:
    assert "No changes" in views.diff_markdown("a", "a")
    diff = views.diff_markdown("Thanks.\nSee [1].", "Thanks!\nSee [1].")
    assert "-Thanks." in diff and "+Thanks!" in diff and diff.startswith("```diff")
    record = _record(output={"labels": [{"name": "bug", "confidence": 0.8}],
                             "duplicates": [{"number": 5, "title": "x", "score": 0.4}],
                             "related": [{"number": 6, "title": "y", "score": 0.1}]})
    content = DraftContent(text="", labels=["bug", "needs-info"])
    assert views.label_choices(record, content) == [("bug (0.80)", "bug"),
                                                    ("needs-info", "needs-info")]
    assert [v for _, v in views.duplicate_choices(record)] == [5, 6]
