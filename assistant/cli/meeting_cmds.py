"""``devrel meeting summarize`` / ``devrel meeting agenda``: a meeting note's decisions, action
items and open questions for review; a draft agenda for the next meeting."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.markdown import Markdown

from assistant.cli.common import app_context, console, draft_with_progress
from assistant.errors import InvalidInput
from assistant.store.models import DraftKind

MAX_FILE_BYTES = 1_000_000


def read_note(path: Path) -> str:
    """A note file as text, or a clear refusal (missing, too big, not UTF-8 text)."""
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}.", fix="give the path of a .md or .txt note")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is {path.stat().st_size:,} bytes (at most "
                           f"{MAX_FILE_BYTES:,}).", fix="one note per meeting")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.", fix="export the note as Markdown or "
                                                             "UTF-8 .txt") from None


def summarize(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The meeting note (.md or .txt)."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
    lang: str | None = typer.Option(None, "--lang", help="en or zh (default: detected)."),
    title: str | None = typer.Option(None, help="Title (default: the note's heading)."),
) -> None:
    """Summarize a meeting note (decisions, action items, open questions); waits for review."""
    if lang not in (None, "en", "zh"):
        raise InvalidInput(f"Unknown language {lang!r}.", fix="use en or zh")
    data = {"notes": read_note(file), "language": lang, "title": title}
    done = draft_with_progress(app_context(ctx), DraftKind.MEETING_SUMMARY, data, project)
    result = done.output or {}
    console.print(Markdown(result["markdown"]))
    if result.get("markdown_en"):
        console.print(Markdown(result["markdown_en"]))
    counts = result["counts"]
    console.print(f"draft #{done.id} waits for review ({counts['decisions']} decisions, "
                  f"{counts['actions']} action items, {counts['questions']} open questions; "
                  f"{counts['by_model']} placed by the model)", highlight=False)


def agenda(
    ctx: typer.Context,
    since: str | None = typer.Option(None, help="The last meeting's date, YYYY-MM-DD "
                                     "(default: 14 days ago)."),
    meeting: str | None = typer.Option(None, "--date", help="The next meeting's date "
                                       "(default: today)."),
    activity: Path | None = typer.Option(None, help="A JSON file with unanswered_issues, "
                                         "prs_waiting and releases (see AgendaInput)."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
    lang: str = typer.Option("en", "--lang", help="en or zh."),
) -> None:
    """Draft the next meeting's agenda: open action items from approved summaries, releases,
    PRs waiting for review, issues waiting for a first response."""
    from datetime import timedelta

    from pydantic import ValidationError

    from assistant.kinds.meeting_summary.agenda import AgendaInput, draft_agenda
    from assistant.services.agenda import agenda_input

    if lang not in ("en", "zh"):
        raise InvalidInput(f"Unknown language {lang!r}.", fix="use en or zh")
    try:
        day = date.fromisoformat(meeting) if meeting else date.today()
        start = date.fromisoformat(since) if since else day - timedelta(days=14)
    except ValueError:
        raise InvalidInput("Dates are YYYY-MM-DD.", fix="e.g. --since 2026-10-21") from None
    app = app_context(ctx)
    project = project or app.settings.project
    data = agenda_input(app, project, start, day)
    if activity is not None:  # figures from elsewhere (e.g. another forge) replace the history's
        try:
            extra = json.loads(read_note(activity))
            data = AgendaInput.model_validate({**data.model_dump(), **extra})
        except (json.JSONDecodeError, ValidationError) as exc:
            raise InvalidInput(f"{activity} is not agenda input: {str(exc).splitlines()[0]}",
                               fix="give unanswered_issues, prs_waiting, releases") from None
    console.print(Markdown(draft_agenda(data, language=lang).markdown))  # type: ignore[arg-type]
