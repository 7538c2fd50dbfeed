"""The Gradio review desk, mounted into the API app at ``/ui``.

Callbacks are thin: they pass the signed-in key kept in this browser session's ``gr.State`` to
the desk (``ui/desk.py``), which calls the same services as the API. Errors show as readable
messages, never tracebacks.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no version check on a closed network

import gradio as gr
from fastapi import FastAPI

from assistant.services.container import Services
from ui.desk import ReviewDesk
from ui.readable import readable
from ui.tabs.create import build_create_tab, wire_create_tab
from ui.tabs.index import build_index_tab, wire_index_tab
from ui.tabs.queue import build_queue_tab, wire_queue_tab

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


def build_ui(services: Services) -> gr.Blocks:
    """The review desk over these services."""
    desk = ReviewDesk(services)
    with gr.Blocks(title="devrel-assistant review", analytics_enabled=False) as blocks:
        user = gr.State(None)
        with gr.Row():
            gr.Markdown("## devrel-assistant · review desk")
            key = gr.Textbox(label="API key", type="password", elem_id="api-key", scale=2,
                             placeholder="devrel_…")
            sign_btn = gr.Button("Sign in", elem_id="sign-in-btn", scale=0)
        who = gr.Markdown("Not signed in.", elem_id="who")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Queue", id="queue", elem_id="tab-queue"):
                queue = build_queue_tab()
            with gr.Tab("Create", id="create", elem_id="tab-create"):
                create = build_create_tab(desk)
            with gr.Tab("Index", id="index", elem_id="tab-index"):
                index = build_index_tab(desk)

        load_queue = wire_queue_tab(queue, desk, user)
        wire_create_tab(create, desk, user)
        load_index = wire_index_tab(index, desk, user)

        @readable
        def sign_in(secret: str) -> dict[Any, Any]:
            signed = desk.sign_in(secret)
            return {user: signed, key: "",
                    who: f"Signed in as **{signed['name']}** ({signed['role']})"}

        for trigger in (sign_btn.click, key.submit):
            trigger(sign_in, [key], [user, who, key]).success(
                load_queue, queue.filters(user), queue.views()).success(
                load_index, [user, index.project], [index.table, index.head])
    return blocks


def mount_ui(app: FastAPI, services: Services, path: str = "/ui") -> FastAPI:
    """Mount the review desk at ``path`` (system fonts: no request leaves the machine)."""
    theme = gr.themes.Default(font=["system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return gr.mount_gradio_app(app, build_ui(services), path=path, theme=theme, css=CSS,
                               head=SHORTCUTS, footer_links=[], show_error=True)
