"""``devrel ingest``, ``devrel index`` and ``devrel search``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from assistant.cli.common import app_context, console, progress_bar
from assistant.providers.vector_index import VectorIndex
from ingest.service import ingest_docs
from ingest.sync import SyncReport

ingest_app = typer.Typer(no_args_is_help=True)
index_app = typer.Typer(no_args_is_help=True)


def print_report(report: SyncReport, what: str) -> None:
    console.print(
        f"[green]{what}[/]: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed files; "
        f"{report.chunks_embedded} passages embedded, {report.chunks_deleted} deleted, "
        f"{report.chunks_total} in total; {report.seconds:.1f}s"
    )
    for skipped in report.skipped:
        console.print(f"  [yellow]skipped[/] {skipped.path}: {skipped.reason}", highlight=False)


@ingest_app.command("docs")
def docs(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A folder of Markdown/text docs."),
    project: str | None = typer.Option(None, help="Project name (default from settings)."),
    repo_path: str = typer.Option("", help="Where the folder sits in the repo, for citation URLs."),
) -> None:
    """Index a docs folder; only new or changed passages are embedded."""
    app = app_context(ctx)
    index = app.index(project)
    with progress_bar("Embedding passages") as update:
        report = ingest_docs(app.settings, index, path, repo_path=repo_path, progress=update)
    print_report(report, f"docs of {index.project}")


@index_app.command("status")
def status(ctx: typer.Context, project: str | None = typer.Option(None)) -> None:
    """Passages per source file in a project's index."""
    app = app_context(ctx)
    index = app.index(project)
    counts: dict[str, int] = {}
    for meta in index.entries().values():
        key = f"{meta.get('source_kind', '?')}  {meta.get('path', '?')}"
        counts[key] = counts.get(key, 0) + 1
    table = Table(title=f"{index.project}: {index.count()} passages ({index.embedder.identity})")
    table.add_column("kind / path")
    table.add_column("passages", justify="right")
    for key, count in sorted(counts.items()):
        table.add_row(key, str(count))
    console.print(table)


@index_app.command("reset")
def reset(
    ctx: typer.Context,
    project: str = typer.Option(..., help="The project whose index is deleted."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
) -> None:
    """Delete a project's index (drafts are kept)."""
    if not yes:
        typer.confirm(f"Delete the index of {project}?", abort=True)
    VectorIndex.drop(app_context(ctx).settings, project)
    console.print(f"deleted the index of {project}")


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for (any language)."),
    k: int = typer.Option(5, "--k", min=1, max=50),
    project: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Search a project's index the way the chains do."""
    hits = app_context(ctx).index(project).search(query, k=k)
    if as_json:
        rows = [{"score": h.score, "url": h.url, "title": h.title,
                 "heading": h.metadata.get("heading", ""), "text": h.text} for h in hits]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not hits:
        console.print("no results (is the index empty? `devrel index status`)")
    for h in hits:
        console.print(f"[bold]{h.score:.3f}[/] {h.title} / {h.metadata.get('heading', '')}")
        console.print(f"      {h.url}", highlight=False)
