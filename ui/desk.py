"""The review desk's actions over the shared services, without Gradio: who is signed in, the
queue, one draft opened for review, edits, approvals, creating drafts, the index. The tabs
turn what these return into components."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import Conflict, InvalidInput
from assistant.services import desk as workflow
from assistant.services import review
from assistant.services.container import Services
from assistant.services.index_info import index_summary
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftStatus, Role
from ui import views
from ui.session import DeskSessions, HasCookies

WAIT_S = 180.0
KEEP_EDIT = ("your text is still in the editor: copy it, open the draft again to see the "
             "other edit, then apply yours")


@dataclass
class Opened:
    """One draft as the editor shows it."""

    draft_id: int
    revision: int  # the one the reviewer sees: saving names it, so a newer one is a Conflict
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
    """The desk's actions; each reads the request's sign-in cookie and checks its key is
    live and its role allows the action, every time."""

    def __init__(self, services: Services, sessions: DeskSessions) -> None:
        self.services = services
        self.sessions = sessions
        self.ctx = services.ctx
        self.store = services.ctx.drafts()

    @property
    def projects(self) -> list[str]:
        return sorted({self.ctx.settings.project, *self.ctx.settings.projects})

    def signed_in(self, request: HasCookies) -> str:
        """Who this browser is signed in as, for the page's header (Markdown)."""
        key = self.sessions.of(request)
        return f"Signed in as **{views.escape(key.name)}** ({key.role.value})"

    def who(self, request: HasCookies, role: Role) -> str:
        """The signed-in reviewer's name for the audit log, if their live key's role allows
        ``role``."""
        key = self.sessions.of(request)
        workflow.check_role(key.role, role)
        return f"{key.name} (key {key.id}, ui)"

    def queue(self, request: HasCookies, status: str, kind: str, project: str,
              language: str) -> tuple[list[list[Any]], str]:
        self.who(request, Role.BOT)
        records = self.store.list(
            status=None if status == "(all)" else status, kind=None if kind == "(all)" else kind,
            project=project.strip() or None, language=None if language == "(all)" else language,
            limit=200)
        return views.queue_rows(records), views.counts_line(self.store.counts())

    def open(self, request: HasCookies, draft_id: int) -> Opened:
        self.who(request, Role.BOT)
        return self._opened(draft_id)

    def next_pending(self, request: HasCookies, current: int | None) -> Opened:
        self.who(request, Role.BOT)
        pending = sorted(r.id for r in self.store.list(status=DraftStatus.PENDING_REVIEW,
                                                       limit=500))
        later = [i for i in pending if current is None or i > current] or pending
        if not later:
            raise InvalidInput("No draft waits for review.", fix="refresh the queue later")
        return self._opened(later[0])

    def save(self, request: HasCookies, draft_id: int | None, base_revision: int | None,
             edit: Edit) -> Opened:
        """Save the edit over ``base_revision``, the revision the reviewer opened."""
        who = self.who(request, Role.REVIEWER)
        draft_id, base = _require(draft_id), _revision(base_revision)
        with _keeping_edit():
            workflow.save_edit(self.ctx, draft_id, self._content(draft_id, base, edit), who,
                               base)
        return self._opened(draft_id)

    def approve(self, request: HasCookies, draft_id: int | None, base_revision: int | None,
                edit: Edit) -> Opened:
        """Approve the edit as made over ``base_revision``, the revision the reviewer opened."""
        who = self.who(request, Role.REVIEWER)
        draft_id, base = _require(draft_id), _revision(base_revision)
        with _keeping_edit():
            workflow.approve_with_edit(self.ctx, draft_id,
                                       self._content(draft_id, base, edit), who, base)
        return self._opened(draft_id)

    def reject(self, request: HasCookies, draft_id: int | None, reason: str) -> Opened:
        who = self.who(request, Role.REVIEWER)
        draft_id = _require(draft_id)
        review.reject_draft(self.ctx, draft_id, who, reason or "")
        return self._opened(draft_id)

    def publish(self, request: HasCookies, draft_id: int | None) -> Opened:
        who = self.who(request, Role.REVIEWER)
        draft_id = _require(draft_id)
        review.publish_draft(self.ctx, draft_id, who)
        return self._opened(draft_id)

    def create(self, request: HasCookies, kind: str, data: dict[str, Any],
               project: str) -> Iterator[str]:
        """Queue a draft and report its progress until it waits for review (or fails)."""
        who = self.who(request, Role.BOT)
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

    def index(self, request: HasCookies, project: str) -> tuple[list[list[Any]], str]:
        self.who(request, Role.BOT)
        summary = index_summary(self.ctx, project or None)
        synced = summary["last_sync"] or "never (from the UI)"
        head = (f"**{views.escape(summary['project'])}**: {summary['passages']} passages · "
                f"embedder {views.escape(summary['embedder'])} · last sync "
                f"{views.escape(synced)}")
        return views.index_rows(summary), head

    def resync(self, request: HasCookies, project: str) -> str:
        who = self.who(request, Role.ADMIN)
        project = project or self.ctx.settings.project
        workflow.request_sync(self.ctx, self.services.queue, project, who)
        return f"Re-sync of {views.escape(project)} queued; refresh in a moment."

    def _content(self, draft_id: int, base_revision: int, edit: Edit) -> DraftContent:
        opened = self.store.content(draft_id, base_revision or None).content
        return DraftContent(text=edit.text, translation=edit.translation or opened.translation,
                            labels=list(edit.labels or []),
                            duplicates=[int(d) for d in edit.duplicates or []])

    def _opened(self, draft_id: int) -> Opened:
        record = self.store.get(draft_id)
        revisions = self.store.revisions(draft_id)
        content = revisions[-1].content if revisions else DraftContent(text="")
        original = revisions[0].content.text if revisions else ""
        return Opened(
            draft_id=draft_id, revision=record.revision, original=original,
            header=views.input_header(record),
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


def _revision(base_revision: int | None) -> int:
    if base_revision is None:
        raise InvalidInput("The editor does not know which revision it shows.",
                           fix="open the draft again from the queue")
    return int(base_revision)


@contextmanager
def _keeping_edit() -> Iterator[None]:
    """A Conflict says the reviewer's text is kept (the editor is left as it was)."""
    try:
        yield
    except Conflict as exc:
        raise Conflict(exc.message, fix=KEEP_EDIT) from exc
