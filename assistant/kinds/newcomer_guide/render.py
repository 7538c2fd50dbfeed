"""The guide as Markdown, in the requested language: numbered cited steps, then issues."""

from __future__ import annotations

import re

from assistant.chains.guards import clean_line
from assistant.kinds.newcomer_guide.models import Guide, GuideOptions, GuideSource

_TEXT = {
    "en": {
        "title": "Getting started with {project}",
        "for": "Getting started with {project}: {interest}",
        "intro": "A step-by-step guide for new contributors. Each step links the page it "
                 "comes from.",
        "source": "Source",
        "issues": "Good first issues",
        "no_issues": "No open issue labelled for newcomers fits right now (open, unassigned, "
                     "updated in the last {days} days).",
        "updated": "updated",
        "no_steps": "The ingested docs cover none of the usual first steps yet.",
    },
    "zh": {
        "title": "{project} 新手入门",
        "for": "{project} 新手入门：{interest}",
        "intro": "写给新贡献者的分步指南，每一步都附有出处页面。",
        "source": "出处",
        "issues": "适合新手的 issue",
        "no_issues": "目前没有合适的新手 issue（未关闭、无人认领、最近 {days} 天内有更新）。",
        "updated": "更新于",
        "no_steps": "已导入的文档还没有覆盖常见的入门步骤。",
    },
}
_MARKUP = re.compile(r"[`*_#\[\]()<>|~\\]")


def escape(text: str) -> str:
    """Text shown literally inside Markdown (a link label, a title)."""
    return re.sub(r"([\\`*_\[\]<>|#~])", r"\\\1", text)


def display_interest(interest: str) -> str:
    """The interest as shown in the title: one line, no links, mentions or Markdown."""
    return _MARKUP.sub("", clean_line(interest, 80)).strip()


def source_link(source: GuideSource) -> str:
    label = source.title or source.path
    if source.heading and source.heading != source.title:
        label = f"{label} / {source.heading}"
    label = escape(label)
    return f"[{label}]({source.url})" if source.url else f"{label} (`{source.path}`)"


def render_markdown(guide: Guide, options: GuideOptions) -> str:
    text = _TEXT[guide.language]
    interest = display_interest(guide.interest)
    title = text["for" if interest else "title"].format(project=guide.project,
                                                        interest=interest)
    parts = [f"# {title}", text["intro"]]
    steps = []
    for n, step in enumerate(guide.steps, start=1):
        lines = [f"{n}. **{step.title}** {step.text}"]
        if step.commands:
            lines += ["", "   ```bash", *(f"   {c}" for c in step.commands), "   ```"]
        lines += ["", f"   {text['source']}: {source_link(step.source)}"]
        steps.append("\n".join(lines))
    parts.append("\n\n".join(steps) if steps else text["no_steps"])
    issues = [f"- [#{i.number} {escape(i.title)}]({i.url}) ({', '.join(i.labels)}; "
              f"{text['updated']} {i.updated_at[:10]})" for i in guide.issues]
    parts.append(f"## {text['issues']}\n\n" + ("\n".join(issues) if issues else
                 text["no_issues"].format(days=options.max_issue_age_days)))
    return "\n\n".join(parts) + "\n"
