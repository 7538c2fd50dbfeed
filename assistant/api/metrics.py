"""Prometheus metrics: requests by route and status, latency, webhook deliveries, drafts by
status, queue depth, drafts completed and the drafting rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RATE_WINDOW_S = 300.0  # devrel_drafting_rate: drafts completed in the last 5 minutes / 300 s
JOB_STATES = {"queued": "pending", "drafting": "in_progress"}


class _StateCollector:
    """Reads the drafts table and the queue at scrape time, so every API process reports the
    same figures however many APIs and workers share the store."""

    def __init__(self, counts: Callable[[], dict[str, int]], pending: Callable[[], int],
                 completed: Callable[[float], dict[str, tuple[int, int]]]) -> None:
        self._counts, self._pending, self._completed = counts, pending, completed

    def collect(self) -> Any:
        counts = self._counts()
        drafts = GaugeMetricFamily("devrel_drafts", "Drafts by status.", labels=["status"])
        for status, n in sorted(counts.items()):
            drafts.add_metric([status], n)
        yield drafts
        jobs = GaugeMetricFamily(
            "devrel_queue_jobs", "Drafting jobs: pending (queued, not yet claimed) and "
            "in_progress (claimed by a worker), from the drafts table.", labels=["state"])
        for status, state in JOB_STATES.items():
            jobs.add_metric([state], counts.get(status, 0))
        yield jobs
        yield GaugeMetricFamily("devrel_queue_pending", "Messages waiting in the task queue "
                                "(a draft may have more than one).", value=self._pending())
        completed = self._completed(RATE_WINDOW_S)
        total = CounterMetricFamily("devrel_drafts_completed", "Drafts completed (revision 1 "
                                    "stored), by kind, over all processes.", labels=["kind"])
        for kind, (n, _) in sorted(completed.items()):
            total.add_metric([kind], n)
        yield total
        yield GaugeMetricFamily(
            "devrel_drafting_rate", f"Drafts completed per second over the last "
            f"{RATE_WINDOW_S:.0f} s, all workers.",
            value=sum(r for _, r in completed.values()) / RATE_WINDOW_S)


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self, counts: Callable[[], dict[str, int]], pending: Callable[[], int],
                 completed: Callable[[float], dict[str, tuple[int, int]]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("devrel_http_requests", "HTTP requests.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("devrel_http_request_seconds", "HTTP request latency.",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.deliveries = Counter(
            "devrel_webhook_deliveries", "Webhook deliveries answered by this process, by forge "
            "and outcome (queued, duplicate, ignored, pong).", ["forge", "outcome"],
            registry=self.registry)
        self.registry.register(_StateCollector(counts, pending, completed))

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
