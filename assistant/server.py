"""The server ``devrel serve`` runs: the API with the review desk mounted at ``/ui``, both
over the same services."""

from __future__ import annotations

from fastapi import FastAPI

from assistant.api.app import create_app
from assistant.context import AppContext


def create_server(ctx: AppContext, *, run_worker: bool = False, ui: bool = True) -> FastAPI:
    """The API for these settings, with the review desk at ``/ui`` unless ``ui`` is off."""
    app = create_app(ctx, run_worker=run_worker)
    if not ui:
        return app
    from ui.app import mount_ui

    return mount_ui(app, app.state.services)
