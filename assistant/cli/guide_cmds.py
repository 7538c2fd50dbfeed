"""``devrel guide``: a step-by-step newcomer guide with good-first issues, stored for review."""

from __future__ import annotations

import typer
from rich.markdown import Markdown

from assistant.cli.common import app_context, console, draft_with_progress
from assistant.errors import InvalidInput
from assistant.store.models import DraftKind


def guide(
    ctx: typer.Context,
    interest: str = typer.Option("", "--interest", help="What the newcomer wants to work on "
                                 "(e.g. docs, storage, CI)."),
    lang: str = typer.Option("en", "--lang", help="en or zh (Simplified Chinese)."),
    project: str | None = typer.Option(None, help="Project (default from settings)."),
) -> None:
    """Draft a newcomer guide: cited steps from the docs, then good-first issues that fit."""
    app = app_context(ctx)
    project = project or app.settings.project
    if lang not in ("en", "zh"):
        raise InvalidInput(f"Unknown language {lang!r}.", fix="use --lang en or --lang zh")
    if len(interest) > 500:
        raise InvalidInput("The interest is longer than 500 characters.",
                           fix="say it in a few words, e.g. --interest storage")
    done = draft_with_progress(app, DraftKind.NEWCOMER_GUIDE,
                               {"interest": interest, "language": lang}, project)
    result = done.output or {}
    console.print(Markdown(result.get("markdown", "")))
    for step in result.get("left_out", []):
        console.print(f"left out: {step['title']} ({step['reason']})", highlight=False)
    steps = result.get("steps", [])
    written = sum(step["origin"] == "model" for step in steps)
    console.print(f"draft #{done.id} waits for review ({len(steps)} steps, {written} phrased by "
                  f"the model, {len(result.get('issues', []))} issues)", highlight=False)
