"""Which changes make the notes, in which section: conventional commits, labels, then keywords.

Noise is dropped with a reason (tests, CI, chores, reverted pairs); dependency bumps by bots are
grouped into one line; breaking changes are detected and put first. The model never chooses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from assistant.kinds.release_notes.clean import tidy
from assistant.kinds.release_notes.models import Change, Item, Section

CONVENTIONAL = re.compile(
    r"^\s*(?P<type>[A-Za-z]+)(?:\((?P<scope>[^)]{1,60})\))?(?P<bang>!)?\s*:\s*(?P<subject>.+)$")
PR_REF = re.compile(r"\s*\((?:#\d+(?:,\s*)?)+\)\s*$|\s+#\d+\s*$")
BOT = re.compile(r"(\[bot\]|dependabot|renovate|github-actions|greenkeeper)", re.I)
DEPS_SUBJECT = re.compile(r"^(bump|update|upgrade)\s+\S+.*\bfrom\b.*\bto\b", re.I)
REVERT = re.compile(r'^Revert\s+"(?P<title>.+)"\s*$', re.I)

TYPE_SECTIONS: dict[str, Section | None] = {
    "feat": "features", "feature": "features", "fix": "fixes", "bugfix": "fixes",
    "hotfix": "fixes", "perf": "performance", "docs": "docs", "doc": "docs",
    "deps": "dependencies", "refactor": "other", "revert": "other", "security": "fixes",
    # internal: not for users
    "test": None, "tests": None, "ci": None, "chore": None, "style": None, "build": None,
    "site": None, "demo": None, "type": None, "types": None, "lint": None,
}
LABEL_SECTIONS: dict[str, Section] = {
    "breaking": "breaking", "breaking change": "breaking", "breaking-change": "breaking",
    "bug": "fixes", "fix": "fixes", "type: bug": "fixes", "kind/bug": "fixes",
    "enhancement": "features", "feature": "features", "type: feature": "features",
    "kind/feature": "features", "performance": "performance", "perf": "performance",
    "documentation": "docs", "docs": "docs", "dependencies": "dependencies",
}
KEYWORDS: list[tuple[Section, re.Pattern[str]]] = [
    ("performance", re.compile(r"\b(perf|performance|faster|speed ?up|optimi[sz]e|memory)\b",
                               re.I)),
    ("fixes", re.compile(r"\b(fix(es|ed)?|bug|crash|error|incorrect|wrong|broken|issue)\b|修复",
                         re.I)),
    ("docs", re.compile(r"\b(docs?|documentation|readme|typo)\b|文档", re.I)),
    ("features", re.compile(r"\b(add(s|ed)?|support(s|ed)?|new|introduce[sd]?|allow|enable|"
                            r"improve[sd]?|configurable|customi[sz]e)\b|新增|支持|优化", re.I)),
]


@dataclass
class Classified:
    """A change's section (None: left out), scope, cleaned text, and why."""

    section: Section | None
    scope: str | None
    text: str
    how: str  # conventional, label, keyword, model, default
    breaking: bool = False


Fallback = Callable[[Change], Section | None]
"""Places a change that nothing else placed: a section, or None for an internal change."""


@dataclass
class Selection:
    items: list[Item] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def clean_subject(subject: str) -> str:
    """The subject without PR references, trailing dots, leading lower case, and the junk
    :func:`~assistant.kinds.release_notes.clean.tidy` removes (tags, tickets, emoji)."""
    text = PR_REF.sub("", subject.strip()).strip().rstrip(".")
    return tidy(text) or (text[:1].upper() + text[1:])


def is_dependency_bump(change: Change) -> bool:
    match = CONVENTIONAL.match(change.title)
    scope = (match.group("scope") or "").lower() if match else ""
    subject = match.group("subject") if match else change.title
    return (scope in ("deps", "deps-dev", "dependencies") or (
        bool(change.author and BOT.search(change.author)) and bool(DEPS_SUBJECT.match(subject)))
        or "dependencies" in (label.lower() for label in change.labels))


