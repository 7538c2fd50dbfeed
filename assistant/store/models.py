"""Database tables. Schema changes go through a new Alembic revision in ``migrations/``."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class DraftStatus(enum.StrEnum):
    """Where a draft is in the review workflow."""

    QUEUED = "queued"
    DRAFTING = "drafting"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    FAILED = "failed"


class DraftKind(enum.StrEnum):
    """What a draft is."""

    TRIAGE = "triage"
    RELEASE_NOTES = "release_notes"
    ANNOUNCEMENT = "announcement"
    NEWCOMER_GUIDE = "newcomer_guide"
    MEETING_SUMMARY = "meeting_summary"


class Base(DeclarativeBase):
    pass


class Draft(Base):
    """A piece of text the assistant drafted, waiting for (or past) human review."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    project: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True, default=DraftStatus.QUEUED)
    title: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    input: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    prompt_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prompt_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
