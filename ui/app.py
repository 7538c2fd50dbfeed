"""The Gradio review desk, mounted into the API app at ``/ui``.

Signing in happens beside it (``ui/signin.py``): an HttpOnly cookie names the key's id, never
the key. Callbacks are thin: they hand the desk (``ui/desk.py``) their request, whose cookie it
checks each time, and the desk calls the same services as the API. Errors show as readable
messages, never tracebacks. No component takes files, and the guard (``ui/guard.py``) refuses
Gradio's upload routes; Gradio's cache is a folder of the data dir, emptied at start-up.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no version check on a closed network

import gradio as gr
from fastapi import FastAPI

from assistant.services.container import Services
from assistant.store.server_secrets import server_secret
from ui.desk import ReviewDesk
from ui.guard import DeskGuard
from ui.readable import readable
from ui.session import SESSION_SECRET, DeskSessions
from ui.signin import signin_router
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


def build_ui(services: Services, sessions: DeskSessions, path: str = "/ui") -> gr.Blocks:
    """The review desk over these services (signed in through ``sessions``)."""
    desk = ReviewDesk(services, sessions)
    sign_out_js = f"""() => {{
      const form = document.createElement('form');
      form.method = 'post'; form.action = '{path}-session/sign-out';
      document.body.appendChild(form); form.submit();
    }}"""
    with gr.Blocks(title="devrel-assistant review", analytics_enabled=False) as blocks:
        with gr.Row():
            gr.Markdown("## devrel-assistant · review desk")
            who = gr.Markdown("Signing in…", elem_id="who", latex_delimiters=[])
            sign_out = gr.Button("Sign out", elem_id="sign-out-btn", scale=0)
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Queue", id="queue", elem_id="tab-queue"):
                queue = build_queue_tab()
            with gr.Tab("Create", id="create", elem_id="tab-create"):
                create = build_create_tab(desk)
            with gr.Tab("Index", id="index", elem_id="tab-index"):
                index = build_index_tab(desk)

        load_queue = wire_queue_tab(queue, desk)
        wire_create_tab(create, desk)
        load_index = wire_index_tab(index, desk)

        @readable
        def signed_in(request: gr.Request) -> str:
            return desk.signed_in(request)

        sign_out.click(None, js=sign_out_js)
        blocks.load(signed_in, None, [who]).success(
            load_queue, queue.filters(), queue.views()).success(
            load_index, [index.project], [index.table, index.head])
    return blocks


def fresh_cache(folder: Path) -> Path:
    """Gradio's cache folder, emptied (nothing in it outlives a restart)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    return folder


def mount_ui(app: FastAPI, services: Services, path: str = "/ui") -> FastAPI:
    """Mount the review desk at ``path``, its sign-in page at ``path-session`` and its guard
    (system fonts: no request leaves the machine)."""
    settings = services.ctx.settings
    os.environ["GRADIO_TEMP_DIR"] = str(fresh_cache(settings.data_dir / "ui-cache"))
    secret = server_secret(services.ctx.drafts().engine, SESSION_SECRET)  # shared by every host
    sessions = DeskSessions(services.keys, secret, settings.api.ui_idle_s)
    app.include_router(signin_router(sessions, path))
    app.add_middleware(DeskGuard, path=path, sessions=sessions)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return gr.mount_gradio_app(app, build_ui(services, sessions, path), path=path, theme=theme,
                               css=CSS, head=SHORTCUTS, footer_links=[], show_error=True,
                               auth_dependency=sessions.username, run_history=False,
                               mcp_server=False, enable_monitoring=False, pwa=False)
