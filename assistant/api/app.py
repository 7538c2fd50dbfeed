"""The FastAPI application: ``create_app`` wires the shared services into thin routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response

from assistant import __version__
from assistant.api import errors
from assistant.api.deps import RateLimiter
from assistant.api.limits import BodyLimitMiddleware
from assistant.api.metrics import Metrics, MetricsMiddleware
from assistant.api.routers import drafts, health, keys, projects, search, webhooks
from assistant.context import AppContext
from assistant.jobs.queue import JobQueue, Worker
from assistant.services.container import Services
from assistant.store.deliveries import DeliveryStore
from assistant.store.keys import KeyStore

log = logging.getLogger(__name__)

DESCRIPTION = """Drafts for open-source communities (issue triage, release notes, announcements,
newcomer guides, meeting summaries), each waiting for a human's review. Nothing is posted
anywhere until a reviewer approves and publishes it.

Authenticate with an API key (`devrel keys create --role bot|reviewer|admin`) sent as
`Authorization: Bearer <key>` or `X-API-Key`. Errors are JSON: `{"error": {"code", "message",
"fix"}}`."""


def build_services(ctx: AppContext) -> Services:
    """The services a running API shares between requests."""
    settings = ctx.settings
    store = ctx.drafts()
    queue = JobQueue(ctx)
    storage = settings.api.rate_limit_storage or (
        settings.queue.redis_url if settings.queue.backend == "redis" else "memory://")
    return Services(
        ctx=ctx, queue=queue, keys=KeyStore(store.engine), deliveries=DeliveryStore(store.engine),
        limiter=RateLimiter(settings.api.rate_limit, storage),
        metrics=Metrics(store.counts, queue.pending, store.completed),
    )


def create_app(ctx: AppContext, *, run_worker: bool = False) -> FastAPI:
    """The API for these settings (``app.state.services`` holds what it shares); with
    ``run_worker``, a worker drafts in this process too. ``assistant.server`` mounts the
    review desk beside it."""
    services = build_services(ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(ctx, queue=services.queue).start() if run_worker else None
        try:
            yield
        finally:
            if worker is not None:
                worker.stop(graceful=True)

    app = FastAPI(
        title="devrel-assistant", version=__version__, description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "drafts", "description": "The review queue."},
            {"name": "search", "description": "The project index, for bots."},
            {"name": "projects", "description": "Indexes and re-syncs."},
            {"name": "keys", "description": "API keys (admin)."},
            {"name": "webhooks", "description": "GitHub events."},
            {"name": "health", "description": "Probes and metrics."},
        ],
    )
    app.state.services = services
    errors.install(app)
    common = {400: {"model": errors.ErrorResponse, "description": "Unreadable body"},
              413: {"model": errors.ErrorResponse, "description": "Body too large"}}
    for router in (drafts.router, search.router, projects.router, keys.router,
                   webhooks.router, health.router):
        app.include_router(router, responses=common)
    app.add_middleware(BodyLimitMiddleware, max_bytes=ctx.settings.api.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=services.metrics)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)
    return app
