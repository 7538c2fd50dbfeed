"""Search over a project's index, for other bots."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import BotDep, ServicesDep
from assistant.api.errors import responses
from assistant.api.schemas import SearchHit, SearchRequest
from assistant.services.index_info import search_index

router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", response_model=list[SearchHit],
             responses=responses(401, 404, 409, 422, 429))
def search(body: SearchRequest, services: ServicesDep, _: BotDep) -> list[SearchHit]:
    """Passages for a query, ranked the way the drafting chains retrieve them."""
    rows = search_index(services.ctx, body.query, k=body.k, project=body.project,
                        kind=body.kind, mode=body.mode)
    return [SearchHit(**row) for row in rows]
