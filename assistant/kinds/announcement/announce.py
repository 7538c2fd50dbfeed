"""Announcements from approved release notes: a blog post, a short social post and a mailing-list
mail, each in English and Chinese. Assembled in code from the notes' checked lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from assistant.kinds.release_notes.classify import BOT
from assistant.kinds.release_notes.models import Item, ReleaseNotes

Channel = Literal["blog", "social", "mail"]
CHANNELS: tuple[Channel, ...] = ("blog", "social", "mail")
SOCIAL_EN_MAX = 280
SOCIAL_ZH_MAX = 140


def highlights(notes: ReleaseNotes, limit: int = 3) -> list[Item]:
    """Breaking changes first, then features, then performance and fixes."""
    order = ["breaking", "features", "performance", "fixes"]
    ranked = sorted((i for i in notes.items if i.section in order),
                    key=lambda i: order.index(i.section))
    return ranked[:limit]


def _text(item: Item, zh: bool) -> str:
    text = (item.zh if zh else item.en) or item.source_text
    return f"{item.scope}: {text}" if item.scope else text


def _counts(notes: ReleaseNotes, zh: bool) -> str:
    changes = sum(len(i.changes) for i in notes.items)
    people = len(notes.credits.contributors)
    if zh:
        return f"共 {changes} 项变更，感谢 {people} 位贡献者" if people else f"共 {changes} 项变更"
    thanks = f" from {people} contributor{'s' * (people != 1)}" if people else ""
    return f"{changes} change{'s' * (changes != 1)}{thanks}"


def _handle(name: str) -> str:
    return f"@{name}" if name.replace("-", "").isalnum() and not BOT.search(name) else name


def blog(notes: ReleaseNotes, full_en: str, full_zh: str, url: str | None,
         date: str | None = None) -> tuple[str, str]:
    """Markdown with front matter: highlights, the full approved notes, thanks."""
    day = date or datetime.now(UTC).date().isoformat()
    posts = []
    for zh, full in ((False, full_en), (True, full_zh or full_en)):
        title = (f"{notes.project} {notes.version} 发布" if zh
                 else f"{notes.project} {notes.version} released")
        front = (f"---\ntitle: \"{title}\"\ndate: {day}\nversion: \"{notes.version}\"\n"
                 f"tags: [release]\nlang: {'zh-CN' if zh else 'en'}\n---\n")
        intro = (f"{notes.project} {notes.version} 已发布，{_counts(notes, True)}。" if zh else
                 f"{notes.project} {notes.version} is out, with {_counts(notes, False)}.")
        lines = [front, intro, ""]
        if points := highlights(notes):
            lines += ["## 亮点" if zh else "## Highlights", ""]
            lines += [f"- {_text(i, zh)}" for i in points] + [""]
        body = "\n".join(ln for ln in full.splitlines() if not ln.startswith("## "))
        lines += ["## 完整更新日志" if zh else "## Full release notes", "", body.strip(), ""]
        if url:
            lines.append(f"{'下载与说明' if zh else 'Download and details'}: {url}")
        if notes.credits.first_time:
            people = ", ".join(_handle(p) for p in notes.credits.first_time)
            lines.append(f"\n{'欢迎新贡献者' if zh else 'Welcome to our new contributors'}: "
                         f"{people}")
        posts.append("\n".join(lines).strip() + "\n")
    return posts[0], posts[1]


def _fit(parts: list[str], tail: str, limit: int, sep: str) -> str:
    """As many parts as fit with the tail within ``limit`` characters."""
    kept: list[str] = []
    for part in parts:
        candidate = sep.join([*kept, part, tail]) if tail else sep.join([*kept, part])
        if len(candidate) <= limit:
            kept.append(part)
    text = sep.join([*kept, tail]) if tail else sep.join(kept)
    return text[:limit]


def social(notes: ReleaseNotes, url: str | None) -> tuple[str, str]:
    """≤ 280 characters in English; a short Weibo/WeChat-style Chinese post (≤ 140)."""
    points = highlights(notes, limit=5)
    head_en = f"🎉 {notes.project} {notes.version} is out! {_counts(notes, False)}."
    en = _fit([head_en, *(f"• {_text(i, False)}" for i in points)], url or "",
              SOCIAL_EN_MAX, "\n")
    head_zh = f"🎉 {notes.project} {notes.version} 正式发布！{_counts(notes, True)}。"
    zh = _fit([head_zh, *(f"✨ {_text(i, True)}" for i in points)], url or "",
              SOCIAL_ZH_MAX, "\n")
    return en, zh


def mail(notes: ReleaseNotes, full_en: str, full_zh: str, url: str | None) -> tuple[str, str]:
    """A mailing-list announcement: subject line, summary, highlights, the full notes."""
    mails = []
    for zh, full in ((False, full_en), (True, full_zh or full_en)):
        subject = (f"[ANNOUNCE] {notes.project} {notes.version} 发布" if zh
                   else f"[ANNOUNCE] {notes.project} {notes.version} released")
        greeting = "大家好，" if zh else "Hi all,"
        summary = (f"{notes.project} {notes.version} 已发布，{_counts(notes, True)}。" if zh else
                   f"We are happy to announce {notes.project} {notes.version}, with "
                   f"{_counts(notes, False)}.")
        lines = [f"Subject: {subject}", "", greeting, "", summary, ""]
        if points := highlights(notes):
            lines += ["亮点：" if zh else "Highlights:"]
            lines += [f"  * {_text(i, zh)}" for i in points] + [""]
        lines += [full.strip(), ""]
        if url:
            lines += [f"{'发布页面' if zh else 'Release page'}: {url}", ""]
        lines += ["谢谢！" if zh else "Thanks,", f"The {notes.project} maintainers"
                  if not zh else f"{notes.project} 维护者"]
        mails.append("\n".join(lines).strip() + "\n")
    return mails[0], mails[1]
