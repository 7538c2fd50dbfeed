"""The Queue tab: filters, the drafts table, and one draft side by side with its input and
sources, edited, approved, rejected or published."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import gradio as gr

from assistant.store.models import DraftKind
from ui import views
from ui.desk import Edit, Opened, ReviewDesk
from ui.readable import readable

STATUSES = ["pending_review", "approved", "rejected", "published", "failed", "queued",
            "drafting", "(all)"]
KINDS = ["(all)", *[k.value for k in DraftKind]]


@dataclass
class Editor:
    """The components that show one opened draft."""

    current: gr.State
    revision: gr.State  # the revision opened: saving names it, so a newer one is a Conflict
    original: gr.State
    header: gr.Markdown
    input_body: gr.Textbox
    meta: gr.Markdown
    reply: gr.Textbox
    translation: gr.Textbox
    labels: gr.CheckboxGroup
    duplicates: gr.CheckboxGroup
    diff: gr.Markdown
    sources: gr.Markdown
    reason: gr.Textbox

    def all(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]

    def show(self, opened: Opened) -> dict[Any, Any]:
        """Each component's new value, by name."""
        return {
            self.current: opened.draft_id, self.revision: opened.revision,
            self.original: opened.original,
            self.header: opened.header, self.input_body: opened.input_text,
            self.meta: opened.meta,
            self.reply: gr.update(value=opened.text, label=f"Reply ({opened.language})"),
            self.translation: gr.update(value=opened.translation,
                                        visible=bool(opened.translation)),
            self.labels: gr.update(choices=opened.labels, value=opened.labels_ticked),
            self.duplicates: gr.update(choices=opened.duplicates,
                                       value=opened.duplicates_ticked),
            self.diff: opened.diff, self.sources: opened.sources, self.reason: "",
        }


@dataclass
class Actions:
    """The reviewer's buttons under the editor."""

    save: gr.Button
    approve: gr.Button
    reject: gr.Button
    publish: gr.Button
    next: gr.Button


@dataclass
class QueueTab:
    """The queue's filters and table, the editor and its buttons."""

    status: gr.Dropdown
    kind: gr.Dropdown
    project: gr.Textbox
    language: gr.Dropdown
    refresh: gr.Button
    counts: gr.Markdown
    table: gr.Dataframe
    editor: Editor
    actions: Actions

    def filters(self) -> list[Any]:
        return [self.status, self.kind, self.project, self.language]

    def views(self) -> list[Any]:
        return [self.table, self.counts]


def build_queue_tab() -> QueueTab:
    """The tab's components (inside a ``gr.Tab``)."""
    with gr.Row():
        status = gr.Dropdown(STATUSES, value="pending_review", label="Status",
                             elem_id="filter-status")
        kind = gr.Dropdown(KINDS, value="(all)", label="Kind", elem_id="filter-kind")
        project = gr.Textbox(label="Project", placeholder="all", elem_id="filter-project")
        language = gr.Dropdown(["(all)", "en", "zh"], value="(all)", label="Language",
                               elem_id="filter-language")
        refresh = gr.Button("Refresh", elem_id="refresh-btn", scale=0)
    counts = gr.Markdown(elem_id="counts", latex_delimiters=[])
    table = gr.Dataframe(headers=views.QUEUE_COLUMNS, value=[], interactive=False,
                         elem_id="queue-table", label="Drafts (click one to review)", wrap=True)
    header = gr.Markdown("Pick a draft in the queue.", elem_id="input-header",
                         latex_delimiters=[])
    meta = gr.Markdown(elem_id="draft-meta", latex_delimiters=[])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            input_body = gr.Textbox(label="The input, as written", lines=14, interactive=False,
                                    elem_id="input-body")
        with gr.Column(scale=1):
            reply = gr.Textbox(label="Reply", lines=10, interactive=True, elem_id="reply")
            translation = gr.Textbox(label="Translation (for the reviewer)", lines=6,
                                     interactive=True, visible=False, elem_id="translation")
            labels = gr.CheckboxGroup([], label="Labels", elem_id="labels")
            duplicates = gr.CheckboxGroup([], label="Duplicates to mention",
                                          elem_id="duplicates")
        with gr.Column(scale=1):
            sources = gr.Markdown(elem_id="sources", label="Sources", latex_delimiters=[])
    diff = gr.Markdown(elem_id="diff", latex_delimiters=[])
    with gr.Row():
        save = gr.Button("Save edit", elem_id="save-btn")
        approve = gr.Button("Approve (a)", variant="primary", elem_id="approve-btn")
        reason = gr.Textbox(label="Reason to reject", elem_id="reject-reason", scale=2)
        reject = gr.Button("Reject (r)", variant="stop", elem_id="reject-btn")
        publish = gr.Button("Publish", elem_id="publish-btn")
        next_btn = gr.Button("Next (n)", elem_id="next-btn")
    editor = Editor(gr.State(None), gr.State(None), gr.State(""), header, input_body, meta,
                    reply, translation, labels, duplicates, diff, sources, reason)
    return QueueTab(status, kind, project, language, refresh, counts, table, editor,
                    Actions(save, approve, reject, publish, next_btn))


