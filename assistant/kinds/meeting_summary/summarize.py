"""A meeting summary: code places every line the note labels itself (sections, markers,
action tables); the model answers one closed question per remaining candidate line
(decision / action / question / info) and translates Chinese items one at a time.

Every item is a line of the note, verbatim (links and emphasis reduced to text): the model
never writes an item, an owner or a date. Owners are the subject a line names (or a table's
owner column), due dates only what a line states.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.kinds.meeting_summary.models import (
    ActionItem,
    Decision,
    How,
    MeetingSummary,
    OpenQuestion,
)
from assistant.kinds.meeting_summary.parse import (
    Kind,
    Line,
    ParsedNote,
    due_of,
    marker,
    owner_of,
    table_columns,
)
from assistant.project_files import Glossary
from assistant.prompting import Prompt, fence
from assistant.textrules import CJK, glossary_problems, identifiers

MAX_LINE = 600  # characters of one line shown to the model (a piece of a long note)
KINDS_ANSWERS = ("decision", "action", "question", "info")

_CUE_EN = re.compile(
    r"\b(will|'ll|to (?:open|send|create|follow|take|write|ask|reach|look|check|submit|update|"
    r"draft|review|share|post|file|add|fix|investigate|coordinate|schedule|prepare)|agreed?|"
    r"consensus|objections?|decid\w*|decision|vote[ds]?|approv\w*|resolved|plan(?:s|ned)? to|"
    r"action|follow[- ]?up|volunteer\w*|take care|next steps?|should we|do we)\b|\?\s*$", re.I)
_CUE_ZH = re.compile(r"决定|同意|通过|一致|结论|共识|负责|认领|跟进|将在|计划|下一步|待定|"
                     r"是否|？\s*$|截止|推迟|确定|投票|由\s*\S+\s*(负责|整理)")
Progress = Callable[[int, int], None]


def candidate(line: Line) -> bool:
    """A line code cannot place but that may state a decision, an action or a question."""
    return line.kind in ("bullet", "text") and bool(
        _CUE_EN.search(line.text) or _CUE_ZH.search(line.text))


def check_kind(raw: str) -> Checked:
    """One word of the closed list, nothing else."""
    first = raw.strip().split()[0].lower() if raw.strip() else ""
    word = re.sub(r"[^a-z]", "", first)
    return Checked(word, [] if word in KINDS_ANSWERS else [f"not a kind: {raw[:40]!r}"])


_PREAMBLE = re.compile(r"^(?:the\s+)?english(?:\s+translation|\s+version)?\s*[:：]\s*", re.I)
_NUMBERS = re.compile(r"#\d+|\d+(?:\.\d+)+|\b\d{4}-\d\d-\d\d\b")
_EXTRA = re.compile(r"https?://|www\.|<|\n")


def check_english(source: str, glossary: Glossary) -> Callable[[str], Checked]:
    """A translation checker: one English line, code names, issue numbers, versions and dates
    kept, no link, tag or @handle that the source does not have."""

    def check(raw: str) -> Checked:
        text = raw.strip().splitlines()[0].strip() if raw.strip() else ""
        text = re.sub(r"</?text>", "", text).strip()
        text = _PREAMBLE.sub("", text).strip().strip("\"'“”").removeprefix("- ").strip()
        found = []
        if not text:
            found.append("empty")
        if CJK.search(text):
            found.append("not in en")
        if _EXTRA.search(re.sub(r"</?text>", "", raw.strip())) and not _EXTRA.search(source):
            found.append("links, tags or several lines")
        if set(re.findall(r"@[\w-]+", text)) - set(re.findall(r"@[\w-]+", source)):
            found.append("new @mention")
        if len(text) > max(200, 4 * len(source)):
            found.append("too long")
        lost = [i for i in identifiers(source) | set(_NUMBERS.findall(source)) if i not in text]
        if lost:
            found.append(f"lost {lost[:3]}")
        found += glossary_problems(source, text, glossary)
        return Checked(text, found)

    return check


def _item(kind: Kind, text: str, line: Line, how: How, meeting: str,
          owner: str | None = None, due: str | None = None
          ) -> Decision | ActionItem | OpenQuestion:
    section = " > ".join(line.trail)
    if kind == "decision":
        return Decision(text=text, line=line.number, section=section, how=how)
    if kind == "question":
        return OpenQuestion(text=text, line=line.number, section=section, how=how)
    return ActionItem(text=text, line=line.number, section=section, how=how,
                      owner=owner if owner is not None else owner_of(text),
                      due=due if due is not None else due_of(text, meeting))


def place_by_code(note: ParsedNote) -> tuple[list[Decision | ActionItem | OpenQuestion],
                                              list[Line]]:
    """Items the note labels itself, and the candidate lines left for the model."""
    items: list[Decision | ActionItem | OpenQuestion] = []
    left: list[Line] = []
    columns = None
    for line in note.lines:
        if line.kind == "heading":
            columns = None
            continue
        if line.kind == "row":
            if columns is None:
                columns = table_columns(line.cells) or False
                continue  # the header row
            if columns:
                cells = line.cells + [""] * 3
                text = cells[columns.text].strip()
                if text:
                    owner = cells[columns.owner].strip() if columns.owner is not None else ""
                    due = cells[columns.due] if columns.due is not None else ""
                    items.append(_item("action", text, line, "table", note.date,
                                       owner=owner or None,
                                       due=_table_due(due, note.date)))
                continue
            if line.section in ("decision", "action", "question"):
                items.append(_item(line.section, line.text, line, "section", note.date))
            continue
        columns = None
        if line.section == "skip":
            continue
        if found := marker(line.text):
            items.append(_item(found[0], found[1], line, "marker", note.date))
        elif line.checkbox:
            items.append(_item("action", line.text, line, "marker", note.date))
        elif line.section in ("decision", "action", "question"):
            items.append(_item(line.section, line.text, line, "section", note.date))
        elif candidate(line):
            left.append(line)
    return items, left


def _table_due(cell: str, meeting: str) -> str | None:
    from assistant.kinds.meeting_summary.parse import iso_date

    return iso_date(cell, meeting) if cell.strip() else None


def summarize_note(
    note: ParsedNote, *, language: str, chat_model: BaseChatModel | None, settings,
    classify: Prompt | None, translate: Prompt | None, glossary: Glossary | None = None,
    title: str | None = None, max_calls: int = 400, progress: Progress | None = None,
    usage: Usage | None = None,
) -> MeetingSummary:
    """The typed summary; ``chat_model=None`` places by code only (no candidates asked)."""
    usage = usage if usage is not None else Usage()
    glossary = glossary or Glossary()
    items, left = place_by_code(note)
    asked = left[:max_calls] if chat_model is not None else []
    to_translate = language == "zh" and chat_model is not None and translate is not None
    total = len(asked) + (len(items) + len(asked) if to_translate else 0)
    done = 0
    for line in asked:
        assert classify is not None and chat_model is not None
        heading = " > ".join(line.trail[-2:])[:200]
        result = generate(chat_model, classify.render(text=fence(line.text[:MAX_LINE], "line"),
                                                      heading=heading),
                          settings=settings, max_tokens=classify.max_tokens, check=check_kind,
                          usage=usage)
        kind = result.text
        if kind in ("decision", "action") and re.search(r"[?？]\s*$", line.text):
            kind = "question" if line.section == "question" else None  # asked, not settled
        if kind in ("decision", "action", "question"):
            items.append(_item(kind, line.text, line, "model", note.date))  # type: ignore[arg-type]
        done += 1
        if progress:
            progress(done, total)
    items.sort(key=lambda i: i.line)
    if to_translate:
        assert translate is not None and chat_model is not None
        for item in items:
            relevant = glossary.relevant(item.text)
            result = generate(
                chat_model, translate.render(
                    source_language_name="Simplified Chinese", target_language_name="English",
                    glossary=relevant, text=fence(item.text[:MAX_LINE], "text")),
                settings=settings, max_tokens=translate.max_tokens,
                check=check_english(item.text[:MAX_LINE], relevant), usage=usage)
            item.en = result.text or item.text
            done += 1
            if progress:
                progress(done, total)
        if progress:
            progress(total, total)
    summary = MeetingSummary(
        title=title or note.title or "Meeting notes", date=note.date,
        language="zh" if language == "zh" else "en", attendees=note.attendees,
        lines=note.line_count, candidates=len(asked), not_classified=len(left) - len(asked))
    for item in items:
        if isinstance(item, Decision):
            summary.decisions.append(item)
        elif isinstance(item, ActionItem):
            summary.actions.append(item)
        else:
            summary.questions.append(item)
    return summary


LABELS = {
    "en": {"decisions": "Decisions", "actions": "Action items", "questions": "Open questions",
           "owner": "owner", "due": "due", "line": "line", "none": "None stated in the note.",
           "summary": "Summary"},
    "zh": {"decisions": "决定", "actions": "行动项", "questions": "待讨论问题",
           "owner": "负责人", "due": "截止", "line": "第 {} 行", "none": "纪要中没有写明。",
           "summary": "摘要"},
}


def render_summary(summary: MeetingSummary, language: str) -> str:
    """Markdown in ``language``: the items as written (``en``: their English versions for a
    Chinese note), each with its line number in the note."""
    labels = LABELS["zh" if language == "zh" else "en"]
    english_of_chinese = language == "en" and summary.language == "zh"

    def where(line: int) -> str:
        return (f"（{labels['line'].format(line)}）" if language == "zh"
                else f" (line {line})")

    def text(item: Decision | ActionItem | OpenQuestion) -> str:
        return (item.en or item.text) if english_of_chinese else item.text

    heading = f"# {summary.title}" + (f" ({summary.date})" if summary.date else "")
    out = [heading, "", f"_{labels['summary']}_", ""]
    for key, items in (("decisions", summary.decisions), ("actions", summary.actions),
                       ("questions", summary.questions)):
        out += [f"## {labels[key]}", ""]
        if not items:
            out += [labels["none"], ""]
            continue
        for item in items:
            extra = []
            if isinstance(item, ActionItem):
                if item.owner:
                    extra.append(f"{labels['owner']}: {item.owner}")
                if item.due:
                    extra.append(f"{labels['due']}: {item.due}")
            sep = "；" if language == "zh" else "; "
            tail = (f" — {sep.join(extra)}" if extra else "")
            out.append(f"- {text(item)}{tail}{where(item.line)}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
