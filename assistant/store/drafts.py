"""The drafts repository: the only code that reads and writes the drafts table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, select

from assistant.errors import InvalidInput
from assistant.settings import Settings
from assistant.store.db import make_engine, session_factory, upgrade
from assistant.store.models import Draft, DraftStatus


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
    created_at: datetime
    updated_at: datetime


class DraftStore:
    """Create drafts, record their results, list and read them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def open(cls, settings: Settings) -> DraftStore:
        """Open the configured database, upgrading its schema first."""
        engine = make_engine(settings.database_url)
        upgrade(engine)
        return cls(engine)

    def create(
        self,
        *,
        kind: str,
        project: str,
        title: str,
        input: dict[str, Any],
        language: str | None = None,
        status: DraftStatus = DraftStatus.QUEUED,
    ) -> DraftRecord:
        """Store a new draft request; it is durable when this returns."""
        with self._sessions.begin() as session:
            draft = Draft(
                kind=kind, project=project, title=title[:300], input=input,
                language=language, status=status, sources=[],
            )
            session.add(draft)
            session.flush()
            return DraftRecord.model_validate(draft)

    def complete(
        self,
        draft_id: int,
        *,
        output: dict[str, Any],
        sources: list[dict[str, Any]],
        prompt_name: str,
        prompt_version: int,
        model: str,
        confidence: float | None = None,
        language: str | None = None,
    ) -> DraftRecord:
        """Record a finished draft and put it in the review queue."""
        with self._sessions.begin() as session:
            draft = self._load(session, draft_id)
            draft.output = output
            draft.sources = sources
            draft.prompt_name = prompt_name
            draft.prompt_version = prompt_version
            draft.model = model
            draft.confidence = confidence
            draft.language = language or draft.language
            draft.error = None
            draft.status = DraftStatus.PENDING_REVIEW
            session.flush()
            return DraftRecord.model_validate(draft)

    def fail(self, draft_id: int, error: str) -> DraftRecord:
        """Mark a draft as failed with a readable error."""
        with self._sessions.begin() as session:
            draft = self._load(session, draft_id)
            draft.status = DraftStatus.FAILED
            draft.error = error[:4000]
            session.flush()
            return DraftRecord.model_validate(draft)

    def get(self, draft_id: int) -> DraftRecord:
        with self._sessions() as session:
            return DraftRecord.model_validate(self._load(session, draft_id))

    def list(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        project: str | None = None,
        limit: int = 50,
    ) -> list[DraftRecord]:
        """Drafts, newest first, filtered."""
        query = select(Draft).order_by(Draft.id.desc()).limit(limit)
        if status:
            query = query.where(Draft.status == status)
        if kind:
            query = query.where(Draft.kind == kind)
        if project:
            query = query.where(Draft.project == project)
        with self._sessions() as session:
            return [DraftRecord.model_validate(d) for d in session.scalars(query)]

    @staticmethod
    def _load(session: Any, draft_id: int) -> Draft:
        draft = session.get(Draft, draft_id)
        if draft is None:
            raise InvalidInput(
                f"Draft {draft_id} does not exist.", fix="list drafts with `devrel drafts list`"
            )
        return draft
