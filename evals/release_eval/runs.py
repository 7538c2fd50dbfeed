"""The ``structure`` and ``model`` modes (``naive`` is in its own module), and why model outputs
fell back."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from assistant.chains.generate import Usage
from assistant.kinds.release_notes.chain import check_line, model_fallback, phrase_notes
from assistant.kinds.release_notes.models import ReleaseNotes
from assistant.kinds.release_notes.notes import assemble, render_markdown
from assistant.project_files import Glossary
from assistant.prompting import load_prompt

from .data import model_input
from .glossary import subject_glossary
from .naive import run_naive


class Recorder(BaseCallbackHandler):
    """Every raw model output, in call order (to explain fallbacks afterwards)."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.outputs.append(response.generations[0][0].text)


def _reasons(problems: list[str]) -> list[str]:
    """Problems without the quoted names: "glossary term 'Table' not kept" → "glossary term
    not kept", "lost ['x']" → "lost"."""
    return [re.sub(r"\s*\[.*\]|\s*'[^']*'", "", p) for p in problems]


def fallback_reasons(notes: ReleaseNotes, outputs: list[list[str]],
                     glossary: Glossary) -> tuple[Counter[str], Counter[str]]:
    """Why rejected outputs were rejected, and which glossary terms they dropped: the product's
    own checks re-run on the raw outputs (per item 0-2 English attempts, then 1-2 Chinese)."""
    reasons: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for item, raw in zip(notes.items, outputs, strict=True):
        source, relevant = item.source_text, glossary.relevant(item.source_text)
        rest = list(raw)
        attempts = []
        if item.section != "dependencies" and rest:
            attempts.append(("en", source, rest.pop(0)))
            if check_line(source, "en", relevant)(attempts[0][2]).problems and rest:
                attempts.append(("en", source, rest.pop(0)))
        attempts += [("zh", item.en, output) for output in rest]
        for language, text, output in attempts:
            problems = check_line(text, language, relevant)(output).problems
            reasons.update(f"{language}: {p}" for p in _reasons(problems))
            terms.update(t for p in problems
                         for t in re.findall(r"glossary term '([^']*)' not kept", p))
    return reasons, terms


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
              recorder: Recorder, on_line: Any) -> dict[str, Any]:
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    usage = Usage()
    place = model_fallback(chat_model=chat, settings=settings, usage=usage,
                           prompt=load_prompt("release_section"))
    placed: list[str | None] = []

    def fallback(change: Any) -> Any:  # the product's model classifier, counted
        placed.append(place(change))
        return placed[-1]

    notes = assemble(repo, record["version"], changes, fallback=fallback)
    glossary = Glossary(keep=subject_glossary([c.title for c in changes]))
    per_item: list[list[str]] = []

    def progress(done: int, total: int) -> None:
        per_item.append(recorder.outputs[:])
        recorder.outputs.clear()
        on_line(done, total)

    recorder.outputs.clear()
    usage = phrase_notes(notes, chat_model=chat, settings=settings, line=prompts[0],
                         translate=prompts[1], glossary=glossary, progress=progress, usage=usage)
    seconds = time.perf_counter() - started
    en, zh = render_markdown(notes, "en", changes, repo), render_markdown(notes, "zh", changes,
                                                                             repo)
    translated = [(i.en, i.zh) for i in notes.items if i.zh]
    reasons, terms = fallback_reasons(notes, per_item, glossary)
    return {
        "seconds": seconds, "lines": len(notes.items), "markdown_en": en, "markdown_zh": zh,
        "glossary": glossary.keep, "glossary_pairs": translated,
        "en_rewritten": sum(i.en != i.source_text for i in notes.items),
        "zh_translated": len(translated), "checked": sum(i.checked for i in notes.items),
        "calls": usage.calls, "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "rejections": dict(reasons.most_common()), "terms_dropped": dict(terms.most_common()),
        "model_placed": {str(k): placed.count(k) for k in dict.fromkeys(placed)},
    }


RUNNERS = {"structure": run_structure, "model": run_model, "naive": run_naive}
