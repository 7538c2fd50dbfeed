"""Issue and PR history for activity reports: one row per issue/PR, one per comment or review.

The vector index keeps passages, not history; these tables keep what metrics need (who opened,
commented, reviewed, merged, and when). Ingest upserts them by (project, number), so re-ingesting
the same dump changes nothing. Plain SELECT-then-INSERT/UPDATE keeps it the same on SQLite and
PostgreSQL; a concurrent ingest of the same issue that wins the race makes the loser retry once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.errors import ProviderUnavailable
from assistant.settings import Settings
from assistant.store.db import make_engine, session_factory, upgrade
from assistant.store.models import Base, JSONType, UTCDateTime, utcnow


class ActivityItem(Base):
    """An issue or pull request as it stood when last ingested."""

    __tablename__ = "activity_items"
    __table_args__ = (UniqueConstraint("project", "repo", "number",
                                       name="uq_activity_items_repo_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(String(64), index=True)
    repo: Mapped[str] = mapped_column(String(160), default="", server_default="")
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # issue | pull_request
    title: Mapped[str] = mapped_column(String(1024), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16), default="")
    author: Mapped[str] = mapped_column(String(100), default="")
    author_association: Mapped[str] = mapped_column(String(32), default="")
    labels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    assignees: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ActivityComment(Base):
    """A comment on, or a review of, an issue or PR (who and when; the text is in the index)."""

    __tablename__ = "activity_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("activity_items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="comment")  # comment | review
    author: Mapped[str] = mapped_column(String(100), default="")
    author_association: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class EventRow:
    """A comment or review to store."""

    kind: str
    author: str
    author_association: str
    created_at: datetime | None


@dataclass(frozen=True)
class ItemRow:
    """An issue or PR to store; ``events`` None means "not in this input, keep the stored ones"."""

    number: int
    kind: str
    title: str
    url: str
    state: str
    author: str
    author_association: str
    labels: list[str]
    assignees: list[str]
    created_at: datetime | None
    closed_at: datetime | None
    merged_at: datetime | None
    updated_at: datetime | None
    events: list[EventRow] | None
    repo: str = ""


@dataclass(frozen=True)
class UpsertCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


_FIELDS = ("kind", "title", "url", "state", "author", "author_association", "labels",
           "assignees", "created_at", "closed_at", "merged_at", "updated_at")


class ActivityStore:
    """Read and write the activity tables of the app database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def open(cls, settings: Settings) -> ActivityStore:
        """The configured database, schema upgraded (the caller disposes of ``engine``)."""
        engine = make_engine(settings.database_url)
        upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def upsert(self, project: str, rows: Iterable[ItemRow]) -> UpsertCounts:
        """Insert or update each issue/PR by (project, repo, number) and replace its comments.
        A row stored before repos were recorded (repo "") is adopted by the first repo that
        brings its number."""
        rows = list(rows)
        if not rows:
            return UpsertCounts()
        for attempt in range(2):
            try:
                with self._sessions.begin() as session:
                    return self._upsert(session, project, rows)
            except IntegrityError:  # another ingest inserted the same number first
                if attempt:
                    raise
            except OperationalError as exc:
                raise ProviderUnavailable(
                    f"Cannot write issue history to the database: {str(exc.orig).splitlines()[0]}",
                    fix="check DEVREL_DATABASE__URL and run the ingest again (it converges)",
                ) from None
        raise AssertionError("unreachable")

    def _upsert(self, session: Session, project: str, rows: list[ItemRow]) -> UpsertCounts:
        added = updated = unchanged = 0
        numbers = sorted({r.number for r in rows})
        existing: dict[tuple[str, int], ActivityItem] = {}
        for start in range(0, len(numbers), 500):
            found = session.scalars(select(ActivityItem).where(
                ActivityItem.project == project,
                ActivityItem.number.in_(numbers[start:start + 500])))
            existing.update({(item.repo, item.number): item for item in found})
        for row in rows:  # adopt rows from before repos were recorded
            legacy = existing.get(("", row.number))
            if row.repo and (row.repo, row.number) not in existing and legacy is not None:
                legacy.repo = row.repo
                existing[(row.repo, row.number)] = existing.pop(("", row.number))
        stored_events = self._events_of(session, [i.id for i in existing.values()])
        for row in rows:
            values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
            item = existing.get((row.repo, row.number))
            if item is None:
                item = ActivityItem(project=project, repo=row.repo, number=row.number, **values)
                session.add(item)
                session.flush()
                added += 1
                before: list[EventRow] = []
            else:
                before = stored_events.get(item.id, [])
                same_events = row.events is None or _sorted(row.events) == _sorted(before)
                if all(getattr(item, k) == v for k, v in values.items()) and same_events:
                    unchanged += 1
                    continue
                for name, value in values.items():
                    setattr(item, name, value)
                item.ingested_at = utcnow()
                updated += 1
            if row.events is not None and _sorted(row.events) != _sorted(before):
                session.execute(delete(ActivityComment).where(ActivityComment.item_id == item.id))
                session.add_all(ActivityComment(item_id=item.id, kind=e.kind, author=e.author,
                                                author_association=e.author_association,
                                                created_at=e.created_at) for e in row.events)
        return UpsertCounts(added, updated, unchanged)

    @staticmethod
    def _events_of(session: Session, item_ids: list[int]) -> dict[int, list[EventRow]]:
        events: dict[int, list[EventRow]] = {}
        for start in range(0, len(item_ids), 500):
            for c in session.scalars(select(ActivityComment).where(
                    ActivityComment.item_id.in_(item_ids[start:start + 500]))):
                events.setdefault(c.item_id, []).append(
                    EventRow(c.kind, c.author, c.author_association, c.created_at))
        return events

    def items(self, project: str) -> list[tuple[ActivityItem, list[EventRow]]]:
        """Every stored issue/PR of a project with its comments and reviews."""
        with self._sessions() as session:
            items = list(session.scalars(select(ActivityItem).where(
                ActivityItem.project == project).order_by(ActivityItem.number)))
            events = self._events_of(session, [i.id for i in items])
        return [(item, events.get(item.id, [])) for item in items]

    def count(self, project: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(ActivityItem).where(
                ActivityItem.project == project)) or 0)

    def comment_count(self, project: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(
                select(func.count()).select_from(ActivityComment).join(ActivityItem).where(
                    ActivityItem.project == project)) or 0)

    def projects(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(ActivityItem.project).distinct()))


def _sorted(events: list[EventRow]) -> list[tuple[float, str, str, str]]:
    return sorted((e.created_at.timestamp() if e.created_at else 0.0, e.kind, e.author,
                   e.author_association) for e in events)
