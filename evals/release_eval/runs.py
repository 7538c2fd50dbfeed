"""The ``structure`` and ``model`` modes (``naive`` is in its own module)."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from assistant.chains.generate import Usage
from assistant.kinds.release_notes.notes import assemble, render_markdown
from assistant.kinds.release_notes.phrase import phrase_batched
from assistant.kinds.release_notes.sections import model_sections
from assistant.project_files import Glossary
from assistant.providers.chat import chat_model_name

from .data import model_input
from .glossary import subject_glossary
from .naive import run_naive


class Recorder(BaseCallbackHandler):
    """Every raw model output, in call order (to explain fallbacks afterwards)."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.outputs.append(response.generations[0][0].text)


def run_structure(record: dict[str, Any], repo: str, **_: Any) -> dict[str, Any]:
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    notes = assemble(repo, record["version"], changes)
    for item in notes.items:
        item.en = item.source_text
    en, zh = render_markdown(notes, "en", changes, repo), render_markdown(notes, "zh", changes,
                                                                             repo)
    return {"seconds": time.perf_counter() - started, "lines": len(notes.items),
            "markdown_en": en, "markdown_zh": zh}


def run_model(record: dict[str, Any], repo: str, *, chat: Any, settings: Any, prompts: Any,
              on_line: Any, **_: Any) -> dict[str, Any]:
    """The product's path: sections of unplaced changes in batches, then clean titles kept and
    the other lines rewritten and translated in checked batches (no cache: each run is timed
    cold)."""
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    usage = Usage()
    rewrite, translate, sections = prompts
    model = chat_model_name(chat)
    place = model_sections(changes, chat_model=chat, settings=settings, usage=usage,
                           model=model, prompt=sections)
    placed: list[str | None] = []

    def fallback(change: Any) -> Any:  # the product's model classifier, counted
        placed.append(place(change))
        return placed[-1]

    notes = assemble(repo, record["version"], changes, fallback=fallback)
    glossary = Glossary(keep=subject_glossary([c.title for c in changes]))
    report = phrase_batched(notes, chat_model=chat, settings=settings, rewrite=rewrite,
                            translate=translate, glossary=glossary, model=model, usage=usage,
                            progress=on_line)
    seconds = time.perf_counter() - started
    en, zh = render_markdown(notes, "en", changes, repo), render_markdown(notes, "zh", changes,
                                                                             repo)
    translated = [(i.en, i.zh) for i in notes.items if i.zh]
    return {
        "seconds": seconds, "lines": len(notes.items), "markdown_en": en, "markdown_zh": zh,
        "glossary": glossary.keep, "glossary_pairs": translated,
        "en_rewritten": report.rewritten, "en_clean": report.clean,
        "zh_translated": len(translated), "checked": sum(i.checked for i in notes.items),
        "calls": usage.calls, "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "rejections": report.problems,
        "model_placed": {str(k): placed.count(k) for k in dict.fromkeys(placed)},
    }


RUNNERS = {"structure": run_structure, "model": run_model, "naive": run_naive}
