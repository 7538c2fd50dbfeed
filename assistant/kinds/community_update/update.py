"""The bilingual "community update": every figure placed by code; the model may only phrase the
opening sentence(s), and a sentence with a number not in the facts is refused."""

from __future__ import annotations

import re

from assistant.chains.generate import Checked
from assistant.chains.guards import problems
from assistant.kinds.community_update.models import ActivityMetrics, Contributor
from assistant.kinds.community_update.report import hours_text

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_FORBIDDEN = re.compile(r"https?://|www\.|@\w|#\d|\[\d+\]|^\s*[-*#>]", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|[。！？]+")  # not the point in "9.8 h"


def _zh_hours(hours: float | None) -> str:
    if hours is None:
        return "–"
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


def thanked(metrics: ActivityMetrics, n: int = 3) -> list[Contributor]:
    """Whom the update thanks: the top contributors who are not maintainers (else anyone)."""
    community = [c for c in metrics.top_contributors if not c.maintainer]
    return (community or metrics.top_contributors)[:n]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def welcomed(metrics: ActivityMetrics) -> list[str]:
    """New contributors to welcome by name: not the maintainers (new only to the history)."""
    return [n for n in metrics.new_contributors if n not in metrics.maintainers_active]


def facts(metrics: ActivityMetrics) -> list[str]:
    """The figures the model may mention, one per line (English; numbers as in the update)."""
    m = metrics
    lines = [f"Period: {m.since} to {m.until}.",
             f"New issues: {m.issues_opened}; issues closed: {m.issues_closed}.",
             f"Pull requests opened: {m.prs_opened}; merged: {m.prs_merged}."]
    if m.response_maintainer.median_hours is not None:
        lines.append(f"Median time to a first maintainer response: "
                     f"{hours_text(m.response_maintainer.median_hours)}.")
    lines.append(f"New contributors: {len(m.new_contributors)}; active contributors: "
                 f"{m.contributors_active}.")
    return lines


def allowed_numbers(metrics: ActivityMetrics) -> set[str]:
    """Every number the facts and the update hold, as written."""
    text = "\n".join([*facts(metrics), render_update(metrics, "", "en"),
                      render_update(metrics, "", "zh")])
    return set(NUMBER.findall(text))


def check_intro(text: str, allowed: set[str], language: str) -> Checked:
    """The model's opening: one or two sentences, right language, no invented numbers, no
    links, mentions or lists."""
    cleaned = " ".join(text.replace("<facts>", " ").replace("</facts>", " ").split()).strip(
        " \"'“”")
    found = problems(cleaned, language, max_chars=300 if language == "en" else 160)
    invented = sorted(set(NUMBER.findall(cleaned)) - allowed)
    if invented:
        found.append(f"numbers not in the facts: {', '.join(invented)}")
    if _FORBIDDEN.search(cleaned):
        found.append("a link, mention, issue number or list")
    if len([s for s in _SENTENCE_END.split(cleaned) if s.strip()]) > 2:
        found.append("more than two sentences")
    return Checked(text=cleaned, problems=found)


def fallback_intro(metrics: ActivityMetrics, language: str) -> str:
    """The template opening when the model's fails its checks."""
    if language == "zh":
        return (f"感谢每一位参与者！以下是 {metrics.project} 社区在 {metrics.since} 至 "
                f"{metrics.until} 期间的动态。")
    return (f"Thank you to everyone who took part! Here is what happened in the "
            f"{metrics.project} community from {metrics.since} to {metrics.until}.")


def render_update(metrics: ActivityMetrics, intro: str, language: str) -> str:
    """The update in one language: the opening, then the figures and thanks, placed by code."""
    m = metrics
    people = thanked(m)
    new = welcomed(m)
    if language == "zh":
        lines = [f"## {m.project} 社区动态（{m.since} 至 {m.until}）", "", intro, "",
                 f"- 新建 issue {m.issues_opened} 个，关闭 {m.issues_closed} 个",
                 f"- 合并 PR {m.prs_merged} 个（新开 {m.prs_opened} 个）"]
        if m.response_maintainer.median_hours is not None:
            response = m.response_maintainer
            lines.append(f"- 维护者首次回复时间：中位数 {_zh_hours(response.median_hours)}"
                         f"，p90 {_zh_hours(response.p90_hours)}")
        if m.unanswered:
            lines.append(f"- 有 {len(m.unanswered)} 个 issue 超过 {m.unanswered_days} 天"
                         "尚未得到回复，欢迎大家帮忙看看")
        lines.append(f"- 新贡献者 {len(m.new_contributors)} 位" + (
            "：" + "、".join(f"@{n}" for n in new[:10]) + "，欢迎加入！" if new else ""))
        if people:
            lines += ["", "特别感谢 " + "、".join(f"@{c.login}" for c in people) + " 的贡献！"]
        return "\n".join(lines).strip() + "\n"
    lines = [f"## {m.project} community update ({m.since} – {m.until})", "", intro, "",
             f"- {_plural(m.issues_opened, 'new issue')}, {m.issues_closed} closed",
             f"- {_plural(m.prs_merged, 'pull request')} merged ({m.prs_opened} opened)"]
    if m.response_maintainer.median_hours is not None:
        lines.append(f"- First response from a maintainer: median "
                     f"{hours_text(m.response_maintainer.median_hours)}, p90 "
                     f"{hours_text(m.response_maintainer.p90_hours)}")
    if m.unanswered:
        lines.append(f"- {_plural(len(m.unanswered), 'issue')} waited more than "
                     f"{m.unanswered_days} days for a first response: help is welcome")
    lines.append(f"- {_plural(len(m.new_contributors), 'new contributor')}" + (
        ": " + ", ".join(f"@{n}" for n in new[:10]) + ", welcome!" if new else ""))
    if people:
        lines += ["", "Special thanks to " + ", ".join(f"@{c.login}" for c in people) + "!"]
    return "\n".join(lines).strip() + "\n"
