"""The services a running server shares between requests (API routes and the review desk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.context import AppContext
from assistant.jobs.queue import JobQueue
from assistant.store.deliveries import DeliveryStore
from assistant.store.keys import KeyStore


@dataclass
class Services:
    """Everything a request may use; built once per app."""

    ctx: AppContext
    queue: JobQueue
    keys: KeyStore
    deliveries: DeliveryStore
    limiter: Any  # the API's rate limiter (``hit(key) -> bool``)
    metrics: Any  # the API's Prometheus metrics
