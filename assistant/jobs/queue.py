"""Huey tasks for drafting, and the recovery sweep that makes a killed worker's job run again.

The queue only carries draft ids; the drafts table is the truth. A worker *claims* a draft
with a lease it renews while working, so a message delivered twice drafts once, and a job
whose worker died (lease run out) or whose message was lost (API killed between storing and
enqueueing) is enqueued again by the sweep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from assistant.context import AppContext
from assistant.errors import ConfigError
from assistant.private_files import private_file
from assistant.settings import Settings

log = logging.getLogger(__name__)
NEVER_ENQUEUED_GRACE_S = 5.0


def build_huey(settings: Settings) -> Any:
    """A Huey instance for the configured backend (results are kept in the drafts table)."""
    from huey import RedisHuey, SqliteHuey

    queue = settings.queue
    if queue.backend == "redis":
        try:
            import redis  # noqa: F401
        except ImportError:
            raise ConfigError("queue.backend=redis needs the redis package.",
                              fix="pip install 'devrel-assistant[redis]'") from None
        return RedisHuey(queue.name, url=queue.redis_url, results=False, utc=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    private_file(settings.queue_path)  # before SQLite creates it with the umask's mode
    return SqliteHuey(queue.name, filename=str(settings.queue_path), results=False, utc=True,
                      timeout=30)


def worker_name() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


class JobQueue:
    """Enqueue drafting jobs; build consumers that run them."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.huey = build_huey(ctx.settings)
        self._draft_task = self.huey.task(name="draft")(self._draft)
        self._sync_task = self.huey.task(name="sync")(self._sync)

    def _draft(self, draft_id: int) -> None:
        from assistant.drafting.engine import run_draft_job

        delay = run_draft_job(self.ctx, draft_id, worker_name())
        if delay is not None:
            self.submit([draft_id], delay=delay)

    def _sync(self, project: str) -> None:
        from ingest.service import sync_project

        with self.huey.lock_task(f"sync-{project}"):
            lines = sync_project(self.ctx.settings, self.ctx.index(project))
        self.ctx.drafts().log("worker", "synced", {"project": project, "lines": lines})

    def submit_sync(self, project: str) -> None:
        """Queue a re-sync of a project's configured sources."""
        self._sync_task(project)

    def submit(self, draft_ids: list[int], delay: float | None = None) -> None:
        """Enqueue drafts (after they are stored); marks when, so the sweep knows."""
        for draft_id in draft_ids:
            if delay:
                self._draft_task.schedule((draft_id,), delay=delay)
            else:
                self._draft_task(draft_id)
        if draft_ids:
            self.ctx.drafts().mark_enqueued(draft_ids, delay=delay or 0.0)

    def pending(self) -> int:
        """Messages waiting in the queue (not counting scheduled retries)."""
        return int(self.huey.pending_count())

    def recover(self) -> list[int]:
        """Enqueue again what no worker will otherwise run; returns the draft ids."""
        store = self.ctx.drafts()
        expired = store.expired_leases()
        lost = store.never_enqueued(NEVER_ENQUEUED_GRACE_S)
        # Queued drafts with no message left (a worker died between taking the message and
        # claiming, or the broker lost it): at once when the queue is empty, and in any case
        # after queue.requeue_after_s (a duplicate message is harmless: the claim is atomic).
        grace = NEVER_ENQUEUED_GRACE_S if self.pending() == 0 else \
            self.ctx.settings.queue.requeue_after_s
        lost = sorted(set(lost) | set(store.waiting(grace)))
        ids = sorted(set(expired) | set(lost))
        if ids:
            log.info("re-enqueueing drafts %s", ids)
            self.submit(ids)
        return ids

    def consumer(self, workers: int | None = None) -> Any:
        """A Huey consumer with thread workers that share this process's model."""
        from huey.consumer import Consumer

        class _Embedded(Consumer):  # signals stay with the host (uvicorn or the CLI)
            def _set_signal_handlers(self) -> None:
                return None

        return _Embedded(self.huey, workers=workers or self.ctx.settings.queue.workers,
                         worker_type="thread", periodic=False, max_delay=1.0,
                         check_worker_health=False)


class Sweeper:
    """Runs :meth:`JobQueue.recover` now and every ``queue.sweep_interval_s`` in a thread."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sweeper")

    def _run(self) -> None:
        interval = self.queue.ctx.settings.queue.sweep_interval_s
        while True:
            try:
                self.queue.recover()
            except Exception:
                log.exception("the recovery sweep failed; trying again in %.0f s", interval)
            if self._stop.wait(interval):
                return

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Worker:
    """A consumer plus its sweeper: what `devrel worker` and `devrel serve` run."""

    def __init__(self, ctx: AppContext, workers: int | None = None,
                 queue: JobQueue | None = None) -> None:
        self.queue = queue or JobQueue(ctx)
        self._consumer = self.queue.consumer(workers)
        self._sweeper = Sweeper(self.queue)

    def start(self) -> Worker:
        self._consumer.start()
        self._sweeper.start()
        return self

    def stop(self, graceful: bool = True) -> None:
        self._sweeper.stop()
        self._consumer.stop(graceful=graceful)
