"""The review workflow: edit (a new revision), approve, reject, publish through the forge.

Nothing reaches GitHub except the approved revision of an approved draft.
"""

from __future__ import annotations

from assistant.context import AppContext
from assistant.errors import Conflict, DevrelError, InvalidInput
from assistant.forge.github import Forge, build_forge
from assistant.project_files import load_project_files
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.models import DraftKind, DraftStatus

PUBLISH_LEASE_S = 120.0


def publish_marker(draft_id: int) -> str:
    """The hidden line that makes a published comment findable (and publishing idempotent)."""
    return f"<!-- devrel-assistant:draft-{draft_id} -->"


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
               note: str | None = None, base_revision: int | None = None) -> DraftRecord:
    """Store a reviewer's edit as a new revision."""
    record = ctx.drafts().get(draft_id)
    check_content(ctx, record, content)
    return ctx.drafts().edit(draft_id, content, author, note, base_revision)


def approve_draft(ctx: AppContext, draft_id: int, reviewer: str,
                  revision: int | None = None) -> DraftRecord:
    return ctx.drafts().approve(draft_id, reviewer, revision)


def reject_draft(ctx: AppContext, draft_id: int, reviewer: str, reason: str) -> DraftRecord:
    if not reason.strip():
        raise InvalidInput("A rejection needs a reason.", fix="say why, for the record")
    return ctx.drafts().reject(draft_id, reviewer, reason.strip())


def publish_draft(ctx: AppContext, draft_id: int, actor: str,
                  forge: Forge | None = None) -> DraftRecord:
    """Post an approved triage draft's comment and labels; publishing twice posts once."""
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
    repo, number = record.input.get("repo"), record.input.get("number")
    if not repo or not number:
        raise Conflict(f"Draft {draft_id} was made from pasted text, not a GitHub issue.",
                       fix="copy the approved reply and post it by hand")
    content = store.content(draft_id, record.approved_revision).content
    token = store.lock_publish(draft_id, PUBLISH_LEASE_S)
    own_forge = forge is None
    forge = forge or build_forge(ctx.settings)
    try:
        comment = None
        if content.text.strip():
            comment = forge.publish_comment(repo, int(number), content.text,
                                            publish_marker(draft_id))
        labels = forge.add_labels(repo, int(number), content.labels) if content.labels else []
    except DevrelError as exc:
        store.publish_failed(draft_id, actor, str(exc), token)
        raise
    finally:
        if own_forge:
            forge.close()  # type: ignore[attr-defined]
    url = comment.url if comment else str(record.input.get("url") or f"{repo}#{number}")
    detail = {"labels": labels, "revision": record.approved_revision}
    if comment:
        detail |= {"comment_id": comment.id, "posted": comment.created}
    return store.mark_published(draft_id, actor, url, detail)
