"""Secrets the server makes for itself, kept in the database so every worker shares them."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from assistant.store.db import session_factory
from assistant.store.models import ServerSecret


def server_secret(engine: Engine, name: str) -> bytes:
    """The secret called ``name``: 32 random bytes made on first use; racing first uses
    agree on one (the insert that loses reads the winner's)."""
    sessions = session_factory(engine)
    with sessions() as session:
        found = session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if found is None:
        try:
            with sessions.begin() as session:
                session.add(ServerSecret(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        with sessions() as session:
            found = session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if found is None:  # pragma: no cover - the insert above either stored it or lost to one
        raise RuntimeError(f"server secret {name!r} could not be stored")
    return bytes.fromhex(found)
