"""What the review desk shows, from stored records (hostile text stays text), and how it saves
a reviewer's edit over the revision they opened."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from assistant.api.app import build_services
from assistant.context import AppContext
from assistant.errors import Conflict
from assistant.services import desk as workflow
from assistant.settings import Settings
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.models import DraftStatus
from ui import views
from ui.desk import Edit, ReviewDesk
from ui.session import COOKIE, DeskSessions


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
    assert "o/r\\#9" in header and "eve\\_\\[bot\\]" in header


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


def _desk_with_draft(settings: Settings) -> tuple[ReviewDesk, SimpleNamespace, int]:
    """A desk, a reviewer's signed-in request, and a release-notes draft waiting at revision 1."""
    ctx = AppContext(settings)
    services = build_services(ctx)
    sessions = DeskSessions(services.keys, b"k" * 32, idle_s=600)
    _, cookie = sessions.sign_in(services.keys.create("mia", "reviewer")[1])
    store = ctx.drafts()
    draft = store.create(kind="release_notes", project="kvlite", title="v1", input={})
    store.complete(draft.id, token=None, output={}, sources=[],
                   content=DraftContent(text="model text"), prompt_name=None,
                   prompt_version=None, model="fake")
    return ReviewDesk(services, sessions), SimpleNamespace(cookies={COOKIE: cookie}), draft.id


@pytest.mark.parametrize("action", ["save", "approve"])
def test_an_edit_made_since_the_draft_was_opened_is_a_conflict_that_loses_nothing(
        settings: Settings, action: str) -> None:
    desk, request, draft_id = _desk_with_draft(settings)
    opened = desk.open(request, draft_id)
    assert opened.revision == 1
    workflow.save_edit(desk.ctx, draft_id, DraftContent(text="bob's edit"), "bob", 1)

    with pytest.raises(Conflict) as refused:
        getattr(desk, action)(request, draft_id, opened.revision, Edit("mia's edit"))
    assert "revision 2" in str(refused.value) and "still in the editor" in str(refused.value)
    record = desk.store.get(draft_id)
    assert (record.status, record.revision) == (DraftStatus.PENDING_REVIEW, 2)
    assert [r.content.text for r in desk.store.revisions(draft_id)] == [
        "model text", "bob's edit"]

    reopened = desk.open(request, draft_id)  # the newest revision: now mia's edit applies
    assert (reopened.revision, reopened.text) == (2, "bob's edit")
    done = getattr(desk, action)(request, draft_id, reopened.revision, Edit("mia's edit"))
    assert (done.revision, done.text) == (3, "mia's edit")
