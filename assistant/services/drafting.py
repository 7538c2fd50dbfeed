"""Drafting as a job: which chain drafts which kind, and running one claimed draft.

A kind without a chain yet raises :class:`ChainNotAvailable` (the API answers 501).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from assistant.context import AppContext
from assistant.errors import ChainNotAvailable, DevrelError, InvalidInput, ProviderUnavailable
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.models import DraftKind, DraftStatus

log = logging.getLogger(__name__)


@dataclass
class DraftResult:
    """What a chain hands back for the store."""

    output: dict[str, Any]
    sources: list[dict[str, Any]]
    content: DraftContent
    prompt_name: str
    prompt_version: int
    model: str
    confidence: float | None
    language: str | None


@dataclass(frozen=True)
class DraftKindSpec:
    """How a kind's input is checked and titled, and the chain that drafts it."""

    parse: Callable[[dict[str, Any]], Any]
    title: Callable[[Any], str]
    run: Callable[[AppContext, DraftRecord], DraftResult] | None
    issue: str  # where the chain is (for the 501 message)


def _triage_run(ctx: AppContext, record: DraftRecord) -> DraftResult:
    from assistant.services.triage import draft_issue
    from assistant.triage.models import IssueInput

    return draft_issue(ctx, IssueInput.model_validate(record.input), record.project)


def _triage_parse(data: dict[str, Any]) -> Any:
    from assistant.triage.models import IssueInput

    issue = IssueInput.model_validate(data)
    issue.require_text()
    return issue


def _release_notes_parse(data: dict[str, Any]) -> Any:
    from assistant.release.models import ReleaseNotesInput

    request = ReleaseNotesInput.model_validate(data)
    if not (request.changes or request.to_ref):
        raise InvalidInput("Release notes need a range (to_ref, and from_ref unless it is the "
                           "previous tag) or a list of changes.", fix="give refs or changes")
    return request


def _lazy(path: str) -> Callable[..., Any]:
    """``module:attribute`` (a dotted attribute), imported on the first call: the chains
    import heavy libraries that a process serving other kinds need not load."""
    module, _, attribute = path.partition(":")

    def call(*args: Any) -> Any:
        target: Any = importlib.import_module(module)
        for name in attribute.split("."):
            target = getattr(target, name)
        return target(*args)

    return call


def _runner(path: str) -> Callable[[AppContext, DraftRecord], DraftResult]:
    """A stored draft run by ``draft_x(ctx, input, project)`` at ``module:function``."""
    draft = _lazy(path)
    return lambda ctx, record: draft(ctx, record.input, record.project)


KINDS: dict[str, DraftKindSpec] = {
    DraftKind.TRIAGE: DraftKindSpec(
        _triage_parse, lambda i: i.title or i.body[:80], _triage_run, "triage drafts"),
    DraftKind.RELEASE_NOTES: DraftKindSpec(
        _release_notes_parse, lambda r: f"Release notes {r.version}",
        _runner("assistant.services.release_notes:draft_release_notes"), "release notes"),
    DraftKind.ANNOUNCEMENT: DraftKindSpec(
        _lazy("assistant.release.models:AnnouncementInput.model_validate"),
        lambda a: f"{a.channel.title()} post from release notes #{a.release_notes_draft_id}",
        _runner("assistant.services.announcements:draft_announcement"), "announcements"),
    DraftKind.NEWCOMER_GUIDE: DraftKindSpec(
        _lazy("assistant.services.guide:parse_guide"),
        _lazy("assistant.services.guide:guide_title"),
        _runner("assistant.services.guide:draft_newcomer_guide"), "newcomer guides"),
    DraftKind.MEETING_SUMMARY: DraftKindSpec(
        _lazy("assistant.services.meetings:parse_request"),
        _lazy("assistant.services.meetings:title_of"),
        _runner("assistant.services.meetings:draft_meeting_summary"), "meeting summaries"),
    DraftKind.COMMUNITY_UPDATE: DraftKindSpec(
        _lazy("assistant.services.activity:ActivityInput.model_validate"),
        _lazy("assistant.services.activity:update_title"),
        _runner("assistant.services.activity:draft_community_update"), "community updates"),
}


def kind_spec(kind: str) -> DraftKindSpec:
    """The spec of a kind that has a chain; a clear error otherwise."""
    spec = KINDS.get(kind)
    if spec is None:
        raise InvalidInput(f"Unknown draft kind {kind!r}.", fix=f"use one of: {', '.join(KINDS)}")
    if spec.run is None:
        raise ChainNotAvailable(
            f"Drafting {kind.replace('_', ' ')} is not available yet: its chain is built in "
            f"{spec.issue}.", fix="create triage drafts for now")
    return spec


def request_draft(
    ctx: AppContext, kind: str, data: dict[str, Any], *, project: str | None,
    requested_by: str, dedupe_key: str | None = None,
) -> DraftRecord:
    """Check the input and store a queued draft (the caller enqueues it)."""
    spec = kind_spec(kind)
    try:
        parsed = spec.parse(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "input"
        raise InvalidInput(f"Invalid {kind} input at {where}: {err['msg']}.",
                           fix="see the request examples in the API docs") from None
    payload = parsed.model_dump(mode="json") if hasattr(parsed, "model_dump") else parsed
    return ctx.drafts().create(
        kind=kind, project=project or ctx.settings.project, title=spec.title(parsed),
        input=payload, requested_by=requested_by, dedupe_key=dedupe_key,
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
        spec = kind_spec(record.kind)
        assert spec.run is not None
        with _Heartbeat(ctx, draft_id, claim.token) as beat:
            result = spec.run(ctx, record)
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


def _complete(ctx: AppContext, draft_id: int, token: str | None, result: DraftResult,
              actor: str) -> DraftRecord | None:
    return ctx.drafts().complete(
        draft_id, token=token, output=result.output, sources=result.sources,
        content=result.content, prompt_name=result.prompt_name,
        prompt_version=result.prompt_version, model=result.model,
        confidence=result.confidence, language=result.language, actor=actor,
    )


def draft_now(ctx: AppContext, *, kind: str, project: str, title: str, data: dict[str, Any],
              run: Callable[[], DraftResult], requested_by: str = "cli") -> DraftRecord:
    """Draft in this process, without the queue: stored as drafting, then put in the review
    queue; a failure is stored with the draft, then raised."""
    store = ctx.drafts()
    record = store.create(kind=kind, project=project, title=title, input=data,
                          status=DraftStatus.DRAFTING, requested_by=requested_by)
    try:
        result = run()
    except DevrelError as exc:
        store.fail(record.id, str(exc))
        raise
    done = _complete(ctx, record.id, None, result, requested_by)
    assert done is not None
    return done


def _retry_or_fail(ctx: AppContext, record: DraftRecord, token: str, error: str) -> float | None:
    queue = ctx.settings.queue
    if record.attempts >= queue.max_attempts:
        ctx.drafts().fail(record.id, f"{error} (after {record.attempts} attempts)", token=token)
        return None
    ctx.drafts().release(record.id, token, error)
    return queue.retry_delay_s * 2 ** (record.attempts - 1)
