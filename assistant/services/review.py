"""The review workflow: edit (a new revision), approve, reject, publish through the forge.

Nothing reaches GitHub except the approved revision of an approved draft.
"""

from __future__ import annotations

import hashlib
import hmac

from assistant.context import AppContext
from assistant.errors import Conflict, DevrelError, InvalidInput
from assistant.forge.client import Hold
from assistant.forge.github import Forge, PublishedComment
from assistant.forge.registry import forge_for
from assistant.project_files import load_project_files
from assistant.repos import RepoRef, issue_key, project_repos
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.models import DraftKind, DraftStatus
from assistant.store.server_secrets import server_secret

PUBLISH_LEASE_S = 120.0
# A publish waits out a rate limit only while its lease safely outlives the wait.
PUBLISH_MAX_WAIT_S = PUBLISH_LEASE_S / 2
MARKER_SECRET = "publish-marker"


def publish_marker(draft_id: int, key: bytes) -> str:
    """The hidden line that makes a published comment findable (and publishing idempotent).

    It carries an HMAC of the draft id under the server's own key, so nobody who can comment
    can write the marker of a draft ahead of its publish.
    """
    tag = hmac.new(key, f"draft-{draft_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"<!-- devrel-assistant:draft-{draft_id}:{tag} -->"


def publish_target(ctx: AppContext, record: DraftRecord) -> tuple[RepoRef, int]:
    """Where an approved triage draft may post: its issue, in one of the project's own repos
    (on that repo's forge).

    The repository and number come from the draft's input, which a bot key chose; a reviewer's
    approval must not post anywhere else than the project the draft belongs to.
    """
    repo, number = record.input.get("repo"), record.input.get("number")
    if not repo or not number:
        raise Conflict(f"Draft {record.id} was made from pasted text, not a forge's issue.",
                       fix="copy the approved reply and post it by hand")
    project = ctx.settings.project_settings(record.project)
    configured = project_repos(project)
    if not configured:
        raise Conflict(f"Project {record.project!r} has no repository configured to publish to.",
                       fix=f"set projects.{record.project}.repo to OWNER/NAME")
    try:
        wanted = RepoRef.parse(repo, project.forge) if isinstance(repo, str) else None
    except InvalidInput:
        wanted = None
    match = next((r for r in configured if wanted and r.forge == wanted.forge
                  and r.name.lower() == wanted.name.lower()), None)
    if match is None:
        names = ", ".join(r.key for r in configured)
        raise Conflict(
            f"Draft {record.id} is about {repo!r}, not one of {names}, the repositories of "
            f"project {record.project!r}.", fix="publish drafts only to their project's repos")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise Conflict(f"Draft {record.id} names no valid issue number.",
                       fix="redraft it from the forge's issue")
    return match, number


def check_content(ctx: AppContext, record: DraftRecord, content: DraftContent) -> None:
    """A reviewer may pick labels from the project's label set and duplicates the draft found."""
    if record.kind != DraftKind.TRIAGE:
        if content.labels or content.duplicates:
            raise InvalidInput(f"A {record.kind} draft has no labels or duplicates.",
                               fix="send only text (and translation)")
        return
    output = record.output or {}
    allowed = load_project_files(ctx.index(record.project)).label_names or [
        label["name"] for label in output.get("labels", [])]
    unknown = [name for name in content.labels if name not in allowed]
    if unknown:
        raise InvalidInput(
            f"Unknown label(s) {', '.join(repr(n) for n in unknown)}.",
            fix="use labels from the project's label set: " + (", ".join(allowed) or "(none)"),
        )
    found = {d["number"] for key in ("duplicates", "related") for d in output.get(key, [])}
    stray = [n for n in content.duplicates if n not in found]
    if stray:
        raise InvalidInput(
            f"#{', #'.join(map(str, stray))} was not among the duplicates the draft found.",
            fix="pick duplicates from the draft's candidates: "
            + (", ".join(f"#{n}" for n in sorted(found)) or "(none)"),
        )


def edit_draft(ctx: AppContext, draft_id: int, content: DraftContent, author: str,
               note: str | None = None, *, base_revision: int) -> DraftRecord:
    """Store a reviewer's edit of ``base_revision`` as a new revision."""
    record = ctx.drafts().get(draft_id)
    check_content(ctx, record, content)
    return ctx.drafts().edit(draft_id, content, author, note, base_revision=base_revision)


def approve_draft(ctx: AppContext, draft_id: int, reviewer: str, revision: int) -> DraftRecord:
    """Approve exactly ``revision``, the one the reviewer saw (a Conflict if it moved on)."""
    return ctx.drafts().approve(draft_id, reviewer, revision)


def reject_draft(ctx: AppContext, draft_id: int, reviewer: str, reason: str) -> DraftRecord:
    if not reason.strip():
        raise InvalidInput("A rejection needs a reason.", fix="say why, for the record")
    return ctx.drafts().reject(draft_id, reviewer, reason.strip())


def publish_draft(ctx: AppContext, draft_id: int, actor: str,
                  forge: Forge | None = None) -> DraftRecord:
    """Post an approved triage draft's labels and comment; publishing twice posts once.

    The draft is held by a lease for the whole publish, renewed before every write and while
    waiting, so a rejection cannot slip in and a second publish cannot post too. Labels go
    first (adding twice is harmless), the comment last; once a comment exists, the draft is
    recorded as published whatever else failed.
    """
    store = ctx.drafts()
    record = store.get(draft_id)
    if record.status == DraftStatus.PUBLISHED:
        return record
    if record.status != DraftStatus.APPROVED or record.approved_revision is None:
        raise Conflict(f"Draft {draft_id} is {record.status}; only approved drafts are published.",
                       fix="approve it first")
    if record.kind != DraftKind.TRIAGE:
        raise Conflict(f"Publishing {record.kind} drafts to a forge is not supported.",
                       fix="copy the approved text from the draft")
    ref, number = publish_target(ctx, record)
    repo = ref.name
    content = store.content(draft_id, record.approved_revision).content
    marker = publish_marker(draft_id, server_secret(store.engine, MARKER_SECRET))
    token = store.lock_publish(draft_id, PUBLISH_LEASE_S)

    def renew() -> None:
        if not store.renew_publish(draft_id, token, PUBLISH_LEASE_S):
            raise Conflict(f"Draft {draft_id} stopped being this publish's (its lease ran out "
                           "or it was rejected); nothing more was sent.",
                           fix="reload the draft and check its status")

    hold = Hold(renew=renew, max_wait_s=PUBLISH_MAX_WAIT_S)
    own_forge = forge is None
    forge = forge or forge_for(ctx.settings, ref)
    comment = None
    labels: list[str] = []
    try:
        if content.labels:
            labels = forge.add_labels(repo, number, content.labels, hold)
        if content.text.strip():
            comment = forge.publish_comment(repo, number, content.text, marker, hold)
    except DevrelError as exc:
        comment = _posted_anyway(forge, repo, number, marker) if content.text.strip() else None
        if comment is None:
            store.publish_failed(draft_id, actor, str(exc), token)
            raise
        labels = labels or content.labels
    finally:
        if own_forge:
            forge.close()
    url = comment.url if comment else str(record.input.get("url") or issue_key(ref, number))
    detail: dict[str, object] = {"labels": labels, "revision": record.approved_revision}
    if comment:
        detail |= {"comment_id": comment.id, "posted": comment.created}
    return store.mark_published(draft_id, actor, url, detail)


def _posted_anyway(forge: Forge, repo: str, number: int, marker: str) -> PublishedComment | None:
    """After a failed publish: the comment, if it went out all the same (a lost answer)."""
    try:
        return forge.find_comment(repo, number, marker)
    except DevrelError:
        return None
