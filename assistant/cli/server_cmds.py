"""``devrel serve``, ``devrel worker`` and ``devrel keys``."""

from __future__ import annotations

import logging
import signal
import threading

import typer
from rich.table import Table

from assistant.cli.common import app_context, console
from assistant.store.keys import KeyStore

keys_app = typer.Typer(no_args_is_help=True)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("huey").setLevel(logging.WARNING)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Bind address (default api.host: 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default api.port: 8000)."),
    worker: bool | None = typer.Option(
        None, "--worker/--no-worker", help="Run a drafting worker in this process "
        "(default api.in_process_worker; turn off when `devrel worker` runs elsewhere)."),
) -> None:
    """Run the API (and a worker): drafts wait for review at http://HOST:PORT/docs."""
    import uvicorn

    from assistant.server import create_server

    _logging()
    app_ctx = app_context(ctx)
    settings = app_ctx.settings
    run_worker = settings.api.in_process_worker if worker is None else worker
    app = create_server(app_ctx, run_worker=run_worker)
    host, port = host or settings.api.host, port or settings.api.port
    counts = app_ctx.drafts().counts()
    console.print(f"devrel-assistant on http://{host}:{port}: review desk at /ui, API at /docs; "
                  f"{counts.get('pending_review', 0)} drafts wait for review; worker "
                  f"{'in this process' if run_worker else 'elsewhere (`devrel worker`)'}; "
                  f"data in {settings.data_dir}", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def worker(
    ctx: typer.Context,
    workers: int | None = typer.Option(None, min=1, max=32,
                                       help="Worker threads (default queue.workers)."),
) -> None:
    """Run drafting workers until interrupted (Ctrl-C finishes the running job first)."""
    from assistant.jobs.queue import Worker

    _logging()
    app_ctx = app_context(ctx)
    app_ctx.drafts()  # migrate before the first job
    running = Worker(app_ctx, workers).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    queue = app_ctx.settings.queue
    console.print(f"worker started: {workers or queue.workers} thread(s) on the "
                  f"{queue.backend} queue {queue.name!r}", highlight=False)
    stop.wait()
    console.print("stopping: finishing the running job…")
    running.stop(graceful=True)


@keys_app.command("create")
def create_key(
    ctx: typer.Context,
    name: str = typer.Option(..., help="Who or what uses the key."),
    role: str = typer.Option("bot", help="bot (create drafts, read), reviewer (edit, approve, "
                             "reject, publish) or admin (ingest, keys)."),
) -> None:
    """Create an API key; its secret is printed once."""
    keys = KeyStore(app_context(ctx).drafts().engine)
    record, secret = keys.create(name, role, actor="cli")
    console.print(f"key {record.id} ({record.role.value}) for {record.name}:", highlight=False)
    typer.echo(secret)


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """API keys (never their secrets)."""
    table = Table()
    for column in ("id", "name", "role", "prefix", "created", "revoked"):
        table.add_column(column)
    for k in KeyStore(app_context(ctx).drafts().engine).list():
        table.add_row(str(k.id), k.name, k.role.value, k.prefix + "…",
                      k.created_at.strftime("%Y-%m-%d %H:%M"),
                      k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "")
    console.print(table)


@keys_app.command("revoke")
def revoke_key(ctx: typer.Context, key_id: int) -> None:
    """Revoke a key."""
    record = KeyStore(app_context(ctx).drafts().engine).revoke(key_id, actor="cli")
    console.print(f"key {record.id} ({record.name}) revoked", highlight=False)
