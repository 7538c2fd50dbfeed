"""GitHub webhook deliveries, each acted on once (``X-GitHub-Delivery`` is the key)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError

from assistant.store.db import session_factory
from assistant.store.models import WebhookDelivery


class DeliveryStore:
    """Claim a delivery id before acting on it; a redelivery finds it taken."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def first_time(self, delivery_id: str, event: str) -> bool:
        """Record the delivery; False if it was seen before."""
        try:
            with self._sessions.begin() as session:
                session.add(WebhookDelivery(delivery_id=delivery_id[:100], event=event[:50],
                                            outcome="received"))
            return True
        except IntegrityError:
            return False

    def outcome(self, delivery_id: str, outcome: str, draft_id: int | None = None) -> None:
        with self._sessions.begin() as session:
            session.execute(update(WebhookDelivery)
                            .where(WebhookDelivery.delivery_id == delivery_id[:100])
                            .values(outcome=outcome[:300], draft_id=draft_id))

    def forget(self, delivery_id: str) -> None:
        """Drop a delivery whose handling failed, so GitHub's redelivery is acted on."""
        with self._sessions.begin() as session:
            session.execute(delete(WebhookDelivery)
                            .where(WebhookDelivery.delivery_id == delivery_id[:100]))
