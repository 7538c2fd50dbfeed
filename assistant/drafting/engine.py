"""The drafting engine: store a requested draft, run a claimed one (with a lease heartbeat),
or draft now in this process. Every kind is reached through the registry."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.context import AppContext
from assistant.drafting.registry import get_kind
from assistant.errors import DevrelError, InvalidInput, ProviderUnavailable
from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.store.drafts import DraftRecord
from assistant.store.models import DraftKind, DraftStatus

log = logging.getLogger(__name__)


def parse_input(kind: Kind, data: BaseModel | dict[str, Any]) -> BaseModel:
    """The kind's input, validated once by its model and checked by the kind: an
    ``InvalidInput`` naming the field otherwise. A model instance is only checked."""
    if isinstance(data, kind.input_model):
        request = data
    else:
        raw = data.model_dump() if isinstance(data, BaseModel) else data
        try:
            request = kind.input_model.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInput.from_validation(f"{kind.name} input", exc,
                                               "see the request examples in the API docs") from None
    kind.check(request)
    return request


def request_draft(
    ctx: AppContext, kind: str, data: BaseModel | dict[str, Any], *, project: str | None,
    requested_by: str, dedupe_key: str | None = None, request_hash: str | None = None,
) -> DraftRecord:
    """Check the input and store a queued draft (the caller enqueues it). With a
    ``request_hash``, a ``dedupe_key`` taken by a different request is a Conflict."""
    return request_draft_once(ctx, kind, data, project=project, requested_by=requested_by,
                              dedupe_key=dedupe_key, request_hash=request_hash)[0]


def request_draft_once(
    ctx: AppContext, kind: str, data: BaseModel | dict[str, Any], *, project: str | None,
    requested_by: str, dedupe_key: str | None = None, request_hash: str | None = None,
) -> tuple[DraftRecord, bool]:
    """:func:`request_draft`, and whether the draft is new (False: the ``dedupe_key`` found
    an earlier one, which the caller must not enqueue again)."""
    spec = get_kind(kind)
    request = parse_input(spec, data)
    return ctx.drafts().create_once(
        kind=spec.name, project=ctx.project_name(project), title=spec.title(request),
        input=request.model_dump(mode="json"), requested_by=requested_by,
        dedupe_key=dedupe_key, request_hash=request_hash,
    )


class _Heartbeat:
    """Renews a job's lease while it runs; notices when the job was taken over."""

    def __init__(self, ctx: AppContext, draft_id: int, token: str) -> None:
        self.ctx, self.draft_id, self.token = ctx, draft_id, token
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lease-{draft_id}")

    def _run(self) -> None:
        lease = self.ctx.settings.queue.lease_s
        while not self._stop.wait(lease / 4):
            try:
                if not self.ctx.drafts().renew(self.draft_id, self.token, lease):
                    self.lost = True
                    return
            except Exception:  # the database may blip; the next beat tries again
                log.warning("could not renew the lease of draft %s", self.draft_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


TRANSIENT = (ProviderUnavailable,)
PROGRESS_LOG_S = 10.0


def logged_progress(draft_id: int, every_s: float = PROGRESS_LOG_S) -> Progress:
    """A progress callback for a worker: logs "draft N: done/total" at most every ``every_s``
    seconds, and at the end (a long draft, such as big release notes, shows it is moving)."""
    last = [float("-inf")]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            log.info("draft %s: %d/%d", draft_id, done, total)

    return report


def run_draft_job(ctx: AppContext, draft_id: int, worker: str) -> float | None:
    """Claim and draft one queued draft. Returns a retry delay in seconds, or None when done.

    A draft another worker holds (or that is finished) is left alone; a transient failure
    (model endpoint down) gives the job back for a retry; other failures mark it failed.
    """
    store, queue = ctx.drafts(), ctx.settings.queue
    claim = store.claim(draft_id, queue.lease_s, worker)
    if claim is None:
        return None
    record = claim.draft
    if record.attempts > queue.max_attempts:
        store.fail(draft_id, f"Gave up after {queue.max_attempts} attempts (the worker stopped "
                   "or failed each time).", token=claim.token)
        return None
    try:
        spec = get_kind(record.kind)
        request = parse_input(spec, record.input)
        with _Heartbeat(ctx, draft_id, claim.token) as beat:
            result = spec.draft(ctx, request, record.project, logged_progress(draft_id))
        _index_request(ctx, spec, request, record.project)
    except TRANSIENT as exc:
        return _retry_or_fail(ctx, record, claim.token, str(exc))
    except DevrelError as exc:
        store.fail(draft_id, str(exc), token=claim.token)
        return None
    except Exception as exc:  # a bug or a crash in a library: retry, then fail readably
        log.exception("drafting %s failed", draft_id)
        return _retry_or_fail(ctx, record, claim.token,
                              f"unexpected {type(exc).__name__}: {exc}")
    done = _complete(ctx, draft_id, claim.token, result, worker)
    if done is None:
        log.warning("draft %s was taken over by another worker (lease %s); this result is "
                    "dropped", draft_id, "lost" if beat.lost else "expired")
    return None


def _index_request(ctx: AppContext, spec: Kind, request: BaseModel, project: str) -> None:
    """After a triage draft: the issue goes into the index (``triage.index_triaged``), so the
    next incoming issue can find it. A failure here never loses the draft."""
    if spec.name != DraftKind.TRIAGE or not ctx.settings.triage.index_triaged:
        return
    from ingest.service import index_incoming_issue

    try:
        index_incoming_issue(ctx.settings, ctx.index(project), request)  # type: ignore[arg-type]
    except Exception:  # the draft is done; the next sync indexes the issue anyway
        log.exception("indexing the triaged issue of project %s failed", project)


def _complete(ctx: AppContext, draft_id: int, token: str | None, result: DraftResult,
              actor: str) -> DraftRecord | None:
    return ctx.drafts().complete(
        draft_id, token=token, output=result.output, sources=result.sources,
        content=result.content, prompt_name=result.prompt_name,
        prompt_version=result.prompt_version, model=result.model,
        confidence=result.confidence, language=result.language, actor=actor,
    )


def draft_now(ctx: AppContext, kind: str | Kind, data: BaseModel | dict[str, Any], *,
              project: str | None = None, progress: Progress | None = None,
              requested_by: str = "cli") -> DraftRecord:
    """Draft in this process, without the queue: stored as drafting, then put in the review
    queue; a failure is stored with the draft, then raised. ``kind`` may be a configured
    instance (e.g. release notes from a given clone)."""
    spec = get_kind(kind)
    request = parse_input(spec, data)
    project = ctx.project_name(project)
    store = ctx.drafts()
    record = store.create(kind=spec.name, project=project, title=spec.title(request),
                          input=request.model_dump(mode="json"), status=DraftStatus.DRAFTING,
                          requested_by=requested_by)
    try:
        result = spec.draft(ctx, request, project, progress)
    except DevrelError as exc:
        store.fail(record.id, str(exc))
        raise
    _index_request(ctx, spec, request, project)
    done = _complete(ctx, record.id, None, result, requested_by)
    assert done is not None
    return done


def run_kind(ctx: AppContext, kind: str | Kind, data: BaseModel | dict[str, Any],
             project: str | None = None, progress: Progress | None = None) -> DraftResult:
    """A kind's result for ``data`` without storing anything (for evals and tests)."""
    spec = get_kind(kind)
    return spec.draft(ctx, parse_input(spec, data), project or ctx.settings.project, progress)


def _retry_or_fail(ctx: AppContext, record: DraftRecord, token: str, error: str) -> float | None:
    queue = ctx.settings.queue
    if record.attempts >= queue.max_attempts:
        ctx.drafts().fail(record.id, f"{error} (after {record.attempts} attempts)", token=token)
        return None
    ctx.drafts().release(record.id, token, error)
    return queue.retry_delay_s * 2 ** (record.attempts - 1)
