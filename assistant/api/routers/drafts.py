"""Drafts: create (queued for a worker), list, read, edit, approve, reject, publish."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from assistant.api.deps import BotDep, Caller, RecordId, ReviewerDep, Services, ServicesDep
from assistant.api.errors import ErrorResponse, responses
from assistant.api.schemas import (
    Accepted,
    ApproveRequest,
    AuditOut,
    DraftList,
    DraftOut,
    DraftSummary,
    EditRequest,
    RejectRequest,
    RevisionOut,
    request_model,
)
from assistant.drafting.registry import KINDS
from assistant.kinds.base import Kind
from assistant.redact import redact_json
from assistant.services import review
from assistant.services.desk import create_draft
from assistant.store.drafts import DraftRecord
from assistant.store.models import DraftKind, DraftStatus, Role

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/drafts", tags=["drafts"])
ERRORS = responses(401, 403, 404, 409, 422, 429)
CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"model": DraftOut, "description": "With `?wait=true`, the finished draft."},
}
DONE = {DraftStatus.PENDING_REVIEW, DraftStatus.FAILED}
WaitQuery = Annotated[bool, Query(description="Wait (up to api.wait_max_s) for the draft.")]
IdempotencyKey = Annotated[str | None, Header(
    max_length=200, description="Send the same key again to get the same draft, not a new one.")]


def _out(services: Services, record: DraftRecord, caller: Caller | None = None) -> DraftOut:
    """A draft as the API serves it; a bot key sees its input with secrets redacted (the raw
    issue is for reviewers)."""
    content = None
    if record.revision:
        content = services.ctx.drafts().content(record.id).content
    data = record.model_dump()
    if caller is None or caller.key.role.rank < Role.REVIEWER.rank:
        data["input"] = redact_json(data["input"])
    return DraftOut(**data, content=content)


def request_hash(kind: Kind, project: str | None, data: Any) -> str:
    """What an idempotency key stands for: the route (kind), the project and the body."""
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    canonical = json.dumps([kind.name.value, project, body], sort_keys=True, default=str,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _create(services: Services, request: Request, response: Response, kind: Kind,
                  data: Any, project: str | None, caller: BotDep, wait: bool,
                  idempotency_key: str | None) -> Any:
    dedupe = f"api:{caller.key.id}:{idempotency_key}" if idempotency_key else None
    digest = request_hash(kind, project, data) if dedupe else None
    record = await run_in_threadpool(create_draft, services.ctx, services.queue, kind.name, data,
                                     project=project, requested_by=caller.name,
                                     dedupe_key=dedupe, request_hash=digest)
    if wait:
        deadline = time.monotonic() + services.ctx.settings.api.wait_max_s
        while record.status not in DONE and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            record = await run_in_threadpool(services.ctx.drafts().get, record.id)
        if record.status in DONE:
            response.status_code = 200
            return await run_in_threadpool(_out, services, record, caller)
    response.status_code = 202
    return Accepted(id=record.id, status=record.status,
                    url=str(request.url_for("get_draft", draft_id=record.id)))


def _kind_route(kind: Kind) -> None:
    """The creation route of a kind: its request body is the kind's input plus the project."""
    model = request_model(kind)

    async def create(body: Any, services: ServicesDep, request: Request, response: Response,
                     caller: BotDep, wait: WaitQuery = False,
                     idempotency_key: IdempotencyKey = None) -> Any:
        data = getattr(body, kind.body_field) if kind.body_field else \
            kind.input_model.model_construct(**{f: getattr(body, f)
                                                for f in kind.input_model.model_fields})
        return await _create(services, request, response, kind, data, body.project, caller,
                             wait, idempotency_key)

    create.__annotations__["body"] = model
    create.__name__ = create.__qualname__ = f"create_{kind.name.value}"
    create.__doc__ = kind.summary
    router.post(f"/{kind.route}", status_code=202, response_model=Accepted | DraftOut,
                responses=CREATE_RESPONSES)(create)


for _kind in KINDS.values():
    _kind_route(_kind)


@router.get("", response_model=DraftList, responses=ERRORS)
def list_drafts(
    services: ServicesDep, _: BotDep,
    status: Annotated[DraftStatus | None, Query()] = None,
    kind: Annotated[DraftKind | None, Query()] = None,
    project: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DraftList:
    """Drafts, newest first, filtered by status, kind, project and language."""
    store = services.ctx.drafts()
    records = store.list(status=status, kind=kind, project=project, language=language,
                         limit=limit, offset=offset)
    return DraftList(items=[DraftSummary.model_validate(r) for r in records],
                     counts=store.counts(project))


# The reads take only digits as an id (OpenAPI still shows `/{draft_id}`), so `GET
# /v1/drafts/triage` is a 405 for a kind's creation route, not a 422 about a draft id.
@router.get("/{draft_id:int}", response_model=DraftOut, responses=ERRORS, name="get_draft")
def get_draft(draft_id: RecordId, services: ServicesDep, caller: BotDep) -> DraftOut:
    """One draft: input (redacted for bot keys), output, sources, status, newest revision."""
    return _out(services, services.ctx.drafts().get(draft_id), caller)


@router.get("/{draft_id:int}/revisions", response_model=list[RevisionOut], responses=ERRORS)
def list_revisions(draft_id: RecordId, services: ServicesDep, _: BotDep) -> list[RevisionOut]:
    """Every revision: 1 is the model's draft, later ones are reviewers' edits."""
    return [RevisionOut(**r.model_dump()) for r in services.ctx.drafts().revisions(draft_id)]


@router.get("/{draft_id:int}/audit", response_model=list[AuditOut], responses=ERRORS)
def draft_audit(draft_id: RecordId, services: ServicesDep, _: BotDep) -> list[AuditOut]:
    """Who did what to the draft, and when."""
    store = services.ctx.drafts()
    store.get(draft_id)
    return [AuditOut(**a.model_dump()) for a in store.audit(draft_id)]


@router.post("/{draft_id}/edit", response_model=DraftOut, responses=ERRORS)
def edit_draft(draft_id: RecordId, body: EditRequest, services: ServicesDep,
               caller: ReviewerDep) -> DraftOut:
    """Save an edit of `base_revision` as a new revision (409 if another was saved since)."""
    record = review.edit_draft(services.ctx, draft_id, body.content, caller.name, body.note,
                               base_revision=body.base_revision)
    return _out(services, record, caller)


@router.post("/{draft_id}/approve", response_model=DraftOut, responses=ERRORS)
def approve_draft(draft_id: RecordId, body: ApproveRequest, services: ServicesDep,
                  caller: ReviewerDep) -> DraftOut:
    """Approve the revision you reviewed (409 if it is no longer the newest)."""
    record = review.approve_draft(services.ctx, draft_id, caller.name, body.revision)
    return _out(services, record, caller)


@router.post("/{draft_id}/reject", response_model=DraftOut, responses=ERRORS)
def reject_draft(draft_id: RecordId, body: RejectRequest, services: ServicesDep,
                 caller: ReviewerDep) -> DraftOut:
    """Reject a draft, with a reason for the record."""
    record = review.reject_draft(services.ctx, draft_id, caller.name, body.reason)
    return _out(services, record, caller)


@router.post("/{draft_id}/publish", response_model=DraftOut,
             responses={**ERRORS, 502: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
def publish_draft(draft_id: RecordId, services: ServicesDep, caller: ReviewerDep) -> DraftOut:
    """Post an approved triage draft to its GitHub issue (comment and labels), once."""
    return _out(services, review.publish_draft(services.ctx, draft_id, caller.name), caller)
