"""API keys (admin only): create, list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import AdminDep, RecordId, ServicesDep
from assistant.api.errors import responses
from assistant.api.schemas import KeyCreate, KeyCreated, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])
ERRORS = responses(401, 403, 404, 422, 429)


@router.post("", status_code=201, response_model=KeyCreated, responses=ERRORS)
def create_key(body: KeyCreate, services: ServicesDep, caller: AdminDep) -> KeyCreated:
    """Create a key; its secret is in this response only."""
    record, secret = services.keys.create(body.name, body.role, actor=caller.name)
    return KeyCreated(**record.model_dump(), secret=secret)


@router.get("", response_model=list[KeyOut], responses=ERRORS)
def list_keys(services: ServicesDep, _: AdminDep) -> list[KeyOut]:
    """All keys (never their secrets)."""
    return [KeyOut(**k.model_dump()) for k in services.keys.list()]


@router.delete("/{key_id}", response_model=KeyOut, responses=ERRORS)
def revoke_key(key_id: RecordId, services: ServicesDep, caller: AdminDep) -> KeyOut:
    """Revoke a key; requests with it are refused from now on."""
    return KeyOut(**services.keys.revoke(key_id, actor=caller.name).model_dump())
