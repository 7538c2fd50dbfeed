"""The Index tab: what a project's index holds, and a re-sync of its sources (admins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.desk import ReviewDesk
from ui.readable import readable


@dataclass
class IndexTab:
    project: gr.Dropdown
    refresh: gr.Button
    sync: gr.Button
    head: gr.Markdown
    table: gr.Dataframe
    sync_note: gr.Markdown


def build_index_tab(desk: ReviewDesk) -> IndexTab:
    with gr.Row():
        project = gr.Dropdown(desk.projects, value=desk.ctx.settings.project, label="Project",
                              elem_id="index-project")
        refresh = gr.Button("Refresh", elem_id="index-refresh-btn", scale=0)
        sync = gr.Button("Re-sync sources (admin)", elem_id="sync-btn", scale=0)
    head = gr.Markdown(elem_id="index-head", latex_delimiters=[])
    table = gr.Dataframe(headers=["kind", "source", "items", "passages", "synced up to"],
                         value=[], interactive=False, elem_id="index-table")
    note = gr.Markdown(elem_id="sync-note", latex_delimiters=[])
    return IndexTab(project, refresh, sync, head, table, note)


def wire_index_tab(tab: IndexTab, desk: ReviewDesk) -> Callable[..., dict[Any, Any]]:
    """Connect the tab's events; returns the callback that reloads the index view."""

    @readable
    def load(project: str, request: gr.Request) -> dict[Any, Any]:
        rows, head = desk.index(request, project)
        return {tab.table: rows, tab.head: head}

    @readable
    def resync(project: str, request: gr.Request) -> str:
        return desk.resync(request, project)

    tab.refresh.click(load, [tab.project], [tab.table, tab.head])
    tab.project.change(load, [tab.project], [tab.table, tab.head])
    tab.sync.click(resync, [tab.project], [tab.sync_note])
    return load
