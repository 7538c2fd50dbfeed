"""The meeting-summary kind: decisions, action items and open questions traced to lines of the
note, in the note's language, with an English version of a Chinese note."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.errors import DevrelError, InvalidInput
from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.kinds.meeting_summary.models import MeetingNotesInput
from assistant.kinds.meeting_summary.parse import parse_note
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind

if TYPE_CHECKING:
    from assistant.context import AppContext
    from assistant.project_files import Glossary

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


def _glossary(ctx: AppContext, project: str) -> Glossary:
    from assistant.project_files import Glossary, load_project_files

    try:
        return load_project_files(ctx.index(project)).glossary
    except DevrelError:  # nothing ingested for the project: no glossary to keep
        return Glossary()


class MeetingSummary(Kind[MeetingNotesInput]):
    name = DraftKind.MEETING_SUMMARY
    input_model = MeetingNotesInput
    summary = "Queue a summary of meeting notes."
    progress_label = "Reading the note"

    def check(self, request: MeetingNotesInput) -> None:
        check_notes(request.notes)

    def title(self, request: MeetingNotesInput) -> str:
        """The given title, the note's own, or its date."""
        if request.title:
            return request.title
        note = parse_note(request.notes[:20_000])
        return note.title or (f"Meeting notes {note.date}" if note.date else "Meeting notes")

    def draft(self, ctx: AppContext, request: MeetingNotesInput, project: str,
              progress: Progress | None = None) -> DraftResult:
        """Draft the summary of one meeting note for review."""
        from assistant.chains.generate import Usage
        from assistant.kinds.meeting_summary.summarize import render_summary, summarize_note
        from assistant.language import detect_language
        from assistant.prompting import load_prompt
        from assistant.providers.chat import chat_model_name

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


KIND = MeetingSummary()
