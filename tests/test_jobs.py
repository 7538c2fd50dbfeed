"""Drafting jobs on a real Huey queue (SQLite): retries, give-ups, duplicate messages, and the
sweep that finds jobs whose message was lost or whose worker died."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.context import AppContext
from assistant.drafting.engine import request_draft, run_draft_job
from assistant.errors import ProviderUnavailable
from assistant.jobs.queue import JobQueue, Worker
from assistant.settings import get_settings
from assistant.store.drafts import DraftStore
from tests.conftest import private_ctx
from tests.helpers import RecordingChatModel, race_claims

ISSUE = {"title": "database is locked after a crash", "body": "open() fails after kill -9"}


@pytest.fixture
def ctx(triage_data_dir: Path, tmp_path: Path) -> AppContext:
    base = private_ctx(triage_data_dir, tmp_path / "data")
    return AppContext(get_settings(
        profile="test", data_dir=base.settings.data_dir,
        queue={"lease_s": 2.0, "sweep_interval_s": 0.5, "retry_delay_s": 0.2,
               "max_attempts": 2}))


class Unreachable(FakeListChatModel):
    """A chat model whose endpoint is down."""

    def invoke(self, *args, **kwargs):  # type: ignore[override]
        raise ProviderUnavailable("The chat endpoint http://127.0.0.1:9/v1 is unreachable.",
                                  fix="start it")


def _wait_for(store: DraftStore, draft_id: int, status: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if store.get(draft_id).status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"draft {draft_id} is {store.get(draft_id).status}, not {status}")


def _drafted(store: DraftStore, draft_id: int) -> int:
    return sum(1 for a in store.audit(draft_id) if a.action == "drafted")


def test_transient_failures_are_retried_then_fail_readably(ctx: AppContext) -> None:
    ctx.chat = Unreachable(responses=["unused"])
    record = request_draft(ctx, "triage", ISSUE, project=None, requested_by="test")
    delay = run_draft_job(ctx, record.id, "w1")
    assert delay == pytest.approx(0.2)
    assert ctx.drafts().get(record.id).status == "queued"  # given back for a retry
    assert run_draft_job(ctx, record.id, "w1") is None
    failed = ctx.drafts().get(record.id)
    assert failed.status == "failed" and failed.attempts == 2
    assert "unreachable" in failed.error and "after 2 attempts" in failed.error


def test_a_message_delivered_twice_drafts_once(ctx: AppContext) -> None:
    ctx.chat = model = RecordingChatModel(responses=["Thanks for the report. See [1]."])
    record = request_draft(ctx, "triage", ISSUE, project=None, requested_by="test")
    assert run_draft_job(ctx, record.id, "w1") is None
    calls = len(model.history)
    assert calls >= 1 and ISSUE["title"] in model.prompts()[0]
    assert run_draft_job(ctx, record.id, "w2") is None  # already drafted: left alone
    assert len(model.history) == calls  # the second delivery never reached the model
    assert ctx.drafts().get(record.id).status == "pending_review"
    assert _drafted(ctx.drafts(), record.id) == 1


@pytest.mark.slow
def test_the_sweep_runs_lost_and_abandoned_jobs(ctx: AppContext) -> None:
    store = ctx.drafts()
    # stored but never enqueued: the API died between its commit and the enqueue
    lost = request_draft(ctx, "triage", ISSUE, project=None, requested_by="test")
    # claimed by a worker that then died: its lease runs out
    abandoned = request_draft(ctx, "triage", ISSUE, project=None, requested_by="test")
    assert store.claim(abandoned.id, lease_s=0.5, worker="dead-worker") is not None
    queue = JobQueue(ctx)
    queue.huey.flush()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("assistant.jobs.queue.NEVER_ENQUEUED_GRACE_S", 0.2)
        time.sleep(0.6)
        worker = Worker(ctx).start()
        try:
            _wait_for(store, lost.id, "pending_review")
            _wait_for(store, abandoned.id, "pending_review")
        finally:
            worker.stop()
    assert _drafted(store, lost.id) == _drafted(store, abandoned.id) == 1
    assert store.get(abandoned.id).attempts == 2


def test_many_workers_racing_for_one_draft_claim_it_once(ctx: AppContext) -> None:
    record = request_draft(ctx, "triage", ISSUE, project=None, requested_by="test")
    store = ctx.drafts()
    wins = race_claims(store, record.id, 8)
    assert len(wins) == 1
