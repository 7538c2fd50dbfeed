"""The activity report as Markdown: figures, charts, the waiting lists and whom to thank."""

from __future__ import annotations

from assistant.kinds.community_update.models import ActivityMetrics, ResponseStats, Waiting


def hours_text(hours: float | None) -> str:
    """``5.2 h`` under two days, ``3.1 d`` above; ``–`` when there is nothing to measure."""
    if hours is None:
        return "–"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _response_row(stats: ResponseStats) -> str:
    who = "a maintainer (OWNER/MEMBER/COLLABORATOR)" if stats.who == "maintainer" else \
        "anyone but the author"
    return (f"| Time to First Response, by {who} | median {hours_text(stats.median_hours)}, "
            f"p90 {hours_text(stats.p90_hours)} ({stats.responded} of {stats.opened} answered) |")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _waiting_table(rows: list[Waiting], empty: str) -> list[str]:
    if not rows:
        return [empty, ""]
    lines = ["| # | title | author | waiting |", "|---|---|---|---|"]
    for row in rows:
        link = f"[#{row.number}]({row.url})" if row.url else f"#{row.number}"
        lines.append(f"| {link} | {_escape(row.title)[:100]} | {row.author or '?'} | "
                     f"{row.days_waiting:.0f} d |")
    return [*lines, ""]


def render_report(metrics: ActivityMetrics, charts: dict[str, str] | None = None) -> str:
    """The Markdown report; ``charts`` maps chart name (flow, response, contributors) to the
    path to link (relative to the report)."""
    m = metrics
    charts = charts or {}
    lines = [
        f"# Community activity: {m.project}, {m.since} – {m.until}",
        "",
        f"From {m.items_total} ingested issues and pull requests"
        + (f" (history from {m.history_start:%Y-%m-%d})" if m.history_start else "")
        + f"; waiting times as of {m.as_of:%Y-%m-%d %H:%M} UTC.",
        "",
        "| metric (CHAOSS name) | value |",
        "|---|---|",
        f"| Issues New | {m.issues_opened} |",
        f"| Issues Closed | {m.issues_closed} |",
        f"| Change Requests (PRs opened) | {m.prs_opened} |",
        f"| Change Requests Accepted (PRs merged) | {m.prs_merged} |",
        f"| Change Requests Declined (closed unmerged) | {m.prs_closed_unmerged} |",
        _response_row(m.response_maintainer),
        _response_row(m.response_anyone),
        f"| Open issues without a first response for more than {m.unanswered_days} days | "
        f"{len(m.unanswered)} |",
        f"| Open PRs without a review or comment for more than {m.unanswered_days} days | "
        f"{len(m.prs_awaiting_review)} |",
        f"| Contributors (active in the period) | {m.contributors_active} |",
        f"| New Contributors | {len(m.new_contributors)} |",
        f"| Returning contributors (active before the period too) | "
        f"{len(m.returning_contributors)} |",
        f"| Inactive Contributors (active in the previous {(m.until - m.since).days + 1} days, "
        f"not in this period) | {len(m.inactive_contributors)} |",
        "",
    ]
    if m.history_start and m.history_start.date() > m.since:
        lines += [f"Note: the ingested history starts on {m.history_start:%Y-%m-%d}, inside the "
                  "period, so everyone active in it counts as a new contributor.", ""]
    captions = {
        "flow": "Issues opened and closed, PRs merged",
        "response": "Time to first response",
        "contributors": "New and returning contributors",
    }
    for name, caption in captions.items():
        if name in charts:
            lines += [f"![{caption}]({charts[name]})", ""]
    lines += [f"## Issues waiting for a first response (more than {m.unanswered_days} days)", ""]
    lines += _waiting_table(m.unanswered, "None: every open issue has had a response.")
    lines += [f"## Pull requests waiting for review (more than {m.unanswered_days} days)", ""]
    lines += _waiting_table(m.prs_awaiting_review, "None.")
    lines += ["## Contributors to thank", ""]
    if m.top_contributors:
        lines += ["| who | merged PRs | PRs | issues | comments | reviews |",
                  "|---|---|---|---|---|---|"]
        for c in m.top_contributors:
            tags = "".join(f" ({t})" for t, on in (("new", c.new), ("maintainer", c.maintainer))
                           if on)
            lines.append(f"| @{c.login}{tags} | {c.merged} | {c.prs} | {c.issues} | "
                         f"{c.comments} | {c.reviews} |")
        lines.append("")
    else:
        lines += ["Nobody contributed in the period.", ""]
    if m.new_contributors:
        lines += ["New contributors: " + ", ".join(f"@{n}" for n in m.new_contributors), ""]
    lines += [
        "## Definitions",
        "",
        "- **Issues New**, **Issues Closed** (CHAOSS): issues created / closed in the period.",
        "- **Change Requests**, **Change Requests Accepted**, **Change Requests Declined** "
        "(CHAOSS): pull requests opened / merged / closed without merging in the period.",
        "- **Time to First Response** (CHAOSS): for the issues and PRs opened in the period, "
        "time from creation to the first comment or review by a human other than the author. "
        "Bots (logins ending in `[bot]`, `-bot`, `-robot`, and known bot accounts) never count. "
        "Shown by a maintainer (GitHub author_association OWNER, MEMBER or COLLABORATOR) and by "
        "anyone; items not answered yet are counted, not timed. Median and p90 interpolate "
        "linearly between ranks.",
        "- **New Contributors** (CHAOSS): first contribution (issue, PR, comment or review) in "
        "the ingested history falls in the period; **returning**: active in the period and "
        "before it; **Inactive Contributors** (CHAOSS): active in the previous period of the "
        "same length, not in this one.",
        "- Waiting lists count open items with no response by someone other than the author "
        "(bots excluded) at the time above.",
        "",
    ]
    return "\n".join(lines)
