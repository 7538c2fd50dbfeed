"""The drafts repository: the only code that reads and writes drafts, revisions and the audit log.

Every state change is one guarded ``UPDATE … WHERE status IN (…)`` plus its audit row, in one
transaction: two workers or two reviewers racing on a draft cannot both win, on SQLite or
PostgreSQL alike, and a change is durable before the caller acknowledges it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.errors import Conflict, NotFound
from assistant.settings import Settings
from assistant.store.db import make_engine, session_factory, upgrade
from assistant.store.models import AuditEntry, Draft, DraftStatus, Revision, utcnow

S = DraftStatus


class DraftContent(BaseModel):
    """The part of a draft a reviewer edits; the published text is the approved revision's."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=200_000, description="The Markdown to publish.")
    translation: str | None = Field(
        None, max_length=200_000, description="The same text in the other language (EN/ZH)."
    )
    labels: list[str] = Field(default_factory=list, max_length=20)
    duplicates: list[int] = Field(default_factory=list, max_length=10)


class DraftRecord(BaseModel):
    """A stored draft as the rest of the code sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    project: str
    status: str
    title: str
    language: str | None
    input: dict[str, Any]
    output: dict[str, Any] | None
    sources: list[dict[str, Any]]
    prompt_name: str | None
    prompt_version: int | None
    model: str | None
    confidence: float | None
    error: str | None
    attempts: int = 0
    requested_by: str | None = None
    revision: int = 0
    approved_revision: int | None = None
    reviewed_by: str | None = None
    reject_reason: str | None = None
    published_at: datetime | None = None
    published_url: str | None = None
    created_at: datetime
    updated_at: datetime


class RevisionRecord(BaseModel):
    """One version of a draft's content."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    content: DraftContent
    author: str
    note: str | None
    created_at: datetime


