"""``devrel activity``: community activity for a period (CHAOSS metrics), a Markdown report with
PNG charts, and optionally a bilingual community update stored for review."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from assistant.cli.common import app_context, console, draft_with_progress
from assistant.kinds.community_update.report import hours_text
from assistant.services.activity import activity_report, parse_period
from assistant.store.models import DraftKind


def activity(
    ctx: typer.Context,
    since: str = typer.Option(..., "--since", help="First day of the period (YYYY-MM-DD)."),
    until: str = typer.Option(..., "--until", help="Last day of the period, included."),
    project: str | None = typer.Option(None, "--project", help="Project (default from "
                                       "settings)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for report.md and the charts "
                                    "(default: activity-<project>-<since>-<until>)."),
    unanswered_days: int = typer.Option(7, "--unanswered-days", help="List open issues without "
                                        "a first response for longer than this."),
    draft: bool = typer.Option(False, "--draft", help="Also draft a bilingual community update "
                               "and store it for review."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Community activity for a period: issues, merged PRs, time to first response,
    contributors; writes report.md and PNG charts."""
    period = parse_period(since, until, unanswered_days)
    app = app_context(ctx)
    project = project or app.settings.project
    out = out or Path(f"activity-{project}-{period.since}-{period.until}")
    result = activity_report(app, project, period.since, period.until, out,
                             period.unanswered_days)
    m = result.metrics
    if as_json:
        console.print_json(json.dumps(m.model_dump(mode="json", exclude={"buckets"})))
    else:
        table = Table(title=f"{project}: {m.since} – {m.until}", show_header=True)
        table.add_column("metric (CHAOSS)")
        table.add_column("value", justify="right")
        rm, ra = m.response_maintainer, m.response_anyone
        rows = [
            ("Issues New / Issues Closed", f"{m.issues_opened} / {m.issues_closed}"),
            ("Change Requests / Accepted", f"{m.prs_opened} / {m.prs_merged}"),
            ("Time to First Response, maintainer: median / p90",
             f"{hours_text(rm.median_hours)} / {hours_text(rm.p90_hours)} "
             f"({rm.responded}/{rm.opened})"),
            ("Time to First Response, anyone: median / p90",
             f"{hours_text(ra.median_hours)} / {hours_text(ra.p90_hours)} "
             f"({ra.responded}/{ra.opened})"),
            (f"Issues unanswered > {m.unanswered_days} days", str(len(m.unanswered))),
            (f"PRs awaiting review > {m.unanswered_days} days", str(len(m.prs_awaiting_review))),
            ("Contributors: active / new / returning",
             f"{m.contributors_active} / {len(m.new_contributors)} / "
             f"{len(m.returning_contributors)}"),
            ("Top contributors", ", ".join(c.login for c in m.top_contributors[:5]) or "–"),
        ]
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
    console.print(f"report: {result.report} (charts: "
                  f"{', '.join(p.name for p in result.charts.values())}; {result.seconds:.2f}s)",
                  highlight=False)
    if not draft:
        return
    done = draft_with_progress(app, DraftKind.COMMUNITY_UPDATE, period, project)
    output = done.output or {}
    console.print(output.get("markdown_en", ""), highlight=False, markup=False)
    console.print(output.get("markdown_zh", ""), highlight=False, markup=False)
    console.print(f"draft #{done.id} waits for review", highlight=False)
