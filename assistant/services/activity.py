"""Community activity as a service: figures from the ingested issue/PR history (CHAOSS
definitions, see ``assistant/kinds/community_update/metrics.py``), a Markdown report with PNG
charts, and the waiting lists a meeting agenda needs. The community update draft is the
``community_update`` kind."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from assistant.context import AppContext
from assistant.errors import InvalidInput
from assistant.kinds.community_update.charts import write_charts
from assistant.kinds.community_update.history import load_items
from assistant.kinds.community_update.kind import ActivityInput
from assistant.kinds.community_update.metrics import (
    compute_metrics,
    prs_waiting_for_review,
    waiting_for_first_response,
)
from assistant.kinds.community_update.models import ActivityMetrics, Period, Waiting
from assistant.kinds.community_update.report import render_report


class ActivityReport(BaseModel):
    """What ``activity_report`` wrote and computed."""

    metrics: ActivityMetrics
    report: Path
    charts: dict[str, Path]
    seconds: float


def parse_period(since: str | date, until: str | date, unanswered_days: int = 7) -> ActivityInput:
    """The period from user input, or an InvalidInput naming the fix."""
    try:
        return ActivityInput.model_validate(
            {"since": since, "until": until, "unanswered_days": unanswered_days})
    except ValidationError as exc:
        raise InvalidInput.from_validation("period", exc, "give --since and --until as "
                                           "YYYY-MM-DD, since on or before until") from None


def compute_activity(ctx: AppContext, project: str, since: str | date, until: str | date,
                     unanswered_days: int = 7, as_of: datetime | None = None) -> ActivityMetrics:
    """The figures for a period (no files written)."""
    period = parse_period(since, until, unanswered_days)
    return compute_metrics(load_items(ctx, project), project, period.since, period.until,
                           unanswered_days=period.unanswered_days, as_of=as_of)


def activity_report(ctx: AppContext, project: str, since: str | date, until: str | date,
                    out_dir: Path, unanswered_days: int = 7, *,
                    as_of: datetime | None = None) -> ActivityReport:
    """Write ``report.md`` and the PNG charts into ``out_dir``; return what was computed."""
    started = time.perf_counter()
    metrics = compute_activity(ctx, project, since, until, unanswered_days, as_of)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"Cannot create {out_dir}: {exc.strerror}.",
                           fix="pass a writable --out folder") from None
    charts = write_charts(metrics, out_dir)
    report = out_dir / "report.md"
    report.write_text(render_report(metrics, {k: p.name for k, p in charts.items()}),
                      encoding="utf-8")
    return ActivityReport(metrics=metrics, report=report, charts=charts,
                          seconds=round(time.perf_counter() - started, 3))


# --- for a meeting agenda ----------------------------------------------------------------------

def _as_datetime(day: str | date | datetime | None, end: bool = False) -> datetime | None:
    if day is None:
        return None
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    checked = parse_period(day, day)
    period = Period(checked.since, checked.until)
    return period.end if end else period.start


def issues_awaiting_response(ctx: AppContext, project: str, *, since: str | date | None = None,
                             as_of: datetime | None = None,
                             min_days: float = 0) -> list[Waiting]:
    """Open issues opened since ``since`` with no response yet by a human other than the author
    (bots excluded), longest wait first: number, title, url, days waiting."""
    return waiting_for_first_response(load_items(ctx, project), as_of or datetime.now(UTC),
                                      since=_as_datetime(since), min_days=min_days)


def prs_awaiting_review(ctx: AppContext, project: str, *, since: str | date | None = None,
                        as_of: datetime | None = None, min_days: float = 0) -> list[Waiting]:
    """Open PRs opened since ``since`` that nobody but the author has reviewed or commented on
    (bots excluded), longest wait first."""
    return prs_waiting_for_review(load_items(ctx, project), as_of or datetime.now(UTC),
                                  since=_as_datetime(since), min_days=min_days)
