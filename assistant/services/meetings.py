"""Meeting summaries as a service: decisions, action items and open questions traced to lines
of the note, in the note's language, with an English version of a Chinese note."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from assistant.chains.generate import Usage
from assistant.context import AppContext
from assistant.errors import DevrelError, InvalidInput
from assistant.language import detect_language
from assistant.meetings.models import MeetingNotesInput
from assistant.meetings.parse import parse_note
from assistant.meetings.summarize import render_summary, summarize_note
from assistant.project_files import Glossary, load_project_files
from assistant.prompting import load_prompt
from assistant.providers.chat import chat_model_name
from assistant.services.drafting import DraftResult
from assistant.store.drafts import DraftContent

MAX_CHARS = 200_000
MAX_LINE_CHARS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def check_notes(text: str) -> None:
    """Refuse what is not a meeting note: empty, too long, binary, or a single huge blob."""
    if not text or not text.strip():
        raise InvalidInput("The meeting note is empty.", fix="paste the note's text (Markdown "
                                                             "or plain text)")
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"The meeting note has {len(text):,} characters (at most "
                           f"{MAX_CHARS:,}).", fix="split it into one note per meeting")
    if "\x00" in text or len(_CONTROL.findall(text)) > max(8, len(text) // 200):
        raise InvalidInput("The meeting note looks binary (control characters or undecodable "
                           "bytes).", fix="give the note as UTF-8 text (export the document "
                                          "as Markdown or .txt)")
    if max(len(line) for line in text.splitlines()) > MAX_LINE_CHARS:
        raise InvalidInput(f"A line of the note is longer than {MAX_LINE_CHARS:,} characters.",
                           fix="give the note with its line breaks (one point per line)")


def parse_request(data: dict[str, Any]) -> MeetingNotesInput:
    """The request, validated (for the draft kind's ``parse``)."""
    try:
        request = MeetingNotesInput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(f"Bad meeting-summary request: {first['msg']} at "
                           f"{'.'.join(map(str, first['loc']))}.",
                           fix="give notes (text, at most 200,000 characters) and optionally "
                               "language (en or zh), title and date") from None
    check_notes(request.notes)
    return request


def title_of(request: MeetingNotesInput) -> str:
    """The draft's title: the given one, the note's own, or its date."""
    if request.title:
        return request.title
    note = parse_note(request.notes[:20_000])
    return note.title or (f"Meeting notes {note.date}" if note.date else "Meeting notes")


def _glossary(ctx: AppContext, project: str) -> Glossary:
    try:
        return load_project_files(ctx.index(project)).glossary
    except DevrelError:  # nothing ingested for the project: no glossary to keep
        return Glossary()


def draft_meeting_summary(ctx: AppContext, data: dict[str, Any], project: str,
                          progress: Callable[[int, int], None] | None = None) -> DraftResult:
    """Draft the summary of one meeting note for review."""
    request = parse_request(data)
    note = parse_note(request.notes)
    if request.date:
        note.date = request.date
    language = request.language or detect_language(request.notes)
    pinned = ctx.settings.prompt_versions
    classify = load_prompt("meeting_item", pinned.get("meeting_item"))
    translate = load_prompt("translate", pinned.get("translate"))
    chat = ctx.chat_model()
    usage = Usage()
    summary = summarize_note(note, language=language, chat_model=chat, settings=ctx.settings,
                             classify=classify, translate=translate,
                             glossary=_glossary(ctx, project) if language == "zh" else None,
                             title=request.title, progress=progress, usage=usage)
    text = render_summary(summary, language)
    english = render_summary(summary, "en") if language == "zh" else None
    items = summary.items()
    translated = [i for i in items if i.en and i.en != i.text]
    confidence = (len(translated) / len(items)) if language == "zh" and items else None
    output = {"summary": summary.model_dump(mode="json"), "markdown": text,
              "markdown_en": english, "usage": usage.model_dump(),
              "counts": {"decisions": len(summary.decisions), "actions": len(summary.actions),
                         "questions": len(summary.questions),
                         "by_model": sum(i.how == "model" for i in items)}}
    return DraftResult(
        output=output, sources=[], content=DraftContent(text=text, translation=english),
        prompt_name=classify.name, prompt_version=classify.version,
        model=chat_model_name(chat), confidence=round(confidence, 3) if confidence else None,
        language=summary.language)
