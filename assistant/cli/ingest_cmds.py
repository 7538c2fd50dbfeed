"""``devrel ingest``, ``devrel index`` and ``devrel search``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from assistant.cli.common import app_context, console, err_console, progress_bar
from assistant.errors import InvalidInput
from assistant.providers.vector_index import VectorIndex
from assistant.services.index_info import SOURCE_KINDS, index_summary, search_index
from ingest.service import (
    ingest_docs,
    ingest_issue_files,
    ingest_notes,
    ingest_project_files,
    sync_github,
)
from ingest.sync import SyncReport

ingest_app = typer.Typer(no_args_is_help=True)
index_app = typer.Typer(no_args_is_help=True)

ProjectOption = typer.Option(None, "--project", help="Project name (default from settings).")


def print_report(report: SyncReport, what: str) -> None:
    console.print(
        f"[green]{what}[/]: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, "
        f"{len(report.skipped)} skipped; passages: {report.chunks_embedded} embedded, "
        f"{report.chunks_relabelled} re-labelled, {report.chunks_deleted} deleted, "
        f"{report.chunks_total} in the source; {report.seconds:.1f}s"
    )
    for skipped in report.skipped:
        console.print(f"  [yellow]skipped[/] {skipped.path}: {skipped.reason}", highlight=False)


@ingest_app.command("docs")
def docs(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A docs folder, or the checkout of a Docusaurus, "
                                "MkDocs or Sphinx site (every root, with live URLs)."),
    project: str | None = ProjectOption,
    repo_path: str = typer.Option("", help="Where the folder sits in the repo, for citation URLs."),
) -> None:
    """Index a docs folder or docs site; only new or changed passages are embedded."""
    app = app_context(ctx)
    index = app.index(project)
    with progress_bar("Embedding passages") as update:
        report = ingest_docs(app.settings, index, path, repo_path=repo_path, progress=update)
    print_report(report, f"docs of {index.project}")


@ingest_app.command("project")
def project_files(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="The project's root folder."),
    project: str | None = ProjectOption,
) -> None:
    """Keep the label set (labels.json), issue templates and glossary.yaml with the index."""
    index = app_context(ctx).index(project)
    for line in ingest_project_files(index, path):
        console.print(f"[green]read[/] {line}", highlight=False)


@ingest_app.command("issues")
def issues(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="JSON dumps of issues/PRs and comments."),
    repo: str | None = typer.Option(
        None, "--repo", help="OWNER/NAME (gitee:OWNER/NAME, gitlab:GROUP/NAME): with files, the "
        "repo of items whose URLs do not say; without, sync it live from its forge."),
    github: str | None = typer.Option(None, "--github", hidden=True, help="Old name of --repo."),
    project: str | None = ProjectOption,
    prune: bool = typer.Option(
        False, help="Files hold every issue: drop indexed issues they do not list."),
    full: bool = typer.Option(False, help="Live sync: ignore the saved cursor, fetch all."),
) -> None:
    """Index issues and PRs from JSON files, or sync a repo's from its forge (incremental)."""
    repo = repo or github
    if not files and not repo:
        raise InvalidInput("Give JSON files or --repo OWNER/NAME.",
                           fix="e.g. `devrel ingest issues issues.json comments.json`")
    app = app_context(ctx)
    index = app.index(project)
    with progress_bar("Embedding passages") as update:
        if files:
            report = ingest_issue_files(app.settings, index, files, repo=repo, prune=prune,
                                        progress=update)
        else:
            report = sync_github(app.settings, index, repo or "", full=full, progress=update,
                                 note=lambda text: err_console.print(f"  {text}",
                                                                     highlight=False))
    print_report(report, f"issues and PRs of {index.project}")


@ingest_app.command("notes")
def notes(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A folder (or one file) of meeting notes."),
    project: str | None = ProjectOption,
) -> None:
    """Index meeting notes (dated from front matter or file name, language detected)."""
    app = app_context(ctx)
    index = app.index(project)
    with progress_bar("Embedding passages") as update:
        report = ingest_notes(app.settings, index, path, progress=update)
    print_report(report, f"meeting notes of {index.project}")


@index_app.command("status")
def status(
    ctx: typer.Context,
    project: str | None = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """What a project's index holds: passages and items per source."""
    app = app_context(ctx)
    summary = index_summary(app, project)
    rows = summary["sources"]
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{summary['project']}: {summary['passages']} passages "
                        f"({summary['embedder']}, retrieval {app.settings.retrieval.mode}, "
                        f"issues {app.settings.retrieval.issues_mode})")
    for column in ("kind", "source", "items", "passages"):
        table.add_column(column, justify="right" if column in ("items", "passages") else "left")
    for row in rows:
        source = str(row.get("repo") or row["source"]) + (
            f" (synced up to {row['synced_up_to']})" if row.get("synced_up_to") else "")
        table.add_row(str(row["kind"]), source, str(row["items"]), str(row["passages"]))
    console.print(table)
    if not rows:
        console.print("empty: run `devrel ingest docs PATH` (or issues, notes) first")


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


KINDS = SOURCE_KINDS


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for (any language)."),
    k: int = typer.Option(5, "--k", min=1, max=50),
    project: str | None = ProjectOption,
    kind: str | None = typer.Option(None, help=f"Only one source kind: {', '.join(KINDS)}."),
    mode: str | None = typer.Option(None, help="dense, bm25 or hybrid (default from settings)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Search a project's index the way the chains do."""
    app = app_context(ctx)
    if mode is not None and mode not in ("dense", "bm25", "hybrid"):
        raise InvalidInput(f"Unknown mode {mode!r}.", fix="use dense, bm25 or hybrid")
    rows = search_index(app, query, k=k, project=project, kind=kind, mode=mode)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("no results (is the index empty? `devrel index status`)")
    for row in rows:
        heading = row["heading"]
        console.print(f"[bold]{row['score']:.3f}[/] [dim]{row['kind'] or ''}[/] "
                      f"{row['title']}" + (f" / {heading}" if heading else ""), highlight=False)
        console.print(f"      {row['url']}", highlight=False)
