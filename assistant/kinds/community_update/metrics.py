"""Activity metrics as pure functions over issue/PR history, after the CHAOSS definitions.

- Issues New / Issues Closed (CHAOSS): issues whose ``created_at`` / ``closed_at`` is in the period.
- Change Requests (opened) and Change Requests Accepted (CHAOSS): PRs opened / merged in the
  period (merged = ``merged_at`` set; a closed PR without it counts as closed unmerged).
- Time to First Response (CHAOSS): for each issue and PR opened in the period, the time from its
  creation to the first comment or review by a human other than its author; bots never count.
  Reported twice: by anyone, and by a maintainer (author_association OWNER, MEMBER or
  COLLABORATOR). Items still without a response are counted, not timed. Median and p90 use
  linear interpolation between closest ranks (numpy's default).
- New Contributors (CHAOSS): people whose first contribution in the ingested history is in the
  period; returning contributors were active in the period and had contributed before it;
  Inactive Contributors (CHAOSS): active in the previous period of the same length, not in this
  one. A contribution is opening an issue or PR, commenting or reviewing; bots are excluded.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from assistant.kinds.community_update.models import (
    MAINTAINER_ASSOCIATIONS,
    ActivityMetrics,
    Bucket,
    Contributor,
    Event,
    Item,
    Period,
    ResponseStats,
    Waiting,
)

# Bots that post as ordinary users (GitHub Apps end in "[bot]"; gh shows them as "app/name").
KNOWN_BOTS = frozenset({
    "dependabot", "dependabot-preview", "renovate", "renovate-bot", "github-actions",
    "codecov", "codecov-io", "codecov-commenter", "coveralls", "netlify", "vercel",
    "stale", "allcontributors", "pre-commit-ci", "mergify", "sonarcloud", "k8s-ci-robot",
    "k8s-triage-robot", "googlebot", "google-cla", "cla-bot", "claassistant", "cla-assistant",
    "copilot", "imgbot", "snyk-bot", "greenkeeper", "welcome", "probot", "kodiakhq",
    "changeset-bot", "linux-foundation-easycla", "apisix-bot", "ti-chi-bot", "tidb-bot",
})
_BOT_NAME = re.compile(r"(?i)(\[bot\]$|^app/|[-_]bot$|[-_]robot$|^bot[-_])")


def is_bot(login: str) -> bool:
    """A login ending in ``[bot]``, ``-bot`` or ``-robot``, shown as ``app/…``, or a known bot."""
    name = (login or "").strip()
    return bool(name) and (bool(_BOT_NAME.search(name)) or name.lower() in KNOWN_BOTS)


def is_maintainer(association: str) -> bool:
    """OWNER, MEMBER or COLLABORATOR: GitHub's author_association for people of the project."""
    return (association or "").upper() in MAINTAINER_ASSOCIATIONS


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-quantile (0…1) by linear interpolation between closest ranks; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def first_response(item: Item, *, maintainer: bool = False) -> Event | None:
    """The first comment or review by a human other than the author (a maintainer if asked)."""
    for event in sorted(item.events, key=lambda e: e.at):
        if event.at < item.created_at or not event.author or event.author == item.author:
            continue
        if is_bot(event.author) or (maintainer and not is_maintainer(event.association)):
            continue
        return event
    return None


def response_stats(items: Iterable[Item], period: Period, *, maintainer: bool) -> ResponseStats:
    """CHAOSS Time to First Response for the issues and PRs opened in the period."""
    opened = [i for i in items if period.contains(i.created_at) and not is_bot(i.author)]
    hours = []
    for item in opened:
        response = first_response(item, maintainer=maintainer)
        if response is not None:
            hours.append(round((response.at - item.created_at).total_seconds() / 3600, 2))
    hours.sort()
    median, p90 = percentile(hours, 0.5), percentile(hours, 0.9)
    return ResponseStats(
        who="maintainer" if maintainer else "anyone", opened=len(opened), responded=len(hours),
        median_hours=None if median is None else round(median, 2),
        p90_hours=None if p90 is None else round(p90, 2), hours=hours)


def _open_at(item: Item, when: datetime) -> bool:
    closed = item.closed_at or item.merged_at
    if closed is None and item.state in ("closed", "merged"):
        return False  # closed at an unknown time: not waiting
    return item.created_at < when and (closed is None or closed >= when)


def _waiting(item: Item, as_of: datetime) -> Waiting:
    return Waiting(number=item.number, kind="pull_request" if item.is_pr else "issue",
                   title=item.title, url=item.url, author=item.author,
                   created_at=item.created_at,
                   days_waiting=round((as_of - item.created_at).total_seconds() / 86400, 1))


def waiting_for_first_response(
    items: Iterable[Item], as_of: datetime, *, since: datetime | None = None,
    min_days: float = 0, maintainer: bool = False,
) -> list[Waiting]:
    """Open issues (opened at or after ``since``) with no response by a human other than the
    author by ``as_of``, waiting more than ``min_days``; longest wait first."""
    return _unanswered(items, as_of, pulls=False, since=since, min_days=min_days,
                       maintainer=maintainer)


def prs_waiting_for_review(
    items: Iterable[Item], as_of: datetime, *, since: datetime | None = None,
    min_days: float = 0,
) -> list[Waiting]:
    """Open PRs (opened at or after ``since``) that no human other than the author has reviewed
    or commented on by ``as_of``, waiting more than ``min_days``; longest wait first."""
    return _unanswered(items, as_of, pulls=True, since=since, min_days=min_days)


