"""Assemble release notes in code, check every line traces to input changes, render Markdown."""

from __future__ import annotations

from collections.abc import Collection

from assistant.errors import InvalidInput
from assistant.kinds.release_notes.classify import BOT, Fallback, select
from assistant.kinds.release_notes.models import (
    SECTION_TITLES,
    SECTIONS,
    Change,
    Credits,
    Item,
    ReleaseNotes,
)


def assemble(project: str, version: str, changes: list[Change], *,
             authors_before: set[str] | None = None, from_ref: str | None = None,
             to_ref: str | None = None, fallback: Fallback | None = None,
             omit: Collection[str] = ()) -> ReleaseNotes:
    """Sections in a fixed order (breaking first), one line per change or PR, and credits.
    ``fallback`` and ``omit`` are those of :func:`select`."""
    selection = select(changes, fallback=fallback, omit=omit)
    items = sorted(selection.items, key=lambda i: SECTIONS.index(i.section))
    notes = ReleaseNotes(project=project, version=version, from_ref=from_ref, to_ref=to_ref,
                         items=items, dropped=[f"{cid}: {why}" for cid, why in selection.dropped],
                         credits=credits(changes, authors_before))
    check_traceable(notes, changes)
    return notes


def credits(changes: list[Change], authors_before: set[str] | None) -> Credits:
    """Human contributors in order of first appearance; first-timers when the history is known."""
    people: list[str] = []
    for change in changes:
        if change.author and not BOT.search(change.author) and change.author not in people:
            people.append(change.author)
    first = [p for p in people if p not in authors_before] if authors_before is not None else []
    return Credits(contributors=people, first_time=first)


def check_traceable(notes: ReleaseNotes, changes: list[Change]) -> None:
    """Every line maps to input changes (ids and PR numbers): nothing invented."""
    ids = {c.id for c in changes}
    prs = {n for c in changes for n in c.prs}
    for item in notes.items:
        if not item.changes or not set(item.changes) <= ids:
            raise InvalidInput(f"Release-notes line {item.source_text!r} maps to no input change.",
                               fix="report this as a bug: lines are assembled from changes")
        if not set(item.prs) <= prs:
            raise InvalidInput(f"Release-notes line {item.source_text!r} cites a PR that is not "
                               "in the range.", fix="report this as a bug")


def _links(item: Item, repo: str | None) -> str:
    if item.prs:
        return " ".join(f"[#{n}](https://github.com/{repo}/pull/{n})" if repo else f"#{n}"
                        for n in item.prs)
    shas = [cid for cid in item.changes if not cid.startswith("pr-")][:3]
    return " ".join(f"[{s[:7]}](https://github.com/{repo}/commit/{s})" if repo else s[:7]
                    for s in shas)


def render_markdown(notes: ReleaseNotes, language: str, changes: list[Change],
                    repo: str | None = None) -> str:
    """The notes in one language: sections, linked lines, credits."""
    zh = language == "zh"
    lines = [f"## {notes.version}", ""]
    for section in SECTIONS:
        items = [i for i in notes.items if i.section == section]
        if not items:
            continue
        lines += [f"### {SECTION_TITLES[section][1 if zh else 0]}", ""]
        for item in items:
            text = (item.zh if zh else "") or item.en or item.source_text
            scope = f"**{item.scope}**: " if item.scope else ""
            authors = " ".join(f"@{a}" for a in item.authors if not BOT.search(a))
            lines.append(f"- {scope}{text} {_links(item, repo)}"
                         + (f" {authors}" if authors else ""))
        lines.append("")
    if notes.credits.contributors:
        title = "贡献者" if zh else "Contributors"
        lines += [f"### {title}", "", ", ".join(f"@{p}" for p in notes.credits.contributors)]
        if notes.credits.first_time:
            welcome = "首次贡献：" if zh else "First-time contributors: "
            lines += ["", welcome + ", ".join(f"@{p}" for p in notes.credits.first_time)
                      + (" 🎉" if notes.credits.first_time else "")]
    return "\n".join(lines).strip() + "\n"
