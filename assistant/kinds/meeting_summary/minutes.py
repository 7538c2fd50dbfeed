"""A minutes draft prepared from a meeting's agenda: the agenda's structure kept by code (title
turned from agenda to minutes, header lines, numbered items), and under each item one checked
line from the model saying what the item is about. What was said at the meeting cannot be
known from the agenda; the note-taker fills it in."""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.kinds.meeting_summary.parse import clean_inline
from assistant.language import LANGUAGE_NAMES, detect_language
from assistant.prompting import Prompt, fence
from assistant.textrules import CJK

_ITEM = re.compile(r"^(\d{1,2})[.)、]\s+(.*)$")
_TITLE = [(re.compile(r"议程"), "纪要"), (re.compile(r"\bAgenda\b"), "Minutes"),
          (re.compile(r"\bagenda\b"), "minutes")]
_SECTION = re.compile(r"^#{2,3}\s*(会议议程|议程|Agenda)\s*$", re.I)
_NOT_ALLOWED = re.compile(r"https?://|www\.|@\w|<|\n|^\s*[-*\d]")


def check_topic(source: str, language: str) -> Callable[[str], Checked]:
    """One line in the right language, short, without links, @names or numbers the item
    does not have."""

    def check(raw: str) -> Checked:
        text = raw.strip().splitlines()[0].strip() if raw.strip() else ""
        text = re.sub(r"</?text>", "", text).strip().strip("\"'“”「」")
        found = []
        if not text:
            found.append("empty")
        if _NOT_ALLOWED.search(text):
            found.append("links, mentions or a list")
        if (language == "zh") != bool(CJK.search(text)):
            found.append(f"not in {language}")
        if len(text) > (90 if language == "zh" else 300):
            found.append("too long")
        new_numbers = set(re.findall(r"\d+", text)) - set(re.findall(r"\d+", source))
        if new_numbers:
            found.append(f"numbers not in the item: {sorted(new_numbers)[:3]}")
        return Checked(text, found)

    return check


def minutes_from_agenda(agenda: str, *, chat_model: BaseChatModel | None, settings,
                        prompt: Prompt | None, usage: Usage | None = None,
                        progress: Callable[[int, int], None] | None = None) -> str:
    """The agenda as a minutes draft; ``chat_model=None``: the structure only."""
    usage = usage if usage is not None else Usage()
    language = detect_language(agenda)
    marker = "要点（待记录人确认）：" if language == "zh" else "About (to be confirmed): "
    lines = agenda.splitlines()
    items = [n for n, line in enumerate(lines) if _ITEM.match(line)]
    out: list[str] = []
    done = 0
    for n, line in enumerate(lines):
        if line.startswith("# "):
            for pattern, repl in _TITLE:
                line = pattern.sub(repl, line)
        out.append(line)
        if n in items and chat_model is not None and prompt is not None:
            text = clean_inline(_ITEM.match(line).group(2))  # type: ignore[union-attr]
            text = re.sub(r"[（(]\s*\d+\s*min\s*[)）]", "", text).strip()
            result = generate(chat_model, prompt.render(
                text=fence(text[:400], "text"), language_name=LANGUAGE_NAMES[language]),
                settings=settings, max_tokens=prompt.max_tokens,
                check=check_topic(text, language), usage=usage)
            if result.text:
                out.append(f"   - {marker}{result.text}")
            done += 1
            if progress:
                progress(done, len(items))
    return "\n".join(out).rstrip() + "\n"