def wire_queue_tab(tab: QueueTab, desk: ReviewDesk) -> Callable[..., dict[Any, Any]]:
    """Connect the tab's events to the desk; returns the callback that reloads the queue.
    Each callback hands the desk its request, whose sign-in cookie the desk checks."""
    editor = tab.editor

    @readable
    def load(status: str, kind: str, project: str, language: str,
             request: gr.Request) -> dict[Any, Any]:
        rows, counts = desk.queue(request, status, kind, project, language)
        return {tab.table: rows, tab.counts: counts}

    @readable
    def select(evt: gr.SelectData, request: gr.Request) -> dict[Any, Any]:
        return editor.show(desk.open(request, int(evt.row_value[0])))

    @readable
    def next_pending(current: int | None, request: gr.Request) -> dict[Any, Any]:
        return editor.show(desk.next_pending(request, current))

    @readable
    def save(current: int | None, revision: int | None, text: str, translation: str,
             labels: list[str], duplicates: list[int], request: gr.Request) -> dict[Any, Any]:
        edit = Edit(text, translation, labels, duplicates)
        return editor.show(desk.save(request, current, revision, edit))

    @readable
    def approve(current: int | None, revision: int | None, text: str, translation: str,
                labels: list[str], duplicates: list[int],
                request: gr.Request) -> dict[Any, Any]:
        edit = Edit(text, translation, labels, duplicates)
        return editor.show(desk.approve(request, current, revision, edit))

    @readable
    def reject(current: int | None, reason: str, request: gr.Request) -> dict[Any, Any]:
        return editor.show(desk.reject(request, current, reason))

    @readable
    def publish(current: int | None, request: gr.Request) -> dict[Any, Any]:
        return editor.show(desk.publish(request, current))

    @readable
    def diff(original: str, text: str) -> str:
        return views.diff_markdown(original or "", text or "")

    filters, shown = tab.filters(), editor.all()
    editable = [editor.current, editor.revision, editor.reply, editor.translation,
                editor.labels, editor.duplicates]
    tab.refresh.click(load, filters, tab.views())
    for dropdown in (tab.status, tab.kind, tab.language):
        dropdown.change(load, filters, tab.views())
    tab.table.select(select, None, shown)
    editor.reply.change(diff, [editor.original, editor.reply], [editor.diff])
    for button, action, inputs in (
        (tab.actions.save, save, editable), (tab.actions.approve, approve, editable),
        (tab.actions.reject, reject, [editor.current, editor.reason]),
        (tab.actions.publish, publish, [editor.current]),
    ):
        button.click(action, inputs, shown).success(load, filters, tab.views())
    tab.actions.next.click(next_pending, [editor.current], shown)
    return load
