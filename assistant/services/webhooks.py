"""GitHub webhooks: verify the signature, act on each delivery once, map events to drafts.

``issues.opened`` queues a triage draft; ``release.published`` (and, when enabled, a pushed
tag) asks for release notes. What each project reacts to is ``projects.<name>.triggers``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from assistant.context import AppContext
from assistant.drafting.engine import request_draft_once
from assistant.errors import InvalidInput
from assistant.forge.shapes import issue_from_json
from assistant.services.desk import Queue
from assistant.store.deliveries import DeliveryStore
from assistant.store.models import DraftKind

log = logging.getLogger(__name__)


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256`` is ``sha256=<HMAC-SHA256 of the raw body>``; compared in
    constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@dataclass
class Outcome:
    """What a delivery led to."""

    status: str  # queued, ignored, pong
    reason: str
    draft_id: int | None = None


def parse_payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"The webhook body is not JSON: {exc}.",
                           fix="configure the webhook with content type application/json") from None
    except RecursionError:
        raise InvalidInput("The webhook body is nested too deeply to be a GitHub event.",
                           fix="check the sender") from None
    if not isinstance(payload, dict):
        raise InvalidInput("The webhook body is not a JSON object.", fix="check the sender")
    return payload


def _drafted(new: bool, what: str, draft_id: int) -> Outcome:
    """A stored draft request: queued when new; a duplicate when an earlier delivery of the
    same event (another delivery id, e.g. GitHub's redelivery) already made it."""
    if new:
        return Outcome("queued", what, draft_id)
    return Outcome("duplicate", f"{what} exists already (draft {draft_id})", draft_id)


def handle_event(ctx: AppContext, event: str, payload: dict[str, Any]) -> Outcome:
    """Turn one GitHub event into a stored, queued draft (or say why not)."""
    if event == "ping":
        return Outcome("pong", "webhook configured")
    repo = str((payload.get("repository") or {}).get("full_name") or "")
    project = ctx.settings.project_for_repo(repo) if repo else None
    if project is None:
        return Outcome("ignored", f"repository {repo or '(none)'} is not a configured project")
    triggers = ctx.settings.project_settings(project).triggers
    action = payload.get("action")
    if event == "issues" and action == "opened":
        if not triggers.issues_opened:
            return Outcome("ignored", f"{project}: issues.opened does not trigger drafts")
        data = payload.get("issue")
        if not isinstance(data, dict):
            raise InvalidInput("issues.opened without an issue object.", fix="check the sender")
        issue = issue_from_json(data, "the webhook's issue")
        issue = issue.model_copy(update={"repo": issue.repo or repo})
        record, new = request_draft_once(ctx, DraftKind.TRIAGE, issue, project=project,
                                         requested_by="github-webhook",
                                         dedupe_key=f"github:{repo}#{issue.number}:opened")
        return _drafted(new, f"triage draft for {repo}#{issue.number}", record.id)
    release = event == "release" and action == "published" and triggers.release_published
    tag = (event == "push" and str(payload.get("ref", "")).startswith("refs/tags/")
           and payload.get("created") and triggers.tag_pushed)
    if (release or tag) and ctx.settings.project_settings(project).sources.git is None:
        return Outcome("ignored", f"{project}: no local clone for release notes "
                       f"(set projects.{project}.sources.git)")
    if release or tag:
        version = (payload.get("release") or {}).get("tag_name") if release else \
            str(payload["ref"]).removeprefix("refs/tags/")
        record, new = request_draft_once(
            ctx, DraftKind.RELEASE_NOTES,
            {"version": str(version)[:64], "to_ref": str(version)[:200]}, project=project,
            requested_by="github-webhook", dedupe_key=f"github:{repo}@{version}:release")
        return _drafted(new, f"release notes for {repo}@{version}", record.id)
    return Outcome("ignored", f"{event}.{action or ''} does not trigger drafts".replace(". ", " "))


GITEE_MAX_AGE_S = 3600.0  # a signed Gitee delivery older than this is refused (replays)


def gitee_signature_ok(secret: str, timestamp: str | None, token: str | None,
                       now: float | None = None) -> bool:
    """Gitee's signature mode: ``X-Gitee-Token`` is base64(HMAC-SHA256(key, "<timestamp>\\n<key>"))
    (URL-encoded or not), ``X-Gitee-Timestamp`` in milliseconds and recent; constant time."""
    if not timestamp or not token or not timestamp.isdigit():
        return False
    age = (now if now is not None else time.time()) - int(timestamp) / 1000
    if abs(age) > GITEE_MAX_AGE_S:
        return False
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, unquote(token.strip()).encode())


