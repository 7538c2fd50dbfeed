"""Request and response models of the API, with the examples shown in its OpenAPI docs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.release.models import AnnouncementInput, ReleaseNotesInput
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.keys import KeyRecord
from assistant.store.models import Role
from assistant.triage.models import IssueInput

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2100, 12, 31)  # the periods activity covers
PROJECT = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
                description="Project (default: the configured one).", examples=["kvlite"])


class TriageRequest(BaseModel):
    """An issue to triage."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "kvlite",
        "issue": {"title": "database is locked after a crash",
                  "body": "kvlite 0.4.1 on Linux: after kill -9 every open() fails with "
                          "'database is locked'.", "author": "alice",
                  "repo": "example-org/kvlite", "number": 101},
    }]})

    project: str | None = PROJECT
    issue: IssueInput


class ReleaseNotesRequest(ReleaseNotesInput):
    """Release notes for a version: a range of the project's clone, or a list of changes."""

    project: str | None = PROJECT


class AnnouncementRequest(AnnouncementInput):
    """A blog post, social post or mailing-list mail (EN and ZH) from approved release notes."""

    project: str | None = PROJECT


class NewcomerGuideRequest(BaseModel):
    """A guide for a newcomer with an interest, in a language."""

    project: str | None = PROJECT
    interest: str = Field(..., max_length=500, examples=["storage engine"])
    language: Literal["en", "zh"] = "en"


class MeetingSummaryRequest(BaseModel):
    """A summary of meeting notes: decisions, action items, open questions (EN for a ZH note)."""

    project: str | None = PROJECT
    notes: str = Field(..., max_length=200_000,
                       examples=["# Community call 2026-10-07\n## Decisions\n- Ship 0.5 on "
                                 "Oct 20\n## Action items\n- @mia: draft the release notes "
                                 "by 2026-10-14"])
    language: Literal["en", "zh"] | None = None
    title: str | None = Field(None, max_length=300)
    date: str | None = Field(None, max_length=32, description="ISO date of the meeting.")


class CommunityUpdateRequest(BaseModel):
    """A short bilingual community update for a period, from the ingested issues and PRs."""

    project: str | None = PROJECT
    since: date = Field(..., ge=FIRST_DAY, le=LAST_DAY, examples=["2026-10-01"])
    until: date = Field(..., ge=FIRST_DAY, le=LAST_DAY, examples=["2026-10-31"])
    unanswered_days: int = Field(7, ge=0, le=3650)


class Accepted(BaseModel):
    """A draft was stored and queued; poll ``GET /v1/drafts/{id}``."""

    id: int
    status: str
    url: str = Field(description="Where to read the draft.")


class DraftOut(DraftRecord):
    """A draft with its newest revision (what a reviewer edits)."""

    content: DraftContent | None = None


class DraftSummary(BaseModel):
    """A draft in a list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    project: str
    status: str
    title: str
    language: str | None
    confidence: float | None
    revision: int
    created_at: datetime
    updated_at: datetime


class DraftList(BaseModel):
    items: list[DraftSummary]
    counts: dict[str, int] = Field(description="Drafts per status (all kinds, all languages).")


class EditRequest(BaseModel):
    """A reviewer's edit; ``base_revision`` guards against overwriting someone else's edit."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "content": {"text": "Thanks for the report! …", "labels": ["bug"], "duplicates": []},
        "base_revision": 1, "note": "softer wording",
    }]})

    content: DraftContent
    base_revision: int | None = Field(None, ge=1)
    note: str | None = Field(None, max_length=2000)


class ApproveRequest(BaseModel):
    revision: int | None = Field(None, ge=1, description="The revision reviewed (must be newest).")


class RejectRequest(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000,
                        examples=["not a bug: works as designed"])


class SearchRequest(BaseModel):
    """A query over a project's index."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"query": "database is locked", "project": "kvlite", "k": 3}]})

    query: str = Field(..., min_length=1, max_length=2000)
    project: str | None = PROJECT
    k: int = Field(5, ge=1, le=50)
    kind: Literal["doc", "issue", "pull_request", "meeting_notes"] | None = None
    mode: Literal["dense", "bm25", "hybrid"] | None = None


class SearchHit(BaseModel):
    score: float
    scores: dict[str, float]
    kind: str | None
    url: str
    title: str
    heading: str
    path: str
    language: str | None
    text: str


class KeyCreate(BaseModel):
    name: str = Field(..., min_length=1, max_length=100, examples=["triage-bot"])
    role: Role = Role.BOT


class KeyOut(KeyRecord):
    """An API key as listed (never its secret)."""


class KeyCreated(KeyOut):
    secret: str = Field(description="Shown once; store it now.")


class RevisionOut(BaseModel):
    number: int
    content: DraftContent
    author: str
    note: str | None
    created_at: datetime


class AuditOut(BaseModel):
    id: int
    draft_id: int | None
    actor: str
    action: str
    detail: dict[str, Any]
    at: datetime


class SyncAccepted(BaseModel):
    project: str
    status: Literal["queued"] = "queued"


class WebhookResult(BaseModel):
    status: Literal["queued", "duplicate", "ignored", "pong"]
    draft_id: int | None = None
    reason: str | None = None


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]
