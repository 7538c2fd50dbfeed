"""Forge webhooks (GitHub, Gitee, GitLab): verified, deduplicated by delivery, answered well
within the forges' timeouts."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from assistant.api.deps import ServicesDep
from assistant.api.errors import ApiError, responses
from assistant.api.schemas import WebhookResult
from assistant.services.container import Services
from assistant.services.webhooks import (
    Outcome,
    gitee_signature_ok,
    gitlab_token_ok,
    parse_payload,
    receive,
    signature_ok,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _answer(services: Services, response: Response, forge: str, outcome: Outcome
            ) -> WebhookResult:
    """202 for a newly queued draft, 200 otherwise; counted by outcome in ``/metrics``."""
    services.metrics.deliveries.labels(forge, outcome.status).inc()
    response.status_code = 202 if outcome.status == "queued" else 200
    return WebhookResult(status=outcome.status, draft_id=outcome.draft_id,  # type: ignore[arg-type]
                         reason=outcome.reason)


@router.post("/github", response_model=WebhookResult, status_code=202,
             responses=responses(400, 401, 413, 422, 503)
             | {200: {"model": WebhookResult, "description": "Seen before, or a ping."}})
async def github_webhook(
    request: Request, response: Response, services: ServicesDep,
    x_github_event: Annotated[str, Header(max_length=50)],
    x_github_delivery: Annotated[str, Header(max_length=100)],
    x_hub_signature_256: Annotated[str | None, Header(max_length=100)] = None,
) -> Any:
    """Receive a GitHub event: issues.opened queues a triage draft, a release asks for notes."""
    secret = services.ctx.settings.api.webhook_secret
    if secret is None:
        raise ApiError(503, "webhooks_disabled", "Webhooks are off: no secret is configured.",
                       "set DEVREL_API__WEBHOOK_SECRET to the webhook's secret")
    body = await request.body()
    if not signature_ok(secret.get_secret_value(), body, x_hub_signature_256):
        raise ApiError(401, "bad_signature", "X-Hub-Signature-256 does not match the body.",
                       "check that GitHub and DEVREL_API__WEBHOOK_SECRET share the secret")
    payload = parse_payload(body)
    outcome = await run_in_threadpool(receive, services.ctx, services.queue, services.deliveries,
                                      x_github_event, x_github_delivery, payload)
    return _answer(services, response, "github", outcome)


@router.post("/gitee", response_model=WebhookResult, status_code=202,
             responses=responses(400, 401, 413, 422, 503)
             | {200: {"model": WebhookResult, "description": "Seen before, or ignored."}})
async def gitee_webhook(
    request: Request, response: Response, services: ServicesDep,
    x_gitee_event: Annotated[str, Header(max_length=50)],
    x_gitee_token: Annotated[str | None, Header(max_length=200)] = None,
    x_gitee_timestamp: Annotated[str | None, Header(max_length=20)] = None,
) -> Any:
    """Receive a Gitee event (signature mode): an opened issue queues a triage draft."""
    secret = services.ctx.settings.gitee.webhook_secret
    if secret is None:
        raise ApiError(503, "webhooks_disabled", "Gitee webhooks are off: no key is configured.",
                       "set DEVREL_GITEE__WEBHOOK_SECRET to the WebHook's signing key")
    if not gitee_signature_ok(secret.get_secret_value(), x_gitee_timestamp, x_gitee_token):
        raise ApiError(401, "bad_signature", "X-Gitee-Token is not the signature of "
                       "X-Gitee-Timestamp, or the timestamp is not recent.",
                       "use the signature mode with the same key in Gitee and "
                       "DEVREL_GITEE__WEBHOOK_SECRET")
    payload = parse_payload(await request.body())
    delivery = f"gitee:{x_gitee_timestamp}:{x_gitee_token}"[:100]
    outcome = await run_in_threadpool(receive, services.ctx, services.queue, services.deliveries,
                                      x_gitee_event, delivery, payload, "gitee")
    return _answer(services, response, "gitee", outcome)


@router.post("/gitlab", response_model=WebhookResult, status_code=202,
             responses=responses(400, 401, 413, 422, 503)
             | {200: {"model": WebhookResult, "description": "Seen before, or ignored."}})
async def gitlab_webhook(
    request: Request, response: Response, services: ServicesDep,
    x_gitlab_event: Annotated[str, Header(max_length=50)],
    x_gitlab_token: Annotated[str | None, Header(max_length=200)] = None,
    x_gitlab_event_uuid: Annotated[str | None, Header(max_length=100)] = None,
) -> Any:
    """Receive a GitLab event: an opened issue queues a triage draft."""
    secret = services.ctx.settings.gitlab.webhook_token
    if secret is None:
        raise ApiError(503, "webhooks_disabled", "GitLab webhooks are off: no token is "
                       "configured.", "set DEVREL_GITLAB__WEBHOOK_TOKEN to the webhook's secret")
    if not gitlab_token_ok(secret.get_secret_value(), x_gitlab_token):
        raise ApiError(401, "bad_signature", "X-Gitlab-Token is not the webhook's secret token.",
                       "use the same secret token in GitLab and DEVREL_GITLAB__WEBHOOK_TOKEN")
    body = await request.body()
    payload = parse_payload(body)
    delivery = x_gitlab_event_uuid or "gitlab:" + hashlib.sha256(body).hexdigest()[:40]
    outcome = await run_in_threadpool(receive, services.ctx, services.queue, services.deliveries,
                                      x_gitlab_event, delivery, payload, "gitlab")
    return _answer(services, response, "gitlab", outcome)
