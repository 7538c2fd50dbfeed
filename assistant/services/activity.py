"""Community activity as a service: figures from the ingested issue/PR history (CHAOSS
definitions, see ``assistant/activity/metrics.py``), a Markdown report with PNG charts, the
waiting lists a meeting agenda needs, and a bilingual community update for review."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.activity.charts import write_charts
from assistant.activity.metrics import (
    compute_metrics,
    prs_waiting_for_review,
    waiting_for_first_response,
)
from assistant.activity.models import ActivityMetrics, Event, Item, Period, Waiting
from assistant.activity.report import render_report
from assistant.activity.update import (
    allowed_numbers,
    check_intro,
    facts,
    fallback_intro,
    render_update,
)
from assistant.chains.generate import Usage, generate
from assistant.context import AppContext
from assistant.errors import InvalidInput
from assistant.language import LANGUAGE_NAMES
from assistant.prompting import load_prompt
from assistant.providers.chat import chat_model_name
from assistant.providers.model_files import Progress
from assistant.services.drafting import DraftResult
from assistant.store.activity import ActivityStore
from assistant.store.drafts import DraftContent

KIND = "community_update"  # DraftKind.COMMUNITY_UPDATE once it is added


class ActivityInput(BaseModel):
    """A period of activity (days included, UTC)."""

    since: date = Field(description="First day of the period (YYYY-MM-DD).")
    until: date = Field(description="Last day of the period, included.")
    unanswered_days: int = Field(7, ge=0, le=3650, description="An open issue without a first "
                                 "response for longer than this is listed as unanswered.")

    @model_validator(mode="after")
    def _ordered(self) -> ActivityInput:
        if self.until < self.since:
            raise ValueError(f"until ({self.until}) is before since ({self.since})")
        return self


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
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"Invalid period{' ' + where if where else ''}: {message}.",
                           fix="give --since and --until as YYYY-MM-DD, since on or before "
                               "until") from None


def _store(ctx: AppContext) -> ActivityStore:
    return ActivityStore(ctx.drafts().engine)


def load_items(ctx: AppContext, project: str) -> list[Item]:
    """A project's issue/PR history from the activity tables; an unknown or empty project is
    refused with the fix."""
    rows = _store(ctx).items(project)
    if not rows:
        known = project in ctx.settings.projects or project == ctx.settings.project
        if not known:
            raise InvalidInput(f"Unknown project {project!r}: it is not configured and has no "
                               "ingested issues or PRs.",
                               fix="check the name, or ingest its issues with `devrel ingest "
                                   f"issues FILE… --project {project}`")
        raise InvalidInput(f"Project {project!r} has no issue or PR history yet (issues ingested "
                           "before activity tracking are not in it).",
                           fix=f"run `devrel ingest issues FILE… --project {project}` or `devrel "
                               "ingest issues --github OWNER/REPO` (re-ingesting is safe)")
    items = []
    for row, events in rows:
        if row.created_at is None:
            continue
        items.append(Item(
            number=row.number, kind=row.kind, title=row.title, created_at=row.created_at,
            author=row.author, association=row.author_association, url=row.url,
            state=row.state, closed_at=row.closed_at, merged_at=row.merged_at,
            assignees=tuple(row.assignees or ()), labels=tuple(row.labels or ()),
            events=tuple(Event(e.author, e.author_association, e.created_at, e.kind)
                         for e in events if e.created_at is not None)))
    return items


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


# --- the community update draft ----------------------------------------------------------------

def update_title(request: ActivityInput) -> str:
    return f"Community update {request.since} – {request.until}"


def draft_community_update(ctx: AppContext, data: dict[str, Any], project: str,
                           progress: Progress | None = None) -> DraftResult:
    """A short community update in English and Chinese: figures and thanks placed by code, the
    opening sentence phrased by the model (checked: no number that is not in the figures),
    or a template when the model's fails twice."""
    request = parse_period(data.get("since", ""), data.get("until", ""),
                           data.get("unanswered_days", 7))
    metrics = compute_metrics(load_items(ctx, project), project, request.since, request.until,
                              unanswered_days=request.unanswered_days)
    prompt = load_prompt(KIND, ctx.settings.prompt_versions.get(KIND))
    chat = ctx.chat_model()
    usage = Usage()
    allowed = allowed_numbers(metrics)
    fact_text = "\n".join(facts(metrics))
    texts: dict[str, str] = {}
    from_model: dict[str, bool] = {}
    rejected: dict[str, list[str]] = {}
    for step, language in enumerate(("en", "zh")):
        if progress:
            progress(step, 2)
        messages = prompt.render(project=project, language_name=LANGUAGE_NAMES[language],
                                 facts=fact_text)
        generation = generate(chat, messages, settings=ctx.settings, max_tokens=prompt.max_tokens,
                              check=lambda text, lang=language: check_intro(text, allowed, lang),
                              usage=usage)
        from_model[language] = generation.text is not None
        rejected[language] = generation.problems
        texts[language] = render_update(
            metrics, generation.text or fallback_intro(metrics, language), language)
    if progress:
        progress(2, 2)
    output = {"metrics": metrics.model_dump(mode="json"), "markdown_en": texts["en"],
              "markdown_zh": texts["zh"], "intro_from_model": from_model,
              "intro_problems": rejected, "usage": usage.model_dump()}
    return DraftResult(
        output=output, sources=[], content=DraftContent(text=texts["en"], translation=texts["zh"]),
        prompt_name=prompt.name, prompt_version=prompt.version, model=chat_model_name(chat),
        confidence=round(sum(from_model.values()) / 2, 3), language="en")
