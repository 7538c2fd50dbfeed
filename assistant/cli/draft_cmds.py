"""``devrel triage`` and ``devrel drafts``: create drafts and read the review queue."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markdown import Markdown
from rich.table import Table

from assistant.chains.triage_reply import IssueInput
from assistant.cli.common import app_context, console, progress_bar
from assistant.errors import InvalidInput
from assistant.issue_files import issue_from_json_file
from assistant.services.triage import create_triage_draft
from assistant.store.drafts import DraftRecord

drafts_app = typer.Typer(no_args_is_help=True)


def render_draft(record: DraftRecord) -> str:
    """A stored draft as Markdown for a terminal."""
    output = record.output or {}
    head = (
        f"### Draft #{record.id} · {record.kind} · {record.project} · {record.status}\n\n"
        f"*{record.title}*\n\n"
    )
    if record.error:
        return head + f"**failed:** {record.error}"
    reply = output.get("reply_markdown", "")
    foot = (
        f"\n\n---\n*{output.get('prompt')} · {record.model} · {output.get('seconds')} s"
        + (" · template fallback" if output.get("fallback") else "")
        + "*"
    )
    return head + reply + foot


def print_draft(record: DraftRecord) -> None:
    """A stored draft on the terminal, wrapped, with link targets shown."""
    console.print(Markdown(render_draft(record), hyperlinks=False), soft_wrap=False)


def triage(
    ctx: typer.Context,
    title: str = typer.Option("", "--title", help="The issue's title."),
    body: str = typer.Option("", "--body", help="The issue's body (Markdown)."),
    file: Path | None = typer.Option(None, "--file", help="A JSON file with one issue."),
    author: str | None = typer.Option(None, "--author", help="The reporter's login."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored draft as JSON."),
) -> None:
    """Draft a first reply to an issue, citing ingested docs; it waits in the review queue."""
    if file is not None:
        if title or body:
            raise InvalidInput("Give either --file or --title/--body, not both.", fix="pick one")
        issue = issue_from_json_file(file)
    else:
        issue = IssueInput(title=title, body=body, author=author)
    app = app_context(ctx)
    with progress_bar("Preparing the model", as_bytes=True) as update:
        app.chat_model(update)
    with console.status("Drafting the reply…"):
        record = create_triage_draft(app, issue, project)
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
    else:
        print_draft(record)


@drafts_app.command("list")
def list_drafts(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="e.g. pending_review"),
    kind: str | None = typer.Option(None),
    project: str | None = typer.Option(None),
    limit: int = typer.Option(20, min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Drafts, newest first."""
    records = app_context(ctx).drafts().list(
        status=status, kind=kind, project=project, limit=limit
    )
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False))
        return
    table = Table()
    for column in ("id", "kind", "project", "status", "lang", "title", "created"):
        table.add_column(column)
    for r in records:
        table.add_row(str(r.id), r.kind, r.project, r.status, r.language or "",
                      r.title[:60], r.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@drafts_app.command("show")
def show(
    ctx: typer.Context, draft_id: int, as_json: bool = typer.Option(False, "--json")
) -> None:
    """One draft with its reply and sources."""
    record = app_context(ctx).drafts().get(draft_id)
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
    else:
        print_draft(record)