def classify(change: Change) -> Classified:
    """Section by conventional type, then labels, then keywords; breaking by ``!`` or body."""
    labels = {label.lower() for label in change.labels}
    breaking = "BREAKING CHANGE" in change.body or "BREAKING-CHANGE" in change.body or bool(
        labels & {"breaking", "breaking change", "breaking-change"})
    match = CONVENTIONAL.match(change.title)
    if match and match.group("type").lower() in TYPE_SECTIONS:
        kind = match.group("type").lower()
        scope = match.group("scope")
        breaking = breaking or bool(match.group("bang"))
        section = TYPE_SECTIONS[kind]
        if scope and scope.lower() in ("deps", "deps-dev", "dependencies"):
            section = "dependencies"
        if breaking:
            section = "breaking"
        return Classified(section, scope, clean_subject(match.group("subject")), "conventional",
                          breaking)
    text = clean_subject(change.title)
    for label in change.labels:
        if (section := LABEL_SECTIONS.get(label.lower())) is not None:
            return Classified("breaking" if breaking else section, None, text, "label", breaking)
    if breaking:
        return Classified("breaking", None, text, "body", True)
    for section, pattern in KEYWORDS:
        if pattern.search(change.title):
            return Classified(section, None, text, "keyword")
    return Classified("other", None, text, "default")


def select(changes: list[Change], *, fallback: Fallback | None = None,
           omit: Collection[str] = ()) -> Selection:
    """Items for the notes (one per PR, bot bumps as one line) and what was left out, why.

    ``fallback`` (the model) places the changes that no type, label or keyword placed;
    ``omit`` lists what the project leaves out of its notes: sections (``docs``),
    conventional types (``type:refactor``) and scopes (``scope:site``).
    """
    result = Selection()
    omit = {o.lower() for o in omit}
    reverted = {m.group("title").strip() for c in changes if (m := REVERT.match(c.title))}
    bumps: list[Change] = []
    by_pr: dict[int, Item] = {}
    for change in changes:
        if (m := REVERT.match(change.title)) and any(
                c.title.strip() == m.group("title").strip() for c in changes):
            result.dropped.append((change.id, "reverts a change in the same range"))
            continue
        if change.title.strip() in reverted:
            result.dropped.append((change.id, "reverted in the same range"))
            continue
        if is_dependency_bump(change):
            bumps.append(change)
            continue
        found = classify(change)
        if found.how == "default" and fallback is not None:
            found.section, found.how = fallback(change), "model"
        if found.section is None:
            kind = (CONVENTIONAL.match(change.title) or {"type": found.how})["type"]
            result.dropped.append((change.id, f"internal change ({kind})"))
            continue
        if reason := _omitted(change, found, omit):
            result.dropped.append((change.id, reason))
            continue
        known = next((by_pr[n] for n in change.prs if n in by_pr), None)
        if known is not None:  # several commits of one PR: one line
            known.changes.append(change.id)
            if change.author and change.author not in known.authors:
                known.authors.append(change.author)
            continue
        item = Item(section=found.section, scope=found.scope, changes=[change.id],
                    prs=list(change.prs), authors=[change.author] if change.author else [],
                    source_text=found.text)
        for number in change.prs:
            by_pr[number] = item
        result.items.append(item)
    if bumps and "dependencies" in omit:
        result.dropped += [(c.id, "dependencies: a section this project omits") for c in bumps]
    elif bumps:
        names = sorted({_bumped(c) for c in bumps})
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        result.items.append(Item(
            section="dependencies", changes=[c.id for c in bumps],
            prs=sorted({n for c in bumps for n in c.prs}), authors=[],
            source_text=f"Update {len(names)} dependenc{'y' if len(names) == 1 else 'ies'}: "
                        f"{shown}"))
    return result


def _omitted(change: Change, found: Classified, omit: set[str]) -> str | None:
    """Why the project's policy leaves this change out, or None."""
    match = CONVENTIONAL.match(change.title)
    kind = match.group("type").lower() if match else ""
    if found.section in omit:
        return f"{found.section}: a section this project omits"
    if kind and f"type:{kind}" in omit and not found.breaking:
        return f"{kind}: a commit type this project omits"
    if found.scope and f"scope:{found.scope.lower()}" in omit and not found.breaking:
        return f"{found.scope}: a scope this project omits"
    return None


def _bumped(change: Change) -> str:
    match = CONVENTIONAL.match(change.title)
    subject = match.group("subject") if match else change.title
    words = subject.split()
    return words[1] if len(words) > 1 and words[0].lower() in ("bump", "update", "upgrade") \
        else clean_subject(subject)[:40]
