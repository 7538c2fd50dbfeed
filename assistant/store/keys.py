"""API keys: created once (the secret is shown once), stored as SHA-256 hashes, with roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, select, update

from assistant.errors import InvalidInput, NotFound
from assistant.store.db import session_factory
from assistant.store.models import ApiKey, AuditEntry, Role, utcnow

KEY_PREFIX = "devrel_"


class KeyRecord(BaseModel):
    """A key as listed (never the secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class KeyStore:
    """Create, verify, list and revoke API keys."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def create(self, name: str, role: str, actor: str = "cli") -> tuple[KeyRecord, str]:
        """A new key; the secret is returned here and nowhere else."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput(f"Unknown role {role!r}.",
                               fix=f"use one of: {', '.join(r.value for r in Role)}") from None
        if not name.strip():
            raise InvalidInput("A key needs a name.", fix="say who or what will use it")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            key = ApiKey(name=name.strip()[:100], prefix=secret[:12], hash=hash_key(secret),
                         role=role.value)
            session.add(key)
            session.flush()
            session.add(AuditEntry(actor=actor, action="key_created",
                                   detail={"key_id": key.id, "name": key.name, "role": role}))
            return KeyRecord.model_validate(key), secret

    def verify(self, secret: str) -> KeyRecord | None:
        """The live key with this secret, or None."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        with self._sessions() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.hash == hash_key(secret),
                                                      ApiKey.revoked_at.is_(None)))
            return KeyRecord.model_validate(key) if key else None

    def live(self, key_id: int) -> KeyRecord | None:
        """The key with this id unless it was revoked (or never existed)."""
        with self._sessions() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.id == key_id,
                                                      ApiKey.revoked_at.is_(None)))
            return KeyRecord.model_validate(key) if key else None

    def list(self) -> list[KeyRecord]:
        with self._sessions() as session:
            return [KeyRecord.model_validate(k)
                    for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]

    def revoke(self, key_id: int, actor: str = "cli") -> KeyRecord:
        with self._sessions.begin() as session:
            session.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                            .values(revoked_at=utcnow()))
            key = session.get(ApiKey, key_id)
            if key is None:
                raise NotFound(f"API key {key_id} does not exist.", fix="see `devrel keys list`")
            session.add(AuditEntry(actor=actor, action="key_revoked", detail={"key_id": key_id}))
            return KeyRecord.model_validate(key)
