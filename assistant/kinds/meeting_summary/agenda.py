"""A draft agenda for the next community meeting, rendered in code from typed activity:
issues waiting for a first response, PRs waiting for review, releases since the last
meeting, and action items still open from earlier meeting summaries. No model: every line is
an input record, so nothing on the agenda can be invented."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from assistant.kinds.meeting_summary.models import ActionItem, MeetingSummary


class IssueRef(BaseModel):
    """An issue with no first response from a maintainer yet."""

    number: int
    title: str
    url: str = ""
    author: str = ""
    opened: date


class PullRef(BaseModel):
    """A pull request waiting for review (no review yet, or changes pushed since)."""

    number: int
    title: str
    url: str = ""
    author: str = ""
    opened: date
    waiting_since: date | None = None


class ReleaseRef(BaseModel):
    tag: str
    published: date
    url: str = ""


class OpenAction(BaseModel):
    """An action item from an earlier meeting's summary that nobody has closed."""

    text: str
    owner: str | None = None
    due: date | None = None
    meeting: str = Field("", description="Title or date of the meeting that set it.")
    draft_id: int | None = None


class AgendaInput(BaseModel):
    """What the next meeting's agenda is drafted from (built by the activity queries)."""

    meeting_date: date
    since: date = Field(description="The previous meeting (activity after it is new).")
    unanswered_issues: list[IssueRef] = Field(default_factory=list)
    prs_waiting: list[PullRef] = Field(default_factory=list)
    releases: list[ReleaseRef] = Field(default_factory=list)
    open_actions: list[OpenAction] = Field(default_factory=list)


class AgendaSection(BaseModel):
    key: str
    title: str
    lines: list[str]
    more: int = 0  # entries beyond the limit, counted but not listed


class Agenda(BaseModel):
    title: str
    meeting_date: date
    since: date
    language: Literal["en", "zh"]
    sections: list[AgendaSection]
    markdown: str


def open_actions_from(summaries: list[tuple[MeetingSummary, int | None]]) -> list[OpenAction]:
    """Action items of earlier summaries (with the draft id they were approved in)."""

    def due(item: ActionItem) -> date | None:
        return date.fromisoformat(item.due) if item.due else None

    return [OpenAction(text=item.en if item.en and summary.language == "zh" else item.text,
                       owner=item.owner, due=due(item),
                       meeting=summary.date or summary.title, draft_id=draft_id)
            for summary, draft_id in summaries for item in summary.actions]


_TEXT = {
    "en": {"title": "Community meeting {date}: draft agenda",
           "intro": "Drafted from activity since {since}; edit before sending.",
           "actions": "Open action items from earlier meetings",
           "releases": "Releases since the last meeting",
           "prs": "Pull requests waiting for review", "issues": "Issues waiting for a first "
           "response", "other": "Other business", "more": "… and {n} more",
           "days": "{n} days", "overdue": "overdue", "due": "due", "none": "Nothing.",
           "by": "by"},
    "zh": {"title": "社区例会 {date}：议程草稿",
           "intro": "根据 {since} 以来的社区动态草拟，发送前请修改。",
           "actions": "往次会议未完成的行动项", "releases": "上次会议以来的发布",
           "prs": "等待 review 的 PR", "issues": "等待首次回复的 issue", "other": "其他事项",
           "more": "……另有 {n} 项", "days": "{n} 天", "overdue": "已逾期", "due": "截止",
           "none": "无。", "by": "作者"},
}


def draft_agenda(data: AgendaInput, *, language: Literal["en", "zh"] = "en",
                 limit: int = 10, title: str | None = None) -> Agenda:
    """The agenda: open actions (overdue first), releases, PRs and issues (longest waiting
    first), each list cut at ``limit`` with the rest counted."""
    t = _TEXT[language]
    today = data.meeting_date

    def ref(number: int, text: str, url: str) -> str:
        return f"[#{number}]({url}) {text}" if url else f"#{number} {text}"

    def waited(since: date) -> str:
        return t["days"].format(n=(today - since).days)

    sections: list[AgendaSection] = []

    def add(key: str, lines: list[str]) -> None:
        sections.append(AgendaSection(key=key, title=t[key], lines=lines[:limit],
                                      more=max(0, len(lines) - limit)))

    actions = sorted(data.open_actions, key=lambda a: (a.due is None, a.due or today))
    add("actions", [
        f"{a.text}" + (f" — {a.owner}" if a.owner else "")
        + (f" ({t['overdue'] if a.due < today else t['due']} {a.due.isoformat()})"
           if a.due else "") + (f" [{a.meeting}]" if a.meeting else "") for a in actions])
    releases = sorted((r for r in data.releases if r.published >= data.since),
                      key=lambda r: r.published)
    add("releases", [(f"[{r.tag}]({r.url})" if r.url else r.tag)
                     + f" ({r.published.isoformat()})" for r in releases])
    prs = sorted(data.prs_waiting, key=lambda p: p.waiting_since or p.opened)
    add("prs", [ref(p.number, p.title, p.url) + (f" ({t['by']} @{p.author}" if p.author else " (")
                + f"{', ' if p.author else ''}{waited(p.waiting_since or p.opened)})"
                for p in prs])
    issues = sorted(data.unanswered_issues, key=lambda i: i.opened)
    add("issues", [ref(i.number, i.title, i.url) + (f" ({t['by']} @{i.author}" if i.author
                                                     else " (")
                   + f"{', ' if i.author else ''}{waited(i.opened)})" for i in issues])
    heading = title or t["title"].format(date=today.isoformat())
    out = [f"# {heading}", "", t["intro"].format(since=data.since.isoformat()), ""]
    for n, section in enumerate(sections, start=1):
        out += [f"## {n}. {section.title}", ""]
        out += [f"- {line}" for line in section.lines] or [t["none"]]
        if section.more:
            out.append(f"- {t['more'].format(n=section.more)}")
        out.append("")
    out += [f"## {len(sections) + 1}. {t['other']}", "", "- ", ""]
    return Agenda(title=heading, meeting_date=today, since=data.since, language=language,
                  sections=sections, markdown="\n".join(out))
