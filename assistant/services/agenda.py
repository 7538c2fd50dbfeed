"""The next community meeting's agenda, from what happened since the last one: issues waiting
for a first response, PRs waiting for review (the activity history), releases (approved release
notes) and the open action items of approved meeting summaries. Assembled in code, no model."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from assistant.context import AppContext
from assistant.errors import InvalidInput
from assistant.kinds.meeting_summary.agenda import (
    AgendaInput,
    IssueRef,
    PullRef,
    ReleaseRef,
    open_actions_from,
)
from assistant.kinds.meeting_summary.models import MeetingSummary
from assistant.store.models import DraftKind, DraftStatus

REVIEWED = (DraftStatus.APPROVED, DraftStatus.PUBLISHED)


def agenda_input(ctx: AppContext, project: str, since: date, meeting: date) -> AgendaInput:
    """What the agenda is made of, read from the activity history and the review queue."""
    from assistant.kinds.community_update.history import load_items
    from assistant.kinds.community_update.metrics import (
        prs_waiting_for_review,
        waiting_for_first_response,
    )

    as_of = datetime.combine(meeting, time.max, tzinfo=UTC)
    try:
        history = load_items(ctx, project)
    except InvalidInput:  # no issue history ingested: the agenda still has the rest
        history = []
    issues = waiting_for_first_response(history, as_of)
    pulls = prs_waiting_for_review(history, as_of,
                                   since=datetime.combine(since, time.min, tzinfo=UTC))
    store = ctx.drafts()
    reviewed = [d for status in REVIEWED for kind in (DraftKind.RELEASE_NOTES,
                                                      DraftKind.MEETING_SUMMARY)
                for d in store.list(status=status, kind=kind, project=project, limit=50)]
    releases = [ReleaseRef(tag=str(d.input.get("version") or d.title),
                           published=(d.published_at or d.updated_at).date(),
                           url=d.published_url or "")
                for d in reviewed if d.kind == DraftKind.RELEASE_NOTES
                and (d.published_at or d.updated_at).date() >= since]
    summaries = [(MeetingSummary.model_validate(d.output["summary"]), d.id) for d in reviewed
                 if d.kind == DraftKind.MEETING_SUMMARY and d.output and "summary" in d.output]
    return AgendaInput(
        meeting_date=meeting, since=since,
        unanswered_issues=[IssueRef(number=w.number, title=w.title, url=w.url, author=w.author,
                                    opened=w.created_at.date()) for w in issues],
        prs_waiting=[PullRef(number=w.number, title=w.title, url=w.url, author=w.author,
                             opened=w.created_at.date()) for w in pulls],
        releases=releases, open_actions=open_actions_from(summaries))