class AuditRecord(BaseModel):
    """Who did what, when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    draft_id: int | None
    actor: str
    action: str
    detail: dict[str, Any]
    at: datetime


class Claim(BaseModel):
    """A worker's right to write a draft's result, until its lease runs out."""

    draft: DraftRecord
    token: str


class DraftStore:
    """Create drafts, run them through the job and review lifecycle, list and read them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def open(cls, settings: Settings) -> DraftStore:
        """Open the configured database, upgrading its schema first."""
        engine = make_engine(settings.database_url)
        upgrade(engine)
        return cls(engine)

    # --- creation and reading -------------------------------------------------------------

    def create(
        self,
        *,
        kind: str,
        project: str,
        title: str,
        input: dict[str, Any],
        language: str | None = None,
        status: DraftStatus = S.QUEUED,
        requested_by: str = "cli",
        dedupe_key: str | None = None,
        request_hash: str | None = None,
    ) -> DraftRecord:
        """Store a new draft request; it is durable when this returns.

        With a ``dedupe_key`` already taken, the existing draft is returned instead, provided
        it was made for the same ``request_hash`` (a Conflict otherwise: a key reused for a
        different request must not answer with another request's draft).
        """
        return self.create_once(kind=kind, project=project, title=title, input=input,
                                language=language, status=status, requested_by=requested_by,
                                dedupe_key=dedupe_key, request_hash=request_hash)[0]

    def create_once(
        self,
        *,
        kind: str,
        project: str,
        title: str,
        input: dict[str, Any],
        language: str | None = None,
        status: DraftStatus = S.QUEUED,
        requested_by: str = "cli",
        dedupe_key: str | None = None,
        request_hash: str | None = None,
    ) -> tuple[DraftRecord, bool]:
        """:meth:`create`, and whether the draft is new (False: its ``dedupe_key`` found the
        draft an earlier request made, even one racing this one)."""
        try:
            with self._sessions.begin() as session:
                draft = Draft(
                    kind=kind, project=project, title=title[:300], input=input,
                    language=language, status=status, sources=[], attempts=0, revision=0,
                    requested_by=requested_by[:100], dedupe_key=dedupe_key,
                    request_hash=request_hash,
                )
                session.add(draft)
                session.flush()
                self._audit(session, draft.id, requested_by, "created",
                            {"kind": kind, "project": project})
                return DraftRecord.model_validate(draft), True
        except IntegrityError:
            if dedupe_key is None:
                raise
            with self._sessions() as session:
                existing = session.scalar(select(Draft).where(Draft.dedupe_key == dedupe_key))
                if existing is None:
                    raise
                if existing.request_hash != request_hash:
                    raise Conflict(
                        f"This idempotency key was used for another request (draft "
                        f"{existing.id}, a {existing.kind} draft).",
                        fix="use a new Idempotency-Key for a different request") from None
                return DraftRecord.model_validate(existing), False

    def get(self, draft_id: int) -> DraftRecord:
        with self._sessions() as session:
            return DraftRecord.model_validate(self._load(session, draft_id))

    def list(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        project: str | None = None,
        language: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[DraftRecord]:
        """Drafts, newest first, filtered."""
        query = select(Draft).order_by(Draft.id.desc()).limit(limit).offset(offset)
        for column, value in ((Draft.status, status), (Draft.kind, kind),
                              (Draft.project, project), (Draft.language, language)):
            if value:
                query = query.where(column == value)
        with self._sessions() as session:
            return [DraftRecord.model_validate(d) for d in session.scalars(query)]

    def counts(self, project: str | None = None) -> dict[str, int]:
        """How many drafts are in each status."""
        query = select(Draft.status, func.count()).group_by(Draft.status)
        if project:
            query = query.where(Draft.project == project)
        with self._sessions() as session:
            return {status: n for status, n in session.execute(query)}

    def completed(self, window_s: float = 300.0) -> dict[str, tuple[int, int]]:
        """Drafts completed per kind (their revision 1 stored): ever, and in the last
        ``window_s`` seconds. Read from the table, so every process sees the same figures."""
        cutoff = utcnow() - timedelta(seconds=window_s)
        recent = func.coalesce(func.sum(case((Revision.created_at >= cutoff, 1), else_=0)), 0)
        query = (select(Draft.kind, func.count(), recent)
                 .join(Revision, Revision.draft_id == Draft.id)
                 .where(Revision.number == 1).group_by(Draft.kind))
        with self._sessions() as session:
            return {kind: (int(n), int(r)) for kind, n, r in session.execute(query)}

    def revisions(self, draft_id: int) -> list[RevisionRecord]:
        with self._sessions() as session:
            self._load(session, draft_id)
            rows = session.scalars(select(Revision).where(Revision.draft_id == draft_id)
                                   .order_by(Revision.number))
            return [RevisionRecord.model_validate(r) for r in rows]

    def content(self, draft_id: int, number: int | None = None) -> RevisionRecord:
        """A revision (default: the newest)."""
        revisions = self.revisions(draft_id)
        for revision in reversed(revisions):
            if number is None or revision.number == number:
                return revision
        raise NotFound(f"Draft {draft_id} has no revision {number or ''}".strip() + ".",
                       fix="list its revisions")

    def audit(self, draft_id: int | None = None, limit: int = 200) -> list[AuditRecord]:
        query = select(AuditEntry).order_by(AuditEntry.id).limit(limit)
        if draft_id is not None:
            query = query.where(AuditEntry.draft_id == draft_id)
        with self._sessions() as session:
            return [AuditRecord.model_validate(a) for a in session.scalars(query)]

    def log(self, actor: str, action: str, detail: dict[str, Any],
            draft_id: int | None = None) -> None:
        """An audit entry for something that is not a draft transition (keys, publishing)."""
        with self._sessions.begin() as session:
            self._audit(session, draft_id, actor, action, detail)

    # --- the job ---------------------------------------------------------------------------

    def mark_enqueued(self, draft_ids: list[int], delay: float = 0.0) -> None:
        """Note when drafts were (or, for a delayed retry, will be) put on the queue."""
        with self._sessions.begin() as session:
            session.execute(update(Draft).where(Draft.id.in_(draft_ids))
                            .values(enqueued_at=utcnow() + timedelta(seconds=delay)))

    def claim(self, draft_id: int, lease_s: float, worker: str) -> Claim | None:
        """Take a queued draft (or one whose worker's lease ran out); None if another has it."""
        now = utcnow()
        token = secrets.token_hex(16)
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft)
                .where(Draft.id == draft_id, or_(
                    Draft.status == S.QUEUED,
                    and_(Draft.status == S.DRAFTING, Draft.lease_until < now),
                ))
                .values(status=S.DRAFTING, claim_token=token, attempts=Draft.attempts + 1,
                        lease_until=now + timedelta(seconds=lease_s))
            )
            if result.rowcount != 1:
                return None
            draft = self._load(session, draft_id)
            self._audit(session, draft_id, worker, "claimed", {"attempt": draft.attempts})
            return Claim(draft=DraftRecord.model_validate(draft), token=token)

    def renew(self, draft_id: int, token: str, lease_s: float) -> bool:
        """Extend a running job's lease; False if the job is no longer this worker's."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft).where(Draft.id == draft_id, Draft.claim_token == token,
                                    Draft.status == S.DRAFTING)
                .values(lease_until=utcnow() + timedelta(seconds=lease_s))
            )
            return result.rowcount == 1

    def complete(
        self,
        draft_id: int,
        *,
        token: str | None,
        output: dict[str, Any],
        sources: list[dict[str, Any]],
        content: DraftContent,
        prompt_name: str | None,
        prompt_version: int | None,
        model: str,
        confidence: float | None = None,
        language: str | None = None,
        actor: str = "worker",
    ) -> DraftRecord | None:
        """Record a finished draft as revision 1 and put it in the review queue.

        None when the claim was lost (another worker took the job over): the result is dropped,
        so a draft is never completed twice.
        """
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft).where(*self._job_guard(draft_id, token)).values(
                    output=output, sources=sources, prompt_name=prompt_name,
                    prompt_version=prompt_version, model=model, confidence=confidence,
                    language=func.coalesce(language, Draft.language), error=None,
                    status=S.PENDING_REVIEW, claim_token=None, lease_until=None, revision=1,
                )
            )
            if result.rowcount != 1:
                return None
            session.add(Revision(draft_id=draft_id, number=1, author=model[:100],
                                 content=content.model_dump(mode="json")))
            self._audit(session, draft_id, actor, "drafted", {"model": model})
            return DraftRecord.model_validate(self._load(session, draft_id))

    def release(self, draft_id: int, token: str, error: str) -> bool:
        """Give a job back to the queue after a transient failure (it will be retried)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft).where(*self._job_guard(draft_id, token))
                .values(status=S.QUEUED, claim_token=None, lease_until=None, error=error[:4000])
            )
            if result.rowcount == 1:
                self._audit(session, draft_id, "worker", "retry", {"error": error[:500]})
            return result.rowcount == 1

    def fail(self, draft_id: int, error: str, token: str | None = None) -> DraftRecord | None:
        """Mark a draft as failed with a readable error (None when the claim was lost)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft).where(*self._job_guard(draft_id, token))
                .values(status=S.FAILED, error=error[:4000], claim_token=None, lease_until=None)
            )
            if result.rowcount != 1:
                return None
            self._audit(session, draft_id, "worker", "failed", {"error": error[:500]})
            return DraftRecord.model_validate(self._load(session, draft_id))

    def expired_leases(self) -> list[int]:
        """Drafts whose worker stopped renewing its lease (killed, or the machine died)."""
        query = select(Draft.id).where(Draft.status == S.DRAFTING,
                                       Draft.lease_until < utcnow())
        with self._sessions() as session:
            return list(session.scalars(query.order_by(Draft.id).limit(500)))

    def never_enqueued(self, grace_s: float) -> list[int]:
        """Queued drafts stored more than ``grace_s`` ago whose message was never sent."""
        query = select(Draft.id).where(
            Draft.status == S.QUEUED, Draft.enqueued_at.is_(None),
            Draft.created_at < utcnow() - timedelta(seconds=grace_s))
        with self._sessions() as session:
            return list(session.scalars(query.order_by(Draft.id).limit(500)))

    def waiting(self, grace_s: float) -> list[int]:
        """Queued drafts whose message went out more than ``grace_s`` ago."""
        query = select(Draft.id).where(
            Draft.status == S.QUEUED, Draft.enqueued_at < utcnow() - timedelta(seconds=grace_s))
        with self._sessions() as session:
            return list(session.scalars(query.order_by(Draft.id).limit(500)))

    # --- the review ------------------------------------------------------------------------

    def edit(self, draft_id: int, content: DraftContent, author: str,
             note: str | None = None, *, base_revision: int) -> DraftRecord:
        """Store a human edit of ``base_revision`` (the one the editor started from) as a new
        revision; refused if someone else edited since, or if the draft is not pending."""
        with self._sessions.begin() as session:
            current = self._load(session, draft_id)
            if base_revision != current.revision:
                raise Conflict(
                    f"Draft {draft_id} is at revision {current.revision}; your edit started "
                    f"from {base_revision}.", fix="reload the draft and apply your edit again")
            draft = self._transition(session, draft_id, (S.PENDING_REVIEW,),
                                     {"revision": Draft.revision + 1}, revision=base_revision,
                                     idle=True)
            session.add(Revision(draft_id=draft_id, number=draft.revision, author=author[:100],
                                 note=note, content=content.model_dump(mode="json")))
            self._audit(session, draft_id, author, "edited",
                        {"revision": draft.revision, "note": note})
            return DraftRecord.model_validate(draft)

    def approve(self, draft_id: int, reviewer: str, revision: int) -> DraftRecord:
        """Approve ``revision``, the one the reviewer saw: refused unless it is the newest and
        stored (a draft without text cannot be approved)."""
        with self._sessions.begin() as session:
            current = self._load(session, draft_id)
            if revision != current.revision:
                raise Conflict(
                    f"Draft {draft_id} is at revision {current.revision}, not {revision}.",
                    fix="review the newest revision before approving",
                )
            stored = session.scalar(select(Revision.id).where(
                Revision.draft_id == draft_id, Revision.number == revision))
            if stored is None:
                raise Conflict(f"Draft {draft_id} has no revision {revision} to approve.",
                               fix="wait until it is drafted, or redraft it")
            draft = self._transition(
                session, draft_id, (S.PENDING_REVIEW,),
                {"status": S.APPROVED, "approved_revision": current.revision,
                 "reviewed_by": reviewer[:100], "reject_reason": None},
                revision=current.revision,
            )
            self._audit(session, draft_id, reviewer, "approved", {"revision": draft.revision})
            return DraftRecord.model_validate(draft)

    def reject(self, draft_id: int, reviewer: str, reason: str) -> DraftRecord:
        """Reject a pending (or approved, not yet published) draft, with a reason."""
        with self._sessions.begin() as session:
            draft = self._transition(
                session, draft_id, (S.PENDING_REVIEW, S.APPROVED),
                {"status": S.REJECTED, "reject_reason": reason[:2000],
                 "reviewed_by": reviewer[:100], "approved_revision": None},
                idle=True,
            )
            self._audit(session, draft_id, reviewer, "rejected", {"reason": reason[:500]})
            return DraftRecord.model_validate(draft)

    def lock_publish(self, draft_id: int, lease_s: float) -> str:
        """Hold an approved draft while it is published, so two publishes cannot both post."""
        now, token = utcnow(), secrets.token_hex(16)
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft).where(
                    Draft.id == draft_id, Draft.status == S.APPROVED,
                    or_(Draft.claim_token.is_(None), Draft.lease_until < now))
                .values(claim_token=token, lease_until=now + timedelta(seconds=lease_s)))
            if result.rowcount != 1:
                draft = self._load(session, draft_id)
                raise Conflict(
                    f"Draft {draft_id} is {draft.status}"
                    + (" and being published by another request" if draft.claim_token else "")
                    + ".", fix="reload the draft; publish it once it is approved and idle")
        return token

    def renew_publish(self, draft_id: int, token: str, lease_s: float) -> bool:
        """Extend a publish lease; False when it is no longer this publisher's (it ran out and
        another took it) or the draft is no longer approved."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Draft).where(Draft.id == draft_id, Draft.claim_token == token,
                                    Draft.status == S.APPROVED)
                .values(lease_until=utcnow() + timedelta(seconds=lease_s)))
            return result.rowcount == 1

    def mark_published(self, draft_id: int, actor: str, url: str,
                       detail: dict[str, Any]) -> DraftRecord:
        """Record that the draft's text is on the forge, with its ``published`` audit row.

        Called whenever a comment exists, so it is recorded from any state a publish can
        find at its end: the text is out, whatever happened to the draft meanwhile.
        """
        with self._sessions.begin() as session:
            before = self._load(session, draft_id).status
            draft = self._transition(
                session, draft_id, (S.APPROVED, S.REJECTED, S.PUBLISHED),
                {"status": S.PUBLISHED, "published_at": utcnow(), "published_url": url[:500],
                 "error": None, "claim_token": None, "lease_until": None},
            )
            extra = {} if before == S.APPROVED else {"status_before": before}
            self._audit(session, draft_id, actor, "published", {"url": url, **detail, **extra})
            return DraftRecord.model_validate(draft)

    def publish_failed(self, draft_id: int, actor: str, error: str, token: str) -> None:
        """Keep the draft approved (publishing can be retried) and record the error."""
        with self._sessions.begin() as session:
            session.execute(update(Draft).where(Draft.id == draft_id,
                                                Draft.claim_token == token)
                            .values(error=error[:4000], claim_token=None, lease_until=None))
            self._audit(session, draft_id, actor, "publish_failed", {"error": error[:500]})

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _job_guard(draft_id: int, token: str | None) -> tuple[Any, ...]:
        if token is None:
            return (Draft.id == draft_id, Draft.status.in_((S.DRAFTING, S.QUEUED)))
        return (Draft.id == draft_id, Draft.status == S.DRAFTING, Draft.claim_token == token)

    def _transition(self, session: Session, draft_id: int, allowed: tuple[DraftStatus, ...],
                    values: dict[str, Any], revision: int | None = None,
                    idle: bool = False) -> Draft:
        """One guarded update; ``idle``: refused while a publish holds a live lease."""
        guard = [Draft.id == draft_id, Draft.status.in_(allowed)]
        if revision is not None:
            guard.append(Draft.revision == revision)
        if idle:
            guard.append(or_(Draft.claim_token.is_(None), Draft.lease_until < utcnow()))
        result = session.execute(update(Draft).where(*guard).values(**values)
                                 .execution_options(synchronize_session=False))
        draft = self._load(session, draft_id)
        if result.rowcount != 1 and idle and draft.status in allowed and draft.claim_token \
                and draft.lease_until and draft.lease_until >= utcnow():
            raise Conflict(f"Draft {draft_id} is being published right now.",
                           fix="wait for the publish to finish or fail, then reload the draft")
        if result.rowcount != 1:
            wanted = " or ".join(allowed)
            raise Conflict(
                f"Draft {draft_id} is {draft.status}; this needs it to be {wanted}.",
                fix="reload the draft and check its status",
            )
        session.refresh(draft)
        return draft

    @staticmethod
    def _audit(session: Session, draft_id: int | None, actor: str, action: str,
               detail: dict[str, Any]) -> None:
        session.add(AuditEntry(draft_id=draft_id, actor=actor[:100], action=action,
                               detail=detail))

    @staticmethod
    def _load(session: Session, draft_id: int) -> Draft:
        draft = session.get(Draft, draft_id)
        if draft is None:
            raise NotFound(
                f"Draft {draft_id} does not exist.", fix="list drafts with `devrel drafts list`"
            )
        return draft
