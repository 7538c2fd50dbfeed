"""Typed records for activity metrics: issue/PR history in, figures out.

Inputs are plain frozen dataclasses (built from the activity tables, or by hand in tests);
outputs are pydantic models, so a report is JSON for the API and for a draft's input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, Field

# GitHub's author_association values that mean "speaks for the project".
MAINTAINER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


@dataclass(frozen=True)
class Event:
    """A comment on, or a review of, an issue or PR."""

    author: str
    association: str
    at: datetime
    kind: str = "comment"  # comment | review


@dataclass(frozen=True)
class Item:
    """An issue or pull request with its history."""

    number: int
    kind: str  # issue | pull_request
    title: str
    created_at: datetime
    author: str = ""
    association: str = ""
    url: str = ""
    state: str = "open"
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    assignees: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    events: tuple[Event, ...] = field(default_factory=tuple)

    @property
    def is_pr(self) -> bool:
        return self.kind == "pull_request"


@dataclass(frozen=True)
class Period:
    """Calendar days ``since`` … ``until``, both included, in UTC."""

    since: date
    until: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def contains(self, when: datetime | None) -> bool:
        return when is not None and self.start <= when < self.end

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.since - timedelta(days=self.days), self.since - timedelta(days=1))


class ResponseStats(BaseModel):
    """CHAOSS Time to First Response over the issues and PRs opened in a period."""

    who: Literal["anyone", "maintainer"] = Field(
        description="anyone: any human other than the author; maintainer: also OWNER, MEMBER or "
        "COLLABORATOR.")
    opened: int = Field(description="Issues and PRs opened in the period.")
    responded: int = Field(description="Of those, how many have had such a response.")
    median_hours: float | None = None
    p90_hours: float | None = None
    hours: list[float] = Field(default_factory=list, description="Each response time, sorted.")


class Waiting(BaseModel):
    """An issue waiting for a first response, or a PR waiting for a review."""

    number: int
    kind: Literal["issue", "pull_request"]
    title: str
    url: str
    author: str
    created_at: datetime
    days_waiting: float


class Contributor(BaseModel):
    """What one person did in a period (bots excluded)."""

    login: str
    maintainer: bool = Field(description="Acted as OWNER, MEMBER or COLLABORATOR in the data.")
    new: bool = Field(description="First contribution in the ingested history is in the period.")
    issues: int = 0
    prs: int = 0
    merged: int = 0
    comments: int = 0
    reviews: int = 0

    @property
    def total(self) -> int:
        return self.issues + self.prs + self.comments + self.reviews


class Bucket(BaseModel):
    """Counts in one week or month of the period (for the charts)."""

    start: date
    issues_opened: int = 0
    issues_closed: int = 0
    prs_opened: int = 0
    prs_merged: int = 0
    new_contributors: int = 0
    returning_contributors: int = 0


class ActivityMetrics(BaseModel):
    """Everything an activity report shows, computed in code from issue/PR history."""

    project: str
    since: date
    until: date
    as_of: datetime = Field(description="Waiting times are measured up to this instant.")
    history_start: datetime | None = Field(
        None, description="The oldest issue/PR ingested: \"new\" is relative to it.")
    items_total: int = 0
    issues_opened: int = 0
    issues_closed: int = 0
    prs_opened: int = 0
    prs_merged: int = 0
    prs_closed_unmerged: int = 0
    open_issues_at_end: int = 0
    response_anyone: ResponseStats
    response_maintainer: ResponseStats
    unanswered_days: int
    unanswered: list[Waiting] = Field(default_factory=list)
    prs_awaiting_review: list[Waiting] = Field(default_factory=list)
    contributors_active: int = 0
    new_contributors: list[str] = Field(default_factory=list)
    returning_contributors: list[str] = Field(default_factory=list)
    maintainers_active: list[str] = Field(
        default_factory=list, description="Active people who acted as OWNER, MEMBER or "
        "COLLABORATOR somewhere in the data.")
    inactive_contributors: list[str] = Field(
        default_factory=list, description="Active in the previous period of the same length, "
        "not in this one.")
    top_contributors: list[Contributor] = Field(default_factory=list)
    bucket: Literal["week", "month"] = "week"
    buckets: list[Bucket] = Field(default_factory=list)
