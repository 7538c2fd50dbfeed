"""Liveness, readiness (index, database, queue, model) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from assistant.api.deps import ServicesDep
from assistant.api.schemas import Check, Readiness
from assistant.providers.chat import model_status

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, bool]:
    """The process is up."""
    return {"ok": True}


def _check(fn) -> Check:  # type: ignore[no-untyped-def]
    try:
        ok, detail = fn()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        return Check(ok=False, detail=f"{type(exc).__name__}: {first}"[:300])
    return Check(ok=ok, detail=detail)


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(services: ServicesDep, response: Response) -> Readiness:
    """Ready when the database, the index, the task queue and the chat model answer."""
    ctx = services.ctx

    def database() -> tuple[bool, str]:
        counts = ctx.drafts().counts()
        return True, f"{ctx.drafts().engine.dialect.name}: {sum(counts.values())} drafts"

    def index() -> tuple[bool, str]:
        count = ctx.index().count()
        return True, f"{ctx.settings.project}: {count} passages"

    def queue() -> tuple[bool, str]:
        return True, f"{ctx.settings.queue.backend}: {services.queue.pending()} pending"

    checks = {"database": _check(database), "index": _check(index), "queue": _check(queue),
              "model": _check(lambda: model_status(ctx.settings))}
    ready = all(c.ok for c in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(ready=ready, checks=checks)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(services: ServicesDep) -> Response:
    """Prometheus metrics: requests, latency, drafts by status, queue depth."""
    return Response(services.metrics.render(),
                    media_type="text/plain; version=0.0.4; charset=utf-8")
