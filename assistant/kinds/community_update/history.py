"""A project's issue/PR history, read from the activity tables as metric items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.errors import InvalidInput
from assistant.kinds.community_update.models import Event, Item
from assistant.store.activity import ActivityStore

if TYPE_CHECKING:
    from assistant.context import AppContext


def _store(ctx: AppContext) -> ActivityStore:
    return ActivityStore(ctx.drafts().engine)


def load_items(ctx: AppContext, project: str) -> list[Item]:
    """A project's issue/PR history from the activity tables; an unknown or empty project is
    refused with the fix."""
    rows = _store(ctx).items(project)
    if not rows:
        known = project in ctx.settings.projects or project == ctx.settings.project
        if not known:
            raise InvalidInput(f"Unknown project {project!r}: it is not configured and has no "
                               "ingested issues or PRs.",
                               fix="check the name, or ingest its issues with `devrel ingest "
                                   f"issues FILE… --project {project}`")
        raise InvalidInput(f"Project {project!r} has no issue or PR history yet (issues ingested "
                           "before activity tracking are not in it).",
                           fix=f"run `devrel ingest issues FILE… --project {project}` or `devrel "
                               "ingest issues --github OWNER/REPO` (re-ingesting is safe)")
    items = []
    for row, events in rows:
        if row.created_at is None:
            continue
        items.append(Item(
            number=row.number, kind=row.kind, title=row.title, created_at=row.created_at,
            author=row.author, association=row.author_association, url=row.url,
            state=row.state, closed_at=row.closed_at, merged_at=row.merged_at,
            assignees=tuple(row.assignees or ()), labels=tuple(row.labels or ()),
            events=tuple(Event(e.author, e.author_association, e.created_at, e.kind)
                         for e in events if e.created_at is not None)))
    return items
