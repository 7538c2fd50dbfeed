"""GitHub webhook deliveries, each acted on once (``X-GitHub-Delivery`` is the key)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from assistant.store.db import session_factory
from assistant.store.models import WebhookDelivery

RECEIVED = "received"  # recorded, not yet acted on


class DeliveryStore:
    """Claim a delivery id before acting on it; a redelivery finds it taken."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def first_time(self, delivery_id: str, event: str) -> bool:
        """Record the delivery; False if it was handled before.

        A delivery still marked ``received`` was never finished (the process died between
        recording it and storing its draft), so it counts as unseen: acting on it again is
        safe, because the drafts it makes carry a dedupe key.
        """
        try:
            with self._sessions.begin() as session:
                session.add(WebhookDelivery(delivery_id=delivery_id[:100], event=event[:50],
                                            outcome=RECEIVED))
            return True
        except IntegrityError:
            with self._sessions() as session:
                outcome = session.scalar(select(WebhookDelivery.outcome).where(
                    WebhookDelivery.delivery_id == delivery_id[:100]))
            return outcome == RECEIVED

    def draft_of(self, delivery_id: str) -> int | None:
        """The draft a handled delivery led to (None: none, or not recorded)."""
        with self._sessions() as session:
            return session.scalar(select(WebhookDelivery.draft_id).where(
                WebhookDelivery.delivery_id == delivery_id[:100]))

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