def _unanswered(items: Iterable[Item], as_of: datetime, *, pulls: bool, since: datetime | None,
                min_days: float, maintainer: bool = False) -> list[Waiting]:
    """Open issues (or PRs) by humans without a first response by ``as_of``."""
    found = []
    for item in items:
        if item.is_pr != pulls or is_bot(item.author) or not _open_at(item, as_of):
            continue
        if since is not None and item.created_at < since:
            continue
        response = first_response(item, maintainer=maintainer)
        if response is not None and response.at < as_of:
            continue
        waiting = _waiting(item, as_of)
        if waiting.days_waiting > min_days:
            found.append(waiting)
    return sorted(found, key=lambda w: (-w.days_waiting, w.number))


def contributions(items: Iterable[Item]) -> list[tuple[str, datetime, str, str]]:
    """Every (login, when, what, association) contribution: issue, pr, comment, review; no bots."""
    found = []
    for item in items:
        if item.author and not is_bot(item.author):
            found.append((item.author, item.created_at, "pr" if item.is_pr else "issue",
                          item.association))
        for event in item.events:
            if event.author and not is_bot(event.author):
                found.append((event.author, event.at, event.kind, event.association))
    return found


def _bucket_start(day: date, unit: str) -> date:
    return day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)


def _bucket_starts(period: Period, unit: str) -> list[date]:
    starts, current = [], _bucket_start(period.since, unit)
    while current <= period.until:
        starts.append(current)
        current = current + timedelta(days=7) if unit == "week" else (
            current.replace(year=current.year + 1, month=1) if current.month == 12
            else current.replace(month=current.month + 1))
    return starts


def compute_metrics(
    items: list[Item], project: str, since: date, until: date, *, unanswered_days: int = 7,
    as_of: datetime | None = None, top: int = 10,
) -> ActivityMetrics:
    """Every figure of the activity report for ``since`` … ``until`` (days included, UTC).

    ``as_of`` (default: the end of the period, or now if that is later than now) is when open
    issues' waiting times are measured.
    """
    period = Period(since, until)
    as_of = as_of or min(period.end, datetime.now(UTC))
    issues = [i for i in items if not i.is_pr]
    prs = [i for i in items if i.is_pr]
    unit = "week" if period.days <= 120 else "month"
    buckets = {start: Bucket(start=start) for start in _bucket_starts(period, unit)}

    def bucket(when: datetime) -> Bucket:
        return buckets[_bucket_start(when.date(), unit)]

    for issue in issues:
        if period.contains(issue.created_at):
            bucket(issue.created_at).issues_opened += 1
        if period.contains(issue.closed_at):
            bucket(issue.closed_at).issues_closed += 1  # type: ignore[arg-type]
    for pr in prs:
        if period.contains(pr.created_at):
            bucket(pr.created_at).prs_opened += 1
        if period.contains(pr.merged_at):
            bucket(pr.merged_at).prs_merged += 1  # type: ignore[arg-type]

    done = contributions(items)
    first_seen: dict[str, datetime] = {}
    maintainers: set[str] = set()
    for login, when, _what, association in done:
        if login not in first_seen or when < first_seen[login]:
            first_seen[login] = when
        if is_maintainer(association):
            maintainers.add(login)
    in_period = [c for c in done if period.contains(c[1])]
    active = {c[0] for c in in_period}
    before = period.previous()
    active_before = {c[0] for c in done if before.contains(c[1])}
    new = sorted(login for login in active if period.contains(first_seen[login]))
    returning = sorted(active - set(new))
    first_in_bucket: dict[tuple[date, str], None] = {}
    for login, when, _what, _a in sorted(in_period, key=lambda c: c[1]):
        first_in_bucket.setdefault((_bucket_start(when.date(), unit), login), None)
    for start, login in first_in_bucket:
        if login in new:
            buckets[start].new_contributors += 1
        else:
            buckets[start].returning_contributors += 1

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for login, _when, what, _a in in_period:
        counts[login][what] += 1
    for pr in prs:
        if period.contains(pr.merged_at) and pr.author and not is_bot(pr.author):
            counts[pr.author]["merged"] += 1
    people = [Contributor(login=login, maintainer=login in maintainers, new=login in new,
                          issues=c["issue"], prs=c["pr"], merged=c["merged"],
                          comments=c["comment"], reviews=c["review"])
              for login, c in counts.items()]
    people.sort(key=lambda p: (-p.merged, -p.total, p.login))

    return ActivityMetrics(
        project=project, since=since, until=until, as_of=as_of,
        history_start=min((i.created_at for i in items), default=None),
        items_total=len(items),
        issues_opened=sum(period.contains(i.created_at) for i in issues),
        issues_closed=sum(period.contains(i.closed_at) for i in issues),
        prs_opened=sum(period.contains(p.created_at) for p in prs),
        prs_merged=sum(period.contains(p.merged_at) for p in prs),
        prs_closed_unmerged=sum(period.contains(p.closed_at) and p.merged_at is None
                                for p in prs),
        open_issues_at_end=sum(_open_at(i, period.end) for i in issues),
        response_anyone=response_stats(items, period, maintainer=False),
        response_maintainer=response_stats(items, period, maintainer=True),
        unanswered_days=unanswered_days,
        unanswered=waiting_for_first_response(items, as_of, min_days=unanswered_days),
        prs_awaiting_review=prs_waiting_for_review(items, as_of, min_days=unanswered_days),
        contributors_active=len(active), new_contributors=new, returning_contributors=returning,
        maintainers_active=sorted(active & maintainers),
        inactive_contributors=sorted(active_before - active),
        top_contributors=people[:top], bucket=unit, buckets=list(buckets.values()),
    )
