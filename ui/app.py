"""The Gradio review desk, mounted into the API app at ``/ui``.

Callbacks are thin: they check the signed-in key kept in this browser session's ``gr.State``
and call the same services as the API. Errors show as readable messages, never tracebacks.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no version check on a closed network

import gradio as gr
from fastapi import FastAPI

from assistant.api.deps import Services
from assistant.errors import DevrelError, InvalidInput
from assistant.services import review
from assistant.services.drafting import request_draft
from assistant.services.index_info import index_summary
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind, DraftStatus, Role
from ui import views

log = logging.getLogger(__name__)
STATUSES = ["pending_review", "approved", "rejected", "published", "failed", "queued",
            "drafting", "(all)"]
KINDS = ["(all)", *[k.value for k in DraftKind]]
WAIT_S = 180.0

# Keys typed outside text fields: a approve, r reject, n next.
SHORTCUTS = """
<script>
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const id = {a: 'approve-btn', r: 'reject-btn', n: 'next-btn'}[e.key];
  const button = id && document.getElementById(id);
  if (button) { e.preventDefault(); button.click(); }
});
</script>
"""
CSS = """
#input-body textarea, #reply textarea, #translation textarea {
  font-family: ui-monospace, monospace;
}
.gradio-container { max-width: 1600px !important; }
"""


def _readable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Expected failures become a message in the page; unexpected ones too, without a trace."""

    def convert(exc: Exception) -> gr.Error:
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, DevrelError):
            return gr.Error(str(exc), print_exception=False)
        log.exception("UI callback %s failed", fn.__name__)
        return gr.Error(f"Unexpected {type(exc).__name__}; the server log has the details.",
                        print_exception=False)

    if _is_generator(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise convert(exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise convert(exc) from None
    return wrapper


def _is_generator(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.isgeneratorfunction(fn)


def _who(user: dict[str, Any] | None, role: Role) -> str:
    """The signed-in reviewer's name for the audit log, if their role allows ``role``."""
    if not user:
        raise InvalidInput("Not signed in.", fix="paste your API key and press Sign in")
    if Role(user["role"]).rank < role.rank:
        raise InvalidInput(f"This needs a {role.value} key; yours is {user['role']}.",
                           fix=f"sign in with a {role.value} key")
    return f"{user['name']} (key {user['id']}, ui)"


def build_ui(services: Services) -> gr.Blocks:
    """The review desk over these services."""
    ctx = services.ctx
    store = ctx.drafts()

    @_readable
    def sign_in(secret: str) -> tuple[Any, ...]:
        key = services.keys.verify((secret or "").strip())
        if key is None:
            raise InvalidInput("That API key is not valid (or was revoked).",
                               fix="create one with `devrel keys create --role reviewer`")
        user = {"id": key.id, "name": key.name, "role": key.role.value}
        return user, f"Signed in as **{key.name}** ({key.role.value})", ""

    @_readable
    def load_queue(user: Any, status: str, kind: str, project: str, language: str
                   ) -> tuple[Any, ...]:
        _who(user, Role.BOT)
        records = store.list(
            status=None if status == "(all)" else status, kind=None if kind == "(all)" else kind,
            project=project.strip() or None, language=None if language == "(all)" else language,
            limit=200)
        return views.queue_rows(records), views.counts_line(store.counts())

    def _show(draft_id: int) -> tuple[Any, ...]:
        record = store.get(draft_id)
        revisions = store.revisions(draft_id)
        content = revisions[-1].content if revisions else DraftContent(text="")
        original = revisions[0].content.text if revisions else ""
        has_translation = bool(content.translation)
        return (
            draft_id, original,
            views.input_header(record), views.input_text(record), views.draft_meta(record),
            gr.update(value=content.text, label=f"Reply ({record.language or '?'})"),
            gr.update(value=content.translation or "", visible=has_translation),
            gr.update(choices=views.label_choices(record, content), value=content.labels),
            gr.update(choices=views.duplicate_choices(record), value=content.duplicates),
            views.diff_markdown(original, content.text), views.sources_markdown(record), "",
        )

    @_readable
    def select_row(user: Any, rows: Any, evt: gr.SelectData) -> tuple[Any, ...]:
        _who(user, Role.BOT)
        return _show(int(evt.row_value[0]))

    @_readable
    def next_pending(user: Any, current: int | None) -> tuple[Any, ...]:
        _who(user, Role.BOT)
        pending = sorted(r.id for r in store.list(status=DraftStatus.PENDING_REVIEW, limit=500))
        later = [i for i in pending if current is None or i > current] or pending
        if not later:
            raise InvalidInput("No draft waits for review.", fix="refresh the queue later")
        return _show(later[0])

    def _content(draft_id: int, text: str, translation: str, labels: list[str],
                 duplicates: list[int]) -> DraftContent:
        current = store.content(draft_id).content
        return DraftContent(text=text, translation=translation or current.translation,
                            labels=list(labels or []),
                            duplicates=[int(d) for d in duplicates or []])

    def _require_draft(draft_id: int | None) -> int:
        if draft_id is None:
            raise InvalidInput("No draft is open.", fix="pick one in the queue")
        return int(draft_id)

    @_readable
    def save(user: Any, draft_id: int | None, text: str, translation: str, labels: list[str],
             duplicates: list[int]) -> tuple[Any, ...]:
        who = _who(user, Role.REVIEWER)
        draft_id = _require_draft(draft_id)
        content = _content(draft_id, text, translation, labels, duplicates)
        if content != store.content(draft_id).content:
            review.edit_draft(ctx, draft_id, content, who,
                              base_revision=store.get(draft_id).revision)
        return _show(draft_id)

    @_readable
    def approve(user: Any, draft_id: int | None, text: str, translation: str,
                labels: list[str], duplicates: list[int]) -> tuple[Any, ...]:
        who = _who(user, Role.REVIEWER)
        draft_id = _require_draft(draft_id)
        content = _content(draft_id, text, translation, labels, duplicates)
        record = store.get(draft_id)
        if record.status == DraftStatus.PENDING_REVIEW and content != store.content(
                draft_id).content:
            record = review.edit_draft(ctx, draft_id, content, who, base_revision=record.revision)
        review.approve_draft(ctx, draft_id, who, record.revision)
        return _show(draft_id)

    @_readable
    def reject(user: Any, draft_id: int | None, reason: str) -> tuple[Any, ...]:
        who = _who(user, Role.REVIEWER)
        review.reject_draft(ctx, _require_draft(draft_id), who, reason or "")
        return _show(int(draft_id))  # type: ignore[arg-type]

    @_readable
    def publish(user: Any, draft_id: int | None) -> tuple[Any, ...]:
        who = _who(user, Role.REVIEWER)
        review.publish_draft(ctx, _require_draft(draft_id), who)
        return _show(int(draft_id))  # type: ignore[arg-type]

    @_readable
    def diff(original: str, text: str) -> str:
        return views.diff_markdown(original or "", text or "")

    def _create(user: Any, kind: DraftKind, data: dict[str, Any], project: str) -> Iterator[str]:
        who = _who(user, Role.BOT)
        record = request_draft(ctx, kind, data, project=project.strip() or None,
                               requested_by=who)
        services.queue.submit([record.id])
        yield f"Draft #{record.id} queued; a worker will draft it…"
        deadline = time.monotonic() + WAIT_S
        status = record.status
        while time.monotonic() < deadline:
            record = store.get(record.id)
            if record.status != status:
                status = record.status
                yield f"Draft #{record.id}: {status.replace('_', ' ')}…"
            if status in (DraftStatus.PENDING_REVIEW, DraftStatus.FAILED):
                break
            time.sleep(0.5)
        tail = {"pending_review": "waits for review in the queue.",
                "failed": f"failed: {record.error}"}.get(status, f"is still {status}; it will "
                                                               "appear in the queue.")
        yield f"Draft #{record.id} {tail}"

    @_readable
    def create_triage(user: Any, project: str, title: str, body: str, repo: str,
                      number: float | None) -> Iterator[str]:
        data = {"title": title, "body": body, "repo": repo.strip() or None,
                "number": int(number) if number else None}
        yield from _create(user, DraftKind.TRIAGE, data, project)

    @_readable
    def create_release_notes(user: Any, project: str, version: str, from_ref: str,
                             to_ref: str, changes: str) -> Iterator[str]:
        data = {"version": version, "from_ref": from_ref or None, "to_ref": to_ref or None,
                "changes": [line.strip() for line in changes.splitlines() if line.strip()]}
        yield from _create(user, DraftKind.RELEASE_NOTES, data, project)

    @_readable
    def create_announcement(user: Any, project: str, notes_id: float | None, channel: str,
                            url: str) -> Iterator[str]:
        if not notes_id:
            raise InvalidInput("Which release notes?", fix="give the id of approved notes")
        data = {"release_notes_draft_id": int(notes_id), "channel": channel,
                "url": url.strip() or None}
        yield from _create(user, DraftKind.ANNOUNCEMENT, data, project)

    @_readable
    def create_guide(user: Any, project: str, interest: str, language: str) -> Iterator[str]:
        yield from _create(user, DraftKind.NEWCOMER_GUIDE,
                           {"interest": interest, "language": language}, project)

    @_readable
    def create_summary(user: Any, project: str, notes: str, language: str) -> Iterator[str]:
        data = {"notes": notes, "language": None if language == "auto" else language}
        yield from _create(user, DraftKind.MEETING_SUMMARY, data, project)

    @_readable
    def load_index(user: Any, project: str) -> tuple[Any, ...]:
        _who(user, Role.BOT)
        summary = index_summary(ctx, project or None)
        synced = summary["last_sync"] or "never (from the UI)"
        head = (f"**{summary['project']}**: {summary['passages']} passages · embedder "
                f"{summary['embedder']} · last sync {synced}")
        return views.index_rows(summary), head

    @_readable
    def resync(user: Any, project: str) -> str:
        who = _who(user, Role.ADMIN)
        project = project or ctx.settings.project
        services.queue.submit_sync(project)
        store.log(who, "sync_requested", {"project": project})
        return f"Re-sync of {project} queued; refresh in a moment."

    projects = sorted({ctx.settings.project, *ctx.settings.projects})
    with gr.Blocks(title="devrel-assistant review", analytics_enabled=False) as blocks:
        user = gr.State(None)
        current = gr.State(None)
        original = gr.State("")
        with gr.Row():
            gr.Markdown("## devrel-assistant · review desk")
            key = gr.Textbox(label="API key", type="password", elem_id="api-key", scale=2,
                             placeholder="devrel_…")
            sign_btn = gr.Button("Sign in", elem_id="sign-in-btn", scale=0)
        who = gr.Markdown("Not signed in.", elem_id="who")

        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Queue", id="queue", elem_id="tab-queue"):
                with gr.Row():
                    status = gr.Dropdown(STATUSES, value="pending_review", label="Status",
                                         elem_id="filter-status")
                    kind = gr.Dropdown(KINDS, value="(all)", label="Kind", elem_id="filter-kind")
                    project = gr.Textbox(label="Project", placeholder="all",
                                         elem_id="filter-project")
                    language = gr.Dropdown(["(all)", "en", "zh"], value="(all)",
                                           label="Language", elem_id="filter-language")
                    refresh_btn = gr.Button("Refresh", elem_id="refresh-btn", scale=0)
                counts = gr.Markdown(elem_id="counts")
                table = gr.Dataframe(headers=views.QUEUE_COLUMNS, value=[], interactive=False,
                                     elem_id="queue-table", label="Drafts (click one to review)",
                                     wrap=True)
                header = gr.Markdown("Pick a draft in the queue.", elem_id="input-header")
                meta = gr.Markdown(elem_id="draft-meta")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1):
                        input_body = gr.Textbox(label="The input, as written", lines=14,
                                                interactive=False, elem_id="input-body")
                    with gr.Column(scale=1):
                        reply = gr.Textbox(label="Reply", lines=10, interactive=True,
                                           elem_id="reply")
                        translation = gr.Textbox(label="Translation (for the reviewer)",
                                                 lines=6, interactive=True, visible=False,
                                                 elem_id="translation")
                        labels = gr.CheckboxGroup([], label="Labels", elem_id="labels")
                        duplicates = gr.CheckboxGroup([], label="Duplicates to mention",
                                                      elem_id="duplicates")
                    with gr.Column(scale=1):
                        sources = gr.Markdown(elem_id="sources", label="Sources")
                diff_view = gr.Markdown(elem_id="diff")
                with gr.Row():
                    save_btn = gr.Button("Save edit", elem_id="save-btn")
                    approve_btn = gr.Button("Approve (a)", variant="primary",
                                            elem_id="approve-btn")
                    reason = gr.Textbox(label="Reason to reject", elem_id="reject-reason",
                                        scale=2)
                    reject_btn = gr.Button("Reject (r)", variant="stop", elem_id="reject-btn")
                    publish_btn = gr.Button("Publish", elem_id="publish-btn")
                    next_btn = gr.Button("Next (n)", elem_id="next-btn")

            with gr.Tab("Create", id="create", elem_id="tab-create"):
                create_project = gr.Dropdown(projects, value=ctx.settings.project,
                                             label="Project", elem_id="create-project")
                progress = gr.Textbox(label="Progress", interactive=False, elem_id="progress")
                with gr.Tab("Triage", elem_id="create-triage"):
                    t_title = gr.Textbox(label="Issue title", elem_id="triage-title")
                    t_body = gr.Textbox(label="Issue body", lines=6, elem_id="triage-body")
                    with gr.Row():
                        t_repo = gr.Textbox(label="Repository (owner/name, optional)")
                        t_number = gr.Number(label="Issue number (optional)", precision=0,
                                             value=None)
                    t_btn = gr.Button("Draft a triage reply", elem_id="triage-btn")
                with gr.Tab("Release notes", elem_id="create-release-notes"):
                    with gr.Row():
                        r_version = gr.Textbox(label="Version", elem_id="rn-version")
                        r_from = gr.Textbox(label="From (tag or commit)")
                        r_to = gr.Textbox(label="To (tag or commit)")
                    r_changes = gr.Textbox(label="Or a change list (one per line)", lines=6,
                                           elem_id="rn-changes")
                    r_btn = gr.Button("Draft release notes", elem_id="rn-btn")
                with gr.Tab("Announcement", elem_id="create-announcement"):
                    a_notes = gr.Number(label="From approved release-notes draft #",
                                        precision=0, value=None, elem_id="announce-notes")
                    a_channel = gr.Radio(["blog", "social", "mail"], value="blog",
                                         label="Channel (each in English and Chinese)")
                    a_text = gr.Textbox(label="Release page URL (optional)")
                    a_btn = gr.Button("Draft an announcement", elem_id="announce-btn")
                with gr.Tab("Newcomer guide", elem_id="create-guide"):
                    g_interest = gr.Textbox(label="Interest", placeholder="storage engine",
                                            elem_id="guide-interest")
                    g_language = gr.Radio(["en", "zh"], value="en", label="Language")
                    g_btn = gr.Button("Draft a guide", elem_id="guide-btn")
                with gr.Tab("Meeting summary", elem_id="create-summary"):
                    m_notes = gr.Textbox(label="Meeting notes", lines=8)
                    m_language = gr.Radio(["auto", "en", "zh"], value="auto", label="Language")
                    m_btn = gr.Button("Summarize", elem_id="summary-btn")

            with gr.Tab("Index", id="index", elem_id="tab-index"):
                with gr.Row():
                    index_project = gr.Dropdown(projects, value=ctx.settings.project,
                                                label="Project", elem_id="index-project")
                    index_btn = gr.Button("Refresh", elem_id="index-refresh-btn", scale=0)
                    sync_btn = gr.Button("Re-sync sources (admin)", elem_id="sync-btn", scale=0)
                index_head = gr.Markdown(elem_id="index-head")
                index_table = gr.Dataframe(
                    headers=["kind", "source", "items", "passages", "synced up to"], value=[],
                    interactive=False, elem_id="index-table")
                sync_note = gr.Markdown(elem_id="sync-note")

        filters = [user, status, kind, project, language]
        shown = [current, original, header, input_body, meta, reply, translation, labels,
                 duplicates, diff_view, sources, reason]
        editable = [user, current, reply, translation, labels, duplicates]
        for trigger in (sign_btn.click, key.submit):
            trigger(sign_in, [key], [user, who, key]).success(
                load_queue, filters, [table, counts]).success(
                load_index, [user, index_project], [index_table, index_head])
        refresh_btn.click(load_queue, filters, [table, counts])
        for dropdown in (status, kind, language):
            dropdown.change(load_queue, filters, [table, counts])
        table.select(select_row, [user, table], shown)
        reply.change(diff, [original, reply], [diff_view])
        save_btn.click(save, editable, shown).success(load_queue, filters, [table, counts])
        approve_btn.click(approve, editable, shown).success(load_queue, filters, [table, counts])
        reject_btn.click(reject, [user, current, reason], shown).success(
            load_queue, filters, [table, counts])
        publish_btn.click(publish, [user, current], shown).success(
            load_queue, filters, [table, counts])
        next_btn.click(next_pending, [user, current], shown)
        t_btn.click(create_triage, [user, create_project, t_title, t_body, t_repo, t_number],
                    [progress])
        r_btn.click(create_release_notes, [user, create_project, r_version, r_from, r_to,
                                           r_changes], [progress])
        a_btn.click(create_announcement, [user, create_project, a_notes, a_channel, a_text],
                    [progress])
        g_btn.click(create_guide, [user, create_project, g_interest, g_language], [progress])
        m_btn.click(create_summary, [user, create_project, m_notes, m_language], [progress])
        index_btn.click(load_index, [user, index_project], [index_table, index_head])
        index_project.change(load_index, [user, index_project], [index_table, index_head])
        sync_btn.click(resync, [user, index_project], [sync_note])
    return blocks


def mount_ui(app: FastAPI, services: Services, path: str = "/ui") -> FastAPI:
    """Mount the review desk at ``path`` (system fonts: no request leaves the machine)."""
    theme = gr.themes.Default(font=["system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return gr.mount_gradio_app(app, build_ui(services), path=path, theme=theme, css=CSS,
                               head=SHORTCUTS, footer_links=[], show_error=True)
