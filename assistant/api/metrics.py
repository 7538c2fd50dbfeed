"""Prometheus metrics: requests by route and status, latency, drafts by status, queue depth."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _StateCollector:
    """Reads the drafts table and the queue at scrape time (shared by every API process)."""

    def __init__(self, counts: Callable[[], dict[str, int]], pending: Callable[[], int]) -> None:
        self._counts, self._pending = counts, pending

    def collect(self) -> Any:
        drafts = GaugeMetricFamily("devrel_drafts", "Drafts by status.", labels=["status"])
        for status, n in sorted(self._counts().items()):
            drafts.add_metric([status], n)
        yield drafts
        yield GaugeMetricFamily("devrel_queue_pending", "Jobs waiting in the task queue.",
                                value=self._pending())


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self, counts: Callable[[], dict[str, int]], pending: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("devrel_http_requests", "HTTP requests.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("devrel_http_request_seconds", "HTTP request latency.",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.registry.register(_StateCollector(counts, pending))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request by its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(
                time.perf_counter() - started)
