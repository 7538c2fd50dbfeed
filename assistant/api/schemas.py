"""Request and response models of the API, with the examples shown in its OpenAPI docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from assistant.kinds.base import Kind
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.keys import KeyRecord
from assistant.store.models import Role

PROJECT = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
                description="Project (default: the configured one).", examples=["kvlite"])


def request_model(kind: Kind) -> type[BaseModel]:
    """The API body of a kind: its input model plus the project, or ``{project, <field>:
    input}`` when the kind nests its input (triage's ``issue``)."""
    name = f"{type(kind).__name__}Request"
    extra = {"examples": list(kind.examples)} if kind.examples else None
    config = ConfigDict(json_schema_extra=extra) if extra else ConfigDict()
    if kind.body_field:
        return create_model(name, __doc__=kind.input_model.__doc__, __config__=config,
                            project=(str | None, PROJECT),
                            **{kind.body_field: (kind.input_model, ...)})
    return create_model(name, __base__=kind.input_model, __doc__=kind.input_model.__doc__,
                        project=(str | None, PROJECT))


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
    base_revision: int = Field(..., ge=1, le=1_000_000, description=(
        "The revision the edit started from; a 409 when someone saved another since."))
    note: str | None = Field(None, max_length=2000)


class ApproveRequest(BaseModel):
    """Approval names the revision the reviewer read: a 409 when the draft moved on since."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"revision": 2}]})

    revision: int = Field(..., ge=1, le=1_000_000,
                          description="The revision reviewed (must be the newest).")


class RejectRequest(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000, pattern=r"\S",
                        examples=["not a bug: works as designed"],
                        description="Why, for the record (not only whitespace).")


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
