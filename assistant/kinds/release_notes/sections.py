"""The model as the classifier of last resort, in batches: the changes nothing else placed
go to it several per prompt (a closed choice per line, checked, cached); an answer off the
list leaves the change in Other, never invented into Features or dropped."""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Usage
from assistant.kinds.release_notes.batches import ask, chunks, numbered, parse_numbered
from assistant.kinds.release_notes.cache import PhraseCache, phrase_key
from assistant.kinds.release_notes.chain import MODEL_SECTIONS, check_section
from assistant.kinds.release_notes.classify import (
    Fallback,
    classify,
    clean_subject,
    is_dependency_bump,
)
from assistant.kinds.release_notes.models import Change, Section
from assistant.project_files import Glossary
from assistant.prompting import Prompt
from assistant.settings import Settings

BATCH = 16
TOKENS_PER_LINE = 6


def unplaced(changes: list[Change]) -> list[Change]:
    """The changes no conventional type, label or keyword places (the model's to place)."""
    return [c for c in changes if not is_dependency_bump(c) and classify(c).how == "default"]


def model_sections(changes: list[Change], *, chat_model: BaseChatModel, settings: Settings,
                   prompt: Prompt, usage: Usage, model: str,
                   cache: PhraseCache | None = None) -> Fallback:
    """Ask for the sections of every unplaced change up front, in batches; the returned
    fallback looks them up (a change it was not asked about stays in Other)."""
    titles = {c.id: clean_subject(c.title) for c in unplaced(changes)}
    keys = {cid: phrase_key("section", title, "en", Glossary(), prompt=prompt.ref, model=model)
            for cid, title in titles.items()}
    held = cache.get_many(keys.values()) if cache is not None else {}
    words = {cid: held[key] for cid, key in keys.items() if key in held}
    todo = [cid for cid in titles if cid not in words]
    for batch in chunks(todo, BATCH):
        messages = prompt.render(titles=numbered([titles[cid] for cid in batch], "titles"))
        raw = ask(chat_model, messages, settings=settings, usage=usage,
                  max_tokens=16 + TOKENS_PER_LINE * len(batch))
        answers = parse_numbered(raw, len(batch))
        fresh = {}
        for n, cid in enumerate(batch, start=1):
            checked = check_section(answers.get(n, ""))
            words[cid] = None if checked.problems else checked.text
            fresh[keys[cid]] = words[cid]
        if cache is not None:
            cache.put_many(fresh)

    def place(change: Change) -> Section | None:
        word = words.get(change.id)
        return MODEL_SECTIONS[word] if word else "other"

    return place
