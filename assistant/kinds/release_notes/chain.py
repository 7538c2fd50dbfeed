"""The line checks, the model's section choice, and the per-line phrasing path (one English
rewrite and one Chinese translation call per line; the product uses the batched, cached path in
``phrase.py``, this one is kept for the benchmark). A line that fails its check falls back to
the change's own title."""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.kinds.release_notes.classify import Fallback, clean_subject
from assistant.kinds.release_notes.models import Change, ReleaseNotes, Section
from assistant.project_files import Glossary
from assistant.prompting import Prompt, fence
from assistant.settings import Settings
from assistant.textrules import CJK, glossary_problems, identifiers

NOT_ALLOWED = re.compile(r"https?://|www\.|@\w|#\d+|\n")
FENCE_DEBRIS = re.compile(r"</?text>|^\s*\[\d+\]\s*")


def _line(raw: str) -> str:
    """The first line, without quotes, list marks and what the model copied from the prompt
    (the ``<text>`` fence, ``[1]`` markers)."""
    text = raw.strip().splitlines()[0].strip() if raw.strip() else ""
    text = FENCE_DEBRIS.sub("", text).strip()
    return text.strip("\"'“”「」 ").removeprefix("- ").rstrip("。.").strip()


def check_line(source: str, language: str, glossary: Glossary) -> Callable[[str], Checked]:
    """A checker: one line, the right language, identifiers and glossary kept, nothing added."""

    def check(raw: str) -> Checked:
        text = _line(raw)
        found = []
        if not text:
            found.append("empty")
        if NOT_ALLOWED.search(FENCE_DEBRIS.sub("", raw.strip())) or "<" in text:
            found.append("links, mentions, numbers or several lines")
        if len(text) > max(160, 3 * len(source)):
            found.append("too long")
        if (language == "zh") != bool(CJK.search(text)):
            found.append(f"not in {language}")
        missing = [i for i in identifiers(source) if i not in text]
        if missing:
            found.append(f"lost {missing[:3]}")
        found += glossary_problems(source, text, glossary)
        return Checked(text, found)

    return check


def phrase_notes(
    notes: ReleaseNotes, *, chat_model: BaseChatModel, settings: Settings, line: Prompt,
    translate: Prompt, glossary: Glossary, languages: tuple[str, ...] = ("en", "zh"),
    progress: Callable[[int, int], None] | None = None, usage: Usage | None = None,
) -> Usage:
    """Fill each item's ``en`` (rewritten) and ``zh`` (translated) text, one line per call
    (the old path, slow on a local model); tokens are added to ``usage``, which is returned."""
    usage = usage if usage is not None else Usage()
    for done, item in enumerate(notes.items, start=1):
        source = item.source_text
        relevant = glossary.relevant(source)
        english = source
        if item.section != "dependencies":
            result = generate(chat_model, line.render(text=fence(source, "text"), scope=item.scope),
                              settings=settings, max_tokens=line.max_tokens,
                              check=check_line(source, "en", relevant), usage=usage)
            english = result.text or source
        item.en = english
        item.checked = english != source or item.section == "dependencies"
        item.en_how = "template" if item.section == "dependencies" else (
            "rewritten" if english != source else "rejected")
        if "zh" in languages:
            result = generate(
                chat_model, translate.render(
                    source_language_name="English", target_language_name="Simplified Chinese",
                    glossary=relevant, text=fence(english, "text")),
                settings=settings, max_tokens=translate.max_tokens,
                check=check_line(english, "zh", relevant), usage=usage)
            item.zh = result.text or ""
            item.zh_how = "translated" if result.text else "rejected"
            item.checked = item.checked and result.text is not None
        if progress:
            progress(done, len(notes.items))
    return usage


MODEL_SECTIONS: dict[str, Section | None] = {
    "feature": "features", "fix": "fixes", "performance": "performance", "docs": "docs",
    "internal": None, "other": "other"}


def check_section(raw: str) -> Checked:
    """One word of the closed list (``MODEL_SECTIONS``), nothing else."""
    word = re.sub(r"[^a-z]", "", raw.strip().split()[0].lower()) if raw.strip() else ""
    return Checked(word, [] if word in MODEL_SECTIONS else [f"not a section: {raw[:40]!r}"])


def model_fallback(*, chat_model: BaseChatModel, settings: Settings, prompt: Prompt,
                   usage: Usage) -> Fallback:
    """The model as the classifier of last resort: a closed choice, checked; a change it
    cannot place stays in Other (never invented into Features or dropped)."""

    def place(change: Change) -> Section | None:
        result = generate(chat_model, prompt.render(text=fence(clean_subject(change.title),
                                                                "text")),
                          settings=settings, max_tokens=prompt.max_tokens, check=check_section,
                          usage=usage)
        return MODEL_SECTIONS[result.text] if result.text else "other"

    return place