def gitlab_token_ok(secret: str, token: str | None) -> bool:
    """GitLab sends the webhook's secret token as is in ``X-Gitlab-Token``; constant time."""
    return bool(token) and hmac.compare_digest(secret.encode(), (token or "").encode())


def handle_forge_event(ctx: AppContext, forge: str, event: str, payload: dict[str, Any]
                       ) -> Outcome:
    """A Gitee or GitLab event: an opened issue queues a triage draft for the project one of
    whose repos it is in; anything else is ignored with the reason."""
    from assistant.forge import gitee, gitlab
    from assistant.repos import RepoRef, project_for_repo

    repository = payload.get("repository") or payload.get("project") or {}
    name = str(repository.get("path_with_namespace") or repository.get("full_name") or "") \
        if isinstance(repository, dict) else ""
    try:
        ref = RepoRef.parse(f"{forge}:{name}")
    except InvalidInput:
        return Outcome("ignored", f"no repository in the {forge} event")
    project = project_for_repo(ctx.settings, ref)
    if project is None:
        return Outcome("ignored", f"repository {ref} is not a configured project")
    if forge == "gitee":
        data, action = payload.get("issue"), payload.get("action")
        opened = event == "Issue Hook" and action == "open"
        convert = gitee.as_github_issue
    else:
        data = payload.get("object_attributes")
        action = data.get("action") if isinstance(data, dict) else None
        opened = event == "Issue Hook" and payload.get("object_kind") == "issue" and \
            action == "open"
        if isinstance(data, dict):
            data = {**data, "author": payload.get("user") or {}, "web_url": data.get("url"),
                    "labels": [lb.get("title") for lb in payload.get("labels") or []
                               if isinstance(lb, dict)]}
        convert = gitlab.as_github_issue
    if not opened:
        return Outcome("ignored", f"{event} {action or ''} does not trigger drafts".strip())
    if not ctx.settings.project_settings(project).triggers.issues_opened:
        return Outcome("ignored", f"{project}: opened issues do not trigger drafts")
    if not isinstance(data, dict):
        raise InvalidInput(f"A {forge} issue event without its issue.", fix="check the sender")
    try:
        shaped = convert(data, {})
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The {forge} issue in the event is malformed ({exc}).",
                           fix="check the sender") from None
    issue = issue_from_json(shaped, f"the {forge} event's issue").model_copy(
        update={"repo": ref.key})
    record, new = request_draft_once(ctx, DraftKind.TRIAGE, issue, project=project,
                                     requested_by=f"{forge}-webhook",
                                     dedupe_key=f"{ref.key}#{issue.number}:opened")
    return _drafted(new, f"triage draft for {ref}#{issue.number}", record.id)


def receive(ctx: AppContext, queue: Queue, deliveries: DeliveryStore, event: str,
            delivery: str, payload: dict[str, Any], forge: str = "github") -> Outcome:
    """Act on a verified delivery once: a redelivery (same delivery id) or another delivery
    of an event that already has its draft answers ``duplicate``; a failure forgets the
    delivery (GitHub may send it again); a new draft is enqueued, or left to the workers'
    sweep when the queue is down (as is one whose first delivery died before enqueueing)."""
    if not deliveries.first_time(delivery, event):
        return Outcome("duplicate", "delivery already handled", deliveries.draft_of(delivery))
    try:
        outcome = handle_event(ctx, event, payload) if forge == "github" else \
            handle_forge_event(ctx, forge, event, payload)
    except Exception:
        deliveries.forget(delivery)
        raise
    deliveries.outcome(delivery, f"{outcome.status}: {outcome.reason}", outcome.draft_id)
    if outcome.status == "queued" and outcome.draft_id is not None:
        try:
            queue.submit([outcome.draft_id])
        except Exception:
            log.warning("could not enqueue draft %s now; the sweep will", outcome.draft_id)
    return outcome
