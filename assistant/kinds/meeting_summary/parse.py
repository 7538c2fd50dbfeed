"""Meeting notes read by code: lines with their heading trail, sections that name their kind
(Decisions, Action items, Open questions, 决定, 行动项, 待讨论问题 …), explicit markers
(``TODO``, ``AI:``, ``Decision:``, ``结论：``), action tables, owners and stated due dates.

Nothing here guesses: a line is placed only when the note itself says what it is; the rest
is left to :mod:`assistant.kinds.meeting_summary.summarize` (a closed-choice question to the model).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from assistant.safe_yaml import front_matter

Kind = Literal["decision", "action", "question"]
SectionKind = Literal["decision", "action", "question", "skip"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_HEADING = re.compile(r"^\*\*([^*]{1,40}?)\s*[:：]?\s*\*\*\s*[:：]?\s*(.*)$")
_BULLET = re.compile(r"^(\s*)(?:[-*+•]|\d{1,3}[.)、]|[（(]\d{1,3}[)）])\s+(.*)$")
_CHECKBOX = re.compile(r"^\[( |x|X)\]\s+")
_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_RULE_ROW = re.compile(r"^[\s|:-]+$")
_FENCE = re.compile(r"^\s*(```|~~~)")

_SECTIONS: list[tuple[SectionKind, re.Pattern[str]]] = [
    ("action", re.compile(r"action\s*items?|next\s*steps?|to-?dos?|follow[- ]?ups?|"
                          r"行动项|待办|后续(工作|跟进|计划)?|跟进事项|任务分配|分工", re.I)),
    ("question", re.compile(r"open\s*(questions?|issues?|items?)|unresolved|parking\s*lot|"
                            r"待讨论|遗留问题|未决|待定|开放问题", re.I)),
    ("decision", re.compile(r"decisions?|decided|resolutions?|outcomes?|agreements?|"
                            r"决定|决议|结论|共识", re.I)),
    ("skip", re.compile(r"^(links?|present|attendees?|participants?|attendance|recording|"
                        r"upcoming\s*meetings?|参会人(员)?|出席|会前必读|会议主题|相关资讯|"
                        r"会议概况)$", re.I)),
]

_REVIEW = re.compile(r"(action\s*items?|行动项|待办).*(跟进|回顾|进展|review|status|update)|"
                     r"(review|status|上次|上期|previous|last).*(action\s*items?|行动项|待办)",
                     re.I)

_MARKERS: list[tuple[Kind, re.Pattern[str]]] = [
    ("action", re.compile(r"^(?:\*\*)?(?:TODO|AI|ACTION(?:\s*ITEM)?|Action(?:\s*item)?|"
                          r"待办|行动项?|跟进)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(.+)$")),
    ("action", re.compile(r"^TODO\b\s*(.+)$")),
    ("decision", re.compile(r"^(?:\*\*)?(?:Decision|Decided|Agreed|Resolved|RESOLVED|决定|决议|"
                            r"结论|共识)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(.+)$", re.I)),
    ("question", re.compile(r"^(?:\*\*)?(?:Open question|Question|待讨论|问题)(?:\*\*)?\s*[:：]"
                            r"\s*(?:\*\*)?\s*(.+\?|.+？)$", re.I)),
]

_OWNER_COLUMN = re.compile(r"owner|assignee|who|responsible|负责人|负责|认领人|执行人", re.I)
_DUE_COLUMN = re.compile(r"due|deadline|by\s*when|截止|期限|完成时间|日期", re.I)
_TEXT_COLUMN = re.compile(r"action|task|item|what|事项|任务|内容|行动", re.I)

HANDLE = re.compile(r"(?<![\w/@.])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\b")
_NAME = r"[A-Z][a-zA-Z'’-]+(?: [A-Z][a-zA-Z'’-]+)?"
_SUBJECT_EN = re.compile(
    rf"^(?:@(?P<handle>[A-Za-z0-9-]+)|(?P<name>{_NAME}|[a-z0-9]+(?:-[a-z0-9]+)+))"
    r"\s*(?:[:,]\s*(?:I\s+)?)?(?:will|'ll|to|is going to|volunteer(?:s|ed)? to|"
    r"offered to)\s+(?!be\b)[a-z]")
_SUBJECT_ZH = re.compile(
    r"^(?:由\s*)?@?(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{1,38}|[\u4e00-\u9fff]{2,4})\s*"
    r"(?:负责|认领|将|会|来|跟进|整理|牵头)")
_BY_ZH = re.compile(r"由\s*@?(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{1,38}|[\u4e00-\u9fff]{2,4}?)"
                    r"\s*(?:负责|整理|跟进|牵头|来)")
_NOT_NAMES = {"We", "They", "It", "This", "That", "There", "Everyone", "Somebody", "Someone",
              "People", "Need", "Plan", "Agreed", "TSC", "PR", "Decision", "Action", "Next"}

_ISO = re.compile(r"(?<!\d)(20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_ZH_DATE = re.compile(r"(?:(20\d\d)\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTHS = {m: n for n, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                       "sep", "oct", "nov", "dec"], start=1)}
_EN_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+"
                      r"(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(20\d\d))?\b", re.I)
_DUE_CUE = re.compile(r"\b(?:by|before|until|due|no later than|deadline)\b|截止|之前|前完成|以前",
                      re.I)

_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_EMPHASIS = re.compile(r"(\*\*|__|~~)(.+?)\1")
_HTML = re.compile(r"<[^>\n]{1,200}>")


def clean_inline(text: str) -> str:
    """Markdown links as their text (``@[x](url)`` → ``@x``), emphasis and tags dropped."""
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    text = _HTML.sub("", text)
    text = _CHECKBOX.sub("", text.strip())
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Line:
    """One non-blank line of the note outside code fences."""

    number: int
    kind: Literal["heading", "bullet", "row", "text"]
    text: str
    level: int = 0  # heading level, or bullet indent
    trail: tuple[str, ...] = ()
    section: SectionKind | None = None
    cells: list[str] = field(default_factory=list)
    checkbox: bool = False
    end: int = 0  # the last line of the note it spans (a wrapped bullet)

    def __post_init__(self) -> None:
        self.end = self.end or self.number


@dataclass
class ParsedNote:
    """The note's lines, front matter and what it says about itself."""

    lines: list[Line]
    title: str = ""
    date: str = ""
    attendees: list[str] = field(default_factory=list)
    line_count: int = 0

    def names(self) -> set[str]:
        """Names and @handles written anywhere in the note (owners come only from these)."""
        found = {a.lower() for a in self.attendees}
        for line in self.lines:
            found |= {h.lower() for h in HANDLE.findall(line.text)}
        return found


