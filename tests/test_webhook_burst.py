"""A burst of GitHub deliveries through the app: each answered 202 and queued once, the same
issue or delivery twice drafts nothing new, and ``/metrics`` reads the queue from the store.

No worker runs, so what the requests queued stays in the queue to be counted. Requests run
concurrently through the ASGI app (its thread pool writes to SQLite from several threads).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from assistant.api.app import create_app
from assistant.context import AppContext
from assistant.settings import get_settings
from assistant.store.drafts import DraftContent

SECRET = "burst-webhook-secret-for-tests"
REPO = "example-org/kvlite"


@pytest.fixture
def ctx(tmp_path: Path) -> AppContext:
    return AppContext(get_settings(profile="test", data_dir=tmp_path / "data",
                                   api={"webhook_secret": SECRET}))


def _payload(number: int) -> bytes:
    return json.dumps({"action": "opened", "repository": {"full_name": REPO}, "issue": {
        "number": number, "title": f"LockError after crash #{number}",
        "body": f"kvlite 0.9.{number % 10}: open() fails with LockError after kill -9.",
        "user": {"login": f"user{number}"},
        "html_url": f"https://github.com/{REPO}/issues/{number}"}}).encode()


def _headers(body: bytes, delivery: str) -> dict[str, str]:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": f"sha256={signature}", "content-type": "application/json"}


def _send_all(app: FastAPI, requests: list[tuple[bytes, str]]) -> list[httpx.Response]:
    """Post every (body, delivery id) at once."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(
                client.post("/v1/webhooks/github", content=body, headers=_headers(body, d))
                for body, d in requests))

    return asyncio.run(run())


def _metrics(app: FastAPI) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async def run() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.get("/metrics")).text

    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(asyncio.run(run()))
            for s in family.samples}


def _jobs(values: dict, state: str) -> float:
    return values[("devrel_queue_jobs", (("state", state),))]


def test_a_burst_of_50_deliveries_is_all_accepted_and_queued_once(ctx: AppContext) -> None:
    app = create_app(ctx)
    responses = _send_all(app, [(_payload(1000 + n), f"burst-{n}") for n in range(50)])
    assert [r.status_code for r in responses] == [202] * 50, [r.text for r in responses]
    ids = [r.json()["draft_id"] for r in responses]
    assert {r.json()["status"] for r in responses} == {"queued"} and len(set(ids)) == 50

    drafts = ctx.drafts().list(limit=100)
    assert sorted(d.id for d in drafts) == sorted(ids)
    assert sorted(d.input["number"] for d in drafts) == list(range(1000, 1050))
    assert {d.status for d in drafts} == {"queued"}
    queue = app.state.services.queue
    assert queue.pending() == 50  # one message per draft, nothing lost or doubled

    values = _metrics(app)
    assert _jobs(values, "pending") == 50 and _jobs(values, "in_progress") == 0
    assert values[("devrel_queue_pending", ())] == 50
    accepted = ("devrel_webhook_deliveries_total", (("forge", "github"), ("outcome", "queued")))
    assert values[accepted] == 50


def test_the_same_delivery_or_issue_twice_makes_one_draft(ctx: AppContext) -> None:
    app = create_app(ctx)
    body = _payload(77)
    # Racing: GitHub's redelivery (same id) and the event delivered again under new ids.
    responses = _send_all(app, [(body, "same-id")] * 5 + [(body, f"new-{n}") for n in range(5)])
    assert sorted(r.status_code for r in responses) == [200] * 9 + [202], \
        [r.text for r in responses]
    queued = [r.json() for r in responses if r.status_code == 202]
    assert queued[0]["status"] == "queued"
    draft_id = queued[0]["draft_id"]
    for response in responses:
        assert response.json()["draft_id"] == draft_id
        assert response.json()["status"] in ("queued", "duplicate")
    assert [d.id for d in ctx.drafts().list()] == [draft_id]
    assert app.state.services.queue.pending() == 1  # a duplicate enqueues nothing

    later = _send_all(app, [(body, "same-id"), (body, "new-later")])
    assert [(r.status_code, r.json()["status"], r.json()["draft_id"]) for r in later] == [
        (200, "duplicate", draft_id)] * 2
    assert len(ctx.drafts().list()) == 1 and app.state.services.queue.pending() == 1
    values = _metrics(app)
    duplicate = ("devrel_webhook_deliveries_total",
                 (("forge", "github"), ("outcome", "duplicate")))
    assert values[duplicate] == 11


def test_metrics_follow_the_queue_in_every_api_process(ctx: AppContext) -> None:
    app = create_app(ctx)
    responses = _send_all(app, [(_payload(2000 + n), f"m-{n}") for n in range(4)])
    ids = sorted(r.json()["draft_id"] for r in responses)
    store = ctx.drafts()
    first = store.claim(ids[0], lease_s=60, worker="worker:test:1:t")
    second = store.claim(ids[1], lease_s=60, worker="worker:test:1:t")
    assert first and second
    store.complete(ids[0], token=first.token, output={}, sources=[],
                   content=DraftContent(text="Run `kvlite unlock`."), prompt_name="triage_reply",
                   prompt_version=1, model="fake")

    # Another API process over the same store reports the same figures.
    other = create_app(AppContext(get_settings(profile="test", data_dir=ctx.settings.data_dir,
                                               api={"webhook_secret": SECRET})))
    for values in (_metrics(app), _metrics(other)):
        assert _jobs(values, "pending") == 2 and _jobs(values, "in_progress") == 1
        assert values[("devrel_drafts_completed_total", (("kind", "triage"),))] == 1
        assert values[("devrel_drafting_rate", ())] == pytest.approx(1 / 300)
        assert values[("devrel_drafts", (("status", "pending_review"),))] == 1
    assert store.completed(300) == {"triage": (1, 1)}
    assert store.completed(0) == {"triage": (1, 0)}  # outside the window: counted, not recent
