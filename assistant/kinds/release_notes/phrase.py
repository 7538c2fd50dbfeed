"""The model where it helps, in batches: the notes are complete before any call (every line
holds its cleaned title); then only lines that are not clean titles are rewritten, several per
prompt, and lines are translated several per prompt. Each answer line is checked on its own; a
line that fails keeps its structural text. Checked answers (and rejections) are cached.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from assistant.chains.generate import Checked, Usage
from assistant.kinds.release_notes.batches import ask, chunks, numbered, parse_numbered
from assistant.kinds.release_notes.cache import PhraseCache, phrase_key
from assistant.kinds.release_notes.chain import check_line
from assistant.kinds.release_notes.clean import rewrite_reasons
from assistant.kinds.release_notes.models import Item, ReleaseNotes
from assistant.project_files import Glossary
from assistant.prompting import Prompt
from assistant.settings import Settings

BATCH = 8
"""Lines per prompt (fewer when the settings' max_tokens cannot hold their answers)."""
TOKENS_PER_LINE = 36
"""Output tokens one answer line is given (an English line, or its Chinese)."""
STOP = frozenset(re.findall(r"\w+", "with from that this into when then than have been also "
                            "only your them their they does will just more some what which were"))
DEPENDENCIES = re.compile(r"^Update (\d+) dependenc(?:y|ies): (.*?)(?: and (\d+) more)?$")


class PhraseReport(BaseModel):
    """What the model did to the notes, for the draft's output and the benchmark."""

    lines: int = 0
    clean: int = 0  # kept as the cleaned title, never sent
    rewritten: int = 0
    rewrite_rejected: int = 0
    translated: int = 0
    translate_rejected: int = 0
    templated: int = 0  # written in code (the dependency line)
    cache_hits: int = 0
    calls: int = 0
    problems: dict[str, int] = {}


@dataclass
class _Job:
    item: Item
    source: str
    glossary: Glossary
    key: str


@dataclass
class _Run:
    chat_model: BaseChatModel
    settings: Settings
    usage: Usage
    report: PhraseReport
    total: int
    progress: Callable[[int, int], None] | None
    done: int = 0
    problems: Counter[str] = field(default_factory=Counter)

    def ask(self, messages: list[BaseMessage], max_tokens: int) -> str:
        self.report.calls += 1
        return ask(self.chat_model, messages, settings=self.settings, max_tokens=max_tokens,
                   usage=self.usage)

    def advance(self, n: int) -> None:
        self.done += n
        if self.progress and n:
            self.progress(min(self.done, self.total), self.total)


def _content(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z][a-z0-9]{3,}", text.lower()) if w not in STOP}


def check_rewrite(source: str, glossary: Glossary) -> Callable[[str], Checked]:
    """The product's line checks, plus: the line is about this title (shares a quarter of its
    content words, at least one) and not much longer than it (a batch answer can be shifted)."""
    base = check_line(source, "en", glossary)

    def check(raw: str) -> Checked:
        found = base(raw)
        words = _content(source)
        need = min(3, math.ceil(len(words) / 4))
        if words and len(words & _content(found.text)) < max(1, need):
            found.problems.append("not about this title")
        if len(found.text.split()) > max(24, len(source.split()) + 4):
            found.problems.append("longer than the title")
        return found

    return check


def check_translation(english: str, glossary: Glossary) -> Callable[[str], Checked]:
    """The product's line checks, plus a length in proportion to the English line."""
    base = check_line(english, "zh", glossary)

    def check(raw: str) -> Checked:
        found = base(raw)
        size = len(found.text)
        if found.text and (size > max(40, 2 * len(english)) or size < len(english) / 10):
            found.problems.append("length out of proportion")
        return found

    return check


def _reason(problem: str) -> str:
    """"glossary term 'Table' not kept" → "glossary term not kept"."""
    return re.sub(r"\s*\[.*\]|\s*'[^']*'", "", problem)


def dependency_zh(text: str) -> str | None:
    """The Chinese of the code-written dependency line, or None for any other text."""
    match = DEPENDENCIES.match(text)
    if not match:
        return None
    return f"更新 {match.group(1)} 个依赖：{match.group(2)}" + (" 等" if match.group(3) else "")


def _batched(run: _Run, jobs: list[_Job], *, step: str, prompt: Prompt, cache: PhraseCache | None,
             render: Callable[[list[_Job]], list[BaseMessage]],
             check: Callable[[_Job], Callable[[str], Checked]],
             accept: Callable[[_Job, str | None, bool], None]) -> None:
    """Cache lookups, then one call per batch of misses; ``accept`` gets each job's checked
    text (None: rejected) and whether it came from the cache."""
    held = cache.get_many(j.key for j in jobs) if cache is not None else {}
    misses = []
    for job in jobs:
        if job.key in held:
            accept(job, held[job.key], True)
            run.report.cache_hits += 1
        else:
            misses.append(job)
    run.advance(len(jobs) - len(misses))
    budget = min(run.settings.llm.max_tokens, prompt.max_tokens or run.settings.llm.max_tokens)
    size = max(1, min(BATCH, budget // TOKENS_PER_LINE))
    for batch in chunks(list(range(len(misses))), size):
        group = [misses[i] for i in batch]
        answers = parse_numbered(run.ask(render(group), min(budget, 16 + TOKENS_PER_LINE
                                                           * len(group))), len(group))
        fresh: dict[str, str | None] = {}
        for n, job in enumerate(group, start=1):
            raw = answers.get(n)
            if raw is None:
                run.problems[f"{step}: no answer line"] += 1
                fresh[job.key] = None
                continue
            checked = check(job)(raw)
            run.problems.update(f"{step}: {_reason(p)}" for p in checked.problems)
            fresh[job.key] = None if checked.problems else checked.text
        for job in group:
            accept(job, fresh[job.key], False)
        if cache is not None:
            cache.put_many(fresh)
        run.advance(len(group))


def phrase_batched(
    notes: ReleaseNotes, *, chat_model: BaseChatModel, settings: Settings, rewrite: Prompt,
    translate: Prompt, glossary: Glossary, model: str, languages: tuple[str, ...] = ("en", "zh"),
    cache: PhraseCache | None = None, progress: Callable[[int, int], None] | None = None,
    usage: Usage | None = None,
) -> PhraseReport:
    """Phrase the assembled notes in place (``en``, ``zh`` and how each was made); returns what
    the model did. ``model`` names the chat model in the cache key; ``progress`` gets
    (lines done, lines to do) over both steps."""
    usage = usage if usage is not None else Usage()
    chinese = "zh" in languages
    report = PhraseReport(lines=len(notes.items))
    run = _Run(chat_model, settings, usage, report, len(notes.items) * (2 if chinese else 1),
               progress)
    rewrites: list[_Job] = []
    for item in notes.items:
        item.en, item.cached = item.source_text, []
        relevant = glossary.relevant(item.source_text)
        if item.section == "dependencies":
            item.en_how, report.templated = "template", report.templated + 1
            continue
        item.rewrite_reasons = rewrite_reasons(item.source_text)
        if not item.rewrite_reasons:
            item.en_how, report.clean = "title", report.clean + 1
            continue
        rewrites.append(_Job(item, item.source_text, relevant, phrase_key(
            "rewrite", item.source_text, "en", relevant, prompt=rewrite.ref, model=model,
            scope=item.scope)))
    run.advance(len(notes.items) - len(rewrites))

    def accept_en(job: _Job, text: str | None, cached: bool) -> None:
        job.item.en = text or job.source
        job.item.en_how = "rewritten" if text else "rejected"
        report.rewritten += bool(text)
        report.rewrite_rejected += not text
        if cached:
            job.item.cached.append("en")

    def render_en(group: list[_Job]) -> list[BaseMessage]:
        titles = [j.source + (f" (component: {j.item.scope})" if j.item.scope else "")
                  for j in group]
        return rewrite.render(titles=numbered(titles, "titles"))

    _batched(run, rewrites, step="en", prompt=rewrite, cache=cache, render=render_en,
             check=lambda j: check_rewrite(j.source, j.glossary), accept=accept_en)
    if chinese:
        _translate(run, notes, translate=translate, glossary=glossary, model=model, cache=cache)
    for item in notes.items:
        item.checked = item.en_how != "rejected" and (
            not chinese or item.zh_how in ("translated", "template"))
    report.problems = dict(run.problems.most_common())
    return report


def _translate(run: _Run, notes: ReleaseNotes, *, translate: Prompt, glossary: Glossary,
               model: str, cache: PhraseCache | None) -> None:
    jobs: list[_Job] = []
    for item in notes.items:
        templated = dependency_zh(item.en) if item.section == "dependencies" else None
        if templated is not None:
            item.zh, item.zh_how = templated, "template"
            run.report.templated += 1
            continue
        relevant = glossary.relevant(item.en)
        jobs.append(_Job(item, item.en, relevant, phrase_key(
            "translate", item.en, "zh", relevant, prompt=translate.ref, model=model)))
    run.advance(len(notes.items) - len(jobs))

    def accept(job: _Job, text: str | None, cached: bool) -> None:
        job.item.zh = text or ""
        job.item.zh_how = "translated" if text else "rejected"
        run.report.translated += bool(text)
        run.report.translate_rejected += not text
        if cached:
            job.item.cached.append("zh")

    def render(group: list[_Job]) -> list[BaseMessage]:
        merged = Glossary(
            keep=list(dict.fromkeys(t for j in group for t in j.glossary.keep)),
            translations=list({t.en: t for j in group for t in j.glossary.translations}.values()))
        return translate.render(glossary=merged, lines=numbered([j.source for j in group],
                                                                "lines"))

    _batched(run, jobs, step="zh", prompt=translate, cache=cache, render=render,
             check=lambda j: check_translation(j.source, j.glossary), accept=accept)