def section_kind(heading: str) -> SectionKind | None:
    """What a heading says its section holds (None: nothing)."""
    words = clean_inline(heading).strip(" :：")
    words = re.sub(r"^(\d+[.)、]?|议程\s*\S+\s*[:：])\s*", "", words)
    if _REVIEW.search(words):  # "行动项跟进", "Review of action items": status, not new ones
        return None
    words = re.sub(r"^(会议|本次|主要|key|main|summary of|new|the)\s*", "", words, flags=re.I)
    for kind, pattern in _SECTIONS:
        if pattern.match(words):  # at the start: "社区规划和后续安排" is a topic, not a section
            return kind
    return None


def marker(text: str) -> tuple[Kind, str] | None:
    """An explicit marker at the start of a line: the kind and the text after it."""
    for kind, pattern in _MARKERS:
        if m := pattern.match(text.strip()):
            return kind, m.group(1).strip(" *")
    return None


def _meeting_date(text: str, front: Mapping[str, object]) -> str:
    value = front.get("date")
    if isinstance(value, date):
        return value.isoformat()
    head = str(value or "") + "\n" + "\n".join(text.splitlines()[:12])
    return iso_date(head) or ""


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def iso_date(text: str, meeting: str = "") -> str | None:
    """The first full date written in ``text`` (2026-10-14, 2026/10/14, 10 月 14 日, Oct 14),
    as ISO; a date without a year takes the meeting's year (the next year when that would put
    it months before the meeting)."""
    if m := _ISO.search(text):
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    base = date.fromisoformat(meeting) if meeting else None
    for pattern, month_of in ((_ZH_DATE, lambda m: int(m.group(2))),
                              (_EN_DATE, lambda m: _MONTHS[m.group(1)[:3].lower()])):
        if m := pattern.search(text):
            year = m.group(1) if pattern is _ZH_DATE else m.group(3)
            day = int(m.group(3)) if pattern is _ZH_DATE else int(m.group(2))
            if year:
                return _valid(int(year), month_of(m), day)
            if base is None:
                return None
            found = _valid(base.year, month_of(m), day)
            if found and (base - date.fromisoformat(found)).days > 90:
                found = _valid(base.year + 1, month_of(m), day)
            return found
    return None


def due_of(text: str, meeting: str = "") -> str | None:
    """A due date only when the line states one with a cue (by, before, due, 截止, 之前)."""
    if not _DUE_CUE.search(text):
        return None
    return iso_date(text[_DUE_CUE.search(text).start():], meeting)  # type: ignore[union-attr]


