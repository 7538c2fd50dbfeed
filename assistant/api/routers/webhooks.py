"""GitHub webhooks: signed, deduplicated by delivery, answered well within GitHub's 10 s."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from assistant.api.deps import ServicesDep
from assistant.api.errors import ApiError, responses
from assistant.api.schemas import WebhookResult
from assistant.services.webhooks import parse_payload, receive, signature_ok

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


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
    response.status_code = 202 if outcome.status == "queued" else 200
    return WebhookResult(status=outcome.status, draft_id=outcome.draft_id,  # type: ignore[arg-type]
                         reason=outcome.reason)
