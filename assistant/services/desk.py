"""The review workflow shared by the API and the review desk: create (store, then enqueue,
with the sweep as the fallback), wait for a draft, save an edit, approve what was edited,
queue a re-sync, and who may do what."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, Protocol

from pydantic import BaseModel

from assistant.context import AppContext
from assistant.drafting.engine import request_draft
from assistant.errors import Conflict, Forbidden
from assistant.services import review
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.models import DraftStatus, Role

log = logging.getLogger(__name__)
DONE = frozenset({DraftStatus.PENDING_REVIEW, DraftStatus.FAILED})


class Queue(Protocol):
    """What the workflow needs of the task queue."""

    def submit(self, draft_ids: list[int], delay: float | None = None) -> None: ...

    def submit_sync(self, project: str) -> None: ...


def check_role(have: Role, need: Role) -> None:
    """Refuse a caller whose role is below ``need`` (each role includes the ones before it)."""
    if have.rank < need.rank:
        raise Forbidden(f"This needs a {need.value} key; yours is {have.value}.",
                        fix=f"use a key created with `devrel keys create --role {need.value}`")


def create_draft(ctx: AppContext, queue: Queue, kind: str, data: BaseModel | dict[str, Any], *,
                 project: str | None, requested_by: str, dedupe_key: str | None = None,
                 request_hash: str | None = None) -> DraftRecord:
    """Store a checked draft request and enqueue it; if enqueueing fails, the draft is stored
    already and the workers' sweep enqueues it."""
    record = request_draft(ctx, kind, data, project=project, requested_by=requested_by,
                           dedupe_key=dedupe_key, request_hash=request_hash)
    if record.status == DraftStatus.QUEUED:
        try:
            queue.submit([record.id])
        except Exception:
            log.warning("could not enqueue draft %s now; the sweep will", record.id)
    return record


def watch_draft(ctx: AppContext, draft_id: int, timeout_s: float,
                poll_s: float = 0.5) -> Iterator[DraftRecord]:
    """The draft each time its status changes, until it is done or ``timeout_s`` passes."""
    record = ctx.drafts().get(draft_id)
    yield record
    deadline = time.monotonic() + timeout_s
    while record.status not in DONE and time.monotonic() < deadline:
        time.sleep(poll_s)
        latest = ctx.drafts().get(draft_id)
        if latest.status != record.status:
            yield latest
        record = latest


def _opened_at(record: DraftRecord, base_revision: int, fix: str) -> DraftRecord:
    """``record`` if it is still at the revision the reviewer opened; a Conflict otherwise."""
    if record.revision != base_revision:
        raise Conflict(f"Draft {record.id} is at revision {record.revision}; you opened "
                       f"{base_revision}.", fix=fix)
    return record


def save_edit(ctx: AppContext, draft_id: int, content: DraftContent, who: str,
              base_revision: int) -> DraftRecord:
    """Store ``content`` as a new revision when it differs from ``base_revision``, the one the
    reviewer opened; a Conflict when someone else saved a revision since."""
    store = ctx.drafts()
    record = _opened_at(store.get(draft_id), base_revision,
                        "reload the draft to see the other edit, then apply yours again")
    if content != store.content(draft_id, base_revision).content:
        record = review.edit_draft(ctx, draft_id, content, who, base_revision=base_revision)
    return record


def approve_with_edit(ctx: AppContext, draft_id: int, content: DraftContent,
                      who: str, base_revision: int) -> DraftRecord:
    """Approve ``content`` as the reviewer saw it: saved first as a revision when it differs
    from ``base_revision``; a Conflict when the draft moved on since it was opened."""
    record = ctx.drafts().get(draft_id)
    if record.status == DraftStatus.PENDING_REVIEW:
        record = save_edit(ctx, draft_id, content, who, base_revision)
    else:
        _opened_at(record, base_revision, "reload the draft and review the newest revision")
    return review.approve_draft(ctx, draft_id, who, record.revision)


def request_sync(ctx: AppContext, queue: Queue, project: str, who: str) -> None:
    """Queue a re-sync of a project's configured sources, in the audit log."""
    queue.submit_sync(project)
    ctx.drafts().log(who, "sync_requested", {"project": project})