def owner_of(text: str) -> str | None:
    """The owner a line names as its subject: ``@x will …``, ``Name to …``, ``Name: I will``,
    ``X 负责 …``, ``由 X 整理``. A name elsewhere in the line ("assign it to @y") is not one."""
    text = text.strip()
    if m := _SUBJECT_EN.match(text):
        name = m.group("handle") or m.group("name")
        if name and name not in _NOT_NAMES:
            return ("@" + name) if m.group("handle") else name
    if m := _SUBJECT_ZH.match(text) or _BY_ZH.search(text):
        name = m.group("name")
        if name not in {"大家", "我们", "社区", "后续", "目前", "需要", "建议"}:
            return name
    return None


def parse_note(text: str) -> ParsedNote:
    """Lines with their heading trails and section kinds; front matter read, not listed."""
    front, end = front_matter(text)  # scalars only, no aliases, at most 16 KB
    offset = text[:end].count("\n")
    raw_lines = text.splitlines()
    lines: list[Line] = []
    trail: list[tuple[int, str, SectionKind | None]] = []
    in_fence = False
    label: tuple[int, SectionKind] | None = None  # a bullet that names a section
    title = str(front.get("title") or "")
    for number, raw in enumerate(raw_lines[offset:], start=offset + 1):
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        if in_fence or not raw.strip():
            continue
        heading = _HEADING.match(raw)
        bold = _BOLD_HEADING.match(raw.strip()) if not heading else None
        if bold and not bold.group(2) and section_kind(bold.group(1)) is not None:
            heading_text, level = bold.group(1), 7  # "**Action Items**" on its own line
        elif heading:
            heading_text, level = heading.group(2), len(heading.group(1))
        else:
            heading_text, level = "", 0
        if heading_text:
            label = None
            heading_text = clean_inline(heading_text)
            if level == 1 and not title:
                title = heading_text
            while trail and trail[-1][0] >= level:
                trail.pop()
            own = section_kind(heading_text)
            inherited = next((k for _, _, k in reversed(trail) if k), None)
            trail.append((level, heading_text, own or inherited))
            lines.append(Line(number, "heading", heading_text, level,
                              tuple(t for _, t, _ in trail[:-1]), trail[-1][2]))
            continue
        section = trail[-1][2] if trail else None
        names = tuple(t for _, t, _ in trail)
        if row := _ROW.match(raw):
            if _RULE_ROW.match(raw):
                continue
            cells = [clean_inline(c) for c in row.group(1).split("|")]
            lines.append(Line(number, "row", " | ".join(cells), 0, names, section, cells))
        elif bullet := _BULLET.match(raw):
            content = bullet.group(2)
            indent = len(bullet.group(1).expandtabs(4))
            text_ = clean_inline(content)
            while label and label[0] >= indent:
                label = None
            own = section_kind(text_) if len(text_) <= 24 else None
            if own:  # "- **Action Items**" with the items nested under it
                label = (indent, own)
            lines.append(Line(number, "bullet", text_, indent, names,
                              label[1] if label and not own else section,
                              checkbox=bool(_CHECKBOX.match(content))))
            if own:
                lines[-1].kind = "heading"
                lines[-1].section = own
        elif bold and bold.group(2):  # "**参会人** ：a, b" – a labelled line
            label = clean_inline(bold.group(1))
            kind = section_kind(label)
            lines.append(Line(number, "text", f"{label}：{clean_inline(bold.group(2))}", 0,
                              names, kind or section))
        elif (raw[:1].isspace() and lines and lines[-1].kind == "bullet"
              and lines[-1].end == number - 1):
            lines[-1].text += " " + clean_inline(raw)  # a wrapped bullet goes on
            lines[-1].end = number
            continue
        else:
            text_ = clean_inline(raw)
            own = section_kind(text_) if len(text_) <= 24 else None
            label = (-1, own) if own else None  # "Action Items" on a line of its own
            lines.append(Line(number, "heading" if own else "text", text_, 0, names,
                              own or section))
    listed = front.get("attendees")
    attendees = [str(a) for a in listed if isinstance(a, str | int)] \
        if isinstance(listed, list) else []
    return ParsedNote(lines=lines, title=title, date=_meeting_date(text, front),
                      attendees=attendees, line_count=len(raw_lines))


@dataclass
class TableColumns:
    text: int
    owner: int | None
    due: int | None


def table_columns(header: list[str]) -> TableColumns | None:
    """Which columns of a table hold the action, its owner and its due date (None: not an
    action table, it has no owner column)."""
    owner = next((i for i, c in enumerate(header) if _OWNER_COLUMN.search(c)), None)
    if owner is None:
        return None
    due = next((i for i, c in enumerate(header) if _DUE_COLUMN.search(c) and i != owner), None)
    text = next((i for i, c in enumerate(header) if _TEXT_COLUMN.search(c)
                 and i not in (owner, due)), None)
    if text is None:
        widest = [i for i in range(len(header)) if i not in (owner, due) and header[i] != "#"]
        if not widest:
            return None
        text = widest[0]
    return TableColumns(text, owner, due)
