"""The review desk's actions over the shared services, without Gradio: who is signed in, the
queue, one draft opened for review, edits, approvals, creating drafts, the index. The tabs
turn what these return into components."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import InvalidInput
from assistant.services import desk as workflow
from assistant.services import review
from assistant.services.container import Services
from assistant.services.index_info import index_summary
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftStatus, Role
from ui import views

WAIT_S = 180.0
User = dict[str, Any] | None


@dataclass
class Opened:
    """One draft as the editor shows it."""

    draft_id: int
    original: str
    header: str
    input_text: str
    meta: str
    text: str
    language: str
    translation: str
    labels: list[tuple[str, str]]
    labels_ticked: list[str]
    duplicates: list[tuple[str, int]]
    duplicates_ticked: list[int]
    diff: str
    sources: str


@dataclass
class Edit:
    """What the reviewer has in the editor."""

    text: str
    translation: str = ""
    labels: list[str] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)


class ReviewDesk:
    """The desk's actions; each checks the signed-in key of this browser session."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.ctx = services.ctx
        self.store = services.ctx.drafts()

    @property
    def projects(self) -> list[str]:
        return sorted({self.ctx.settings.project, *self.ctx.settings.projects})

    def sign_in(self, secret: str) -> dict[str, Any]:
        key = self.services.keys.verify((secret or "").strip())
        if key is None:
            raise InvalidInput("That API key is not valid (or was revoked).",
                               fix="create one with `devrel keys create --role reviewer`")
        return {"id": key.id, "name": key.name, "role": key.role.value}

    def who(self, user: User, role: Role) -> str:
        """The signed-in reviewer's name for the audit log, if their role allows ``role``."""
        if not user:
            raise InvalidInput("Not signed in.", fix="paste your API key and press Sign in")
        workflow.check_role(Role(user["role"]), role)
        return f"{user['name']} (key {user['id']}, ui)"

    def queue(self, user: User, status: str, kind: str, project: str,
              language: str) -> tuple[list[list[Any]], str]:
        self.who(user, Role.BOT)
        records = self.store.list(
            status=None if status == "(all)" else status, kind=None if kind == "(all)" else kind,
            project=project.strip() or None, language=None if language == "(all)" else language,
            limit=200)
        return views.queue_rows(records), views.counts_line(self.store.counts())

    def open(self, user: User, draft_id: int) -> Opened:
        self.who(user, Role.BOT)
        return self._opened(draft_id)

    def next_pending(self, user: User, current: int | None) -> Opened:
        self.who(user, Role.BOT)
        pending = sorted(r.id for r in self.store.list(status=DraftStatus.PENDING_REVIEW,
                                                       limit=500))
        later = [i for i in pending if current is None or i > current] or pending
        if not later:
            raise InvalidInput("No draft waits for review.", fix="refresh the queue later")
        return self._opened(later[0])

    def save(self, user: User, draft_id: int | None, edit: Edit) -> Opened:
        who = self.who(user, Role.REVIEWER)
        draft_id = _require(draft_id)
        workflow.save_edit(self.ctx, draft_id, self._content(draft_id, edit), who,
                           self.store.get(draft_id).revision)
        return self._opened(draft_id)

    def approve(self, user: User, draft_id: int | None, edit: Edit) -> Opened:
        who = self.who(user, Role.REVIEWER)
        draft_id = _require(draft_id)
        workflow.approve_with_edit(self.ctx, draft_id, self._content(draft_id, edit), who,
                                   self.store.get(draft_id).revision)
        return self._opened(draft_id)

    def reject(self, user: User, draft_id: int | None, reason: str) -> Opened:
        who = self.who(user, Role.REVIEWER)
        draft_id = _require(draft_id)
        review.reject_draft(self.ctx, draft_id, who, reason or "")
        return self._opened(draft_id)

    def publish(self, user: User, draft_id: int | None) -> Opened:
        who = self.who(user, Role.REVIEWER)
        draft_id = _require(draft_id)
        review.publish_draft(self.ctx, draft_id, who)
        return self._opened(draft_id)

    def create(self, user: User, kind: str, data: dict[str, Any],
               project: str) -> Iterator[str]:
        """Queue a draft and report its progress until it waits for review (or fails)."""
        who = self.who(user, Role.BOT)
        record = workflow.create_draft(self.ctx, self.services.queue, kind, data,
                                       project=project.strip() or None, requested_by=who)
        yield f"Draft #{record.id} queued; a worker will draft it…"
        for seen in workflow.watch_draft(self.ctx, record.id, WAIT_S):
            record = seen
            if record.status not in (DraftStatus.QUEUED, *workflow.DONE):
                yield f"Draft #{record.id}: {record.status.replace('_', ' ')}…"
        tail = {"pending_review": "waits for review in the queue.",
                "failed": f"failed: {record.error}"}.get(
            record.status, f"is still {record.status}; it will appear in the queue.")
        yield f"Draft #{record.id} {tail}"

    def index(self, user: User, project: str) -> tuple[list[list[Any]], str]:
        self.who(user, Role.BOT)
        summary = index_summary(self.ctx, project or None)
        synced = summary["last_sync"] or "never (from the UI)"
        head = (f"**{summary['project']}**: {summary['passages']} passages · embedder "
                f"{summary['embedder']} · last sync {synced}")
        return views.index_rows(summary), head

    def resync(self, user: User, project: str) -> str:
        who = self.who(user, Role.ADMIN)
        project = project or self.ctx.settings.project
        workflow.request_sync(self.ctx, self.services.queue, project, who)
        return f"Re-sync of {project} queued; refresh in a moment."

    def _content(self, draft_id: int, edit: Edit) -> DraftContent:
        current = self.store.content(draft_id).content
        return DraftContent(text=edit.text, translation=edit.translation or current.translation,
                            labels=list(edit.labels or []),
                            duplicates=[int(d) for d in edit.duplicates or []])

    def _opened(self, draft_id: int) -> Opened:
        record = self.store.get(draft_id)
        revisions = self.store.revisions(draft_id)
        content = revisions[-1].content if revisions else DraftContent(text="")
        original = revisions[0].content.text if revisions else ""
        return Opened(
            draft_id=draft_id, original=original, header=views.input_header(record),
            input_text=views.input_text(record), meta=views.draft_meta(record),
            text=content.text, language=record.language or "?",
            translation=content.translation or "",
            labels=views.label_choices(record, content), labels_ticked=content.labels,
            duplicates=views.duplicate_choices(record), duplicates_ticked=content.duplicates,
            diff=views.diff_markdown(original, content.text),
            sources=views.sources_markdown(record))


def _require(draft_id: int | None) -> int:
    if draft_id is None:
        raise InvalidInput("No draft is open.", fix="pick one in the queue")
    return int(draft_id)
