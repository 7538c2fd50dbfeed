"""The next meeting's agenda from the stores: issues waiting for a first response and PRs
waiting for review (activity history), releases and open action items from approved drafts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.kinds.meeting_summary.agenda import draft_agenda
from assistant.services.agenda import agenda_input
from assistant.services.review import approve_draft
from assistant.store.models import DraftKind
from ingest.service import ingest_issue_files

NOTE = """# Community call 2026-10-07

## Decisions
- Ship 0.5.0 on October 20.

## Action items
- @mia: write the migration guide by 2026-10-14
"""


def _unanswered(path: Path) -> Path:
    """An issue and a PR that nobody has answered yet, as the REST API serves them."""
    base = {"state": "open", "labels": [], "comments": 0, "author_association": "NONE",
            "created_at": "2026-10-15T08:00:00Z", "updated_at": "2026-10-15T08:00:00Z",
            "closed_at": None, "user": {"login": "newcomer"}}
    items = [dict(base, number=170, title="compact() hangs on a 2 GB file", body="Steps: ...",
                  html_url="https://github.com/example-org/kvlite/issues/170"),
             dict(base, number=171, title="docs: fix a typo in the quickstart", body="Typo.",
                  html_url="https://github.com/example-org/kvlite/pull/171",
                  pull_request={"merged_at": None})]
    path.write_text(json.dumps(items))
    return path


def test_agenda_from_activity_releases_and_open_actions(triage_ctx: AppContext,
                                                          tmp_path: Path) -> None:
    ctx = triage_ctx
    ingest_issue_files(ctx.settings, ctx.index(), [_unanswered(tmp_path / "new.json")])
    summary = draft_now(ctx, DraftKind.MEETING_SUMMARY, {"notes": NOTE}, project="kvlite")
    pending = draft_agenda(agenda_input(ctx, "kvlite", date(2026, 10, 1), date(2026, 10, 21)))
    assert "migration guide" not in pending.markdown  # only approved summaries count
    approve_draft(ctx, summary.id, "mia", 1)
    data = {"version": "v0.5.0", "changes": ["fix: stale LOCK files (#201)"]}
    notes = draft_now(ctx, DraftKind.RELEASE_NOTES, data, project="kvlite")
    approve_draft(ctx, notes.id, "mia", 1)

    agenda = draft_agenda(agenda_input(ctx, "kvlite", date(2026, 1, 1), date(2026, 10, 21)))
    text = agenda.markdown
    assert "write the migration guide" in text and "@mia" in text
    assert "v0.5.0" in text
    sections = {s.key: " ".join(s.lines) for s in agenda.sections}
    assert "#170" in sections["issues"] and "#171" not in sections["issues"], text
    assert "#171" in sections["prs"], text  # the example's own issues all have answers
    zh = draft_agenda(agenda_input(ctx, "kvlite", date(2026, 1, 1), date(2026, 10, 21)),
                      language="zh")
    assert zh.language == "zh" and zh.markdown != text
