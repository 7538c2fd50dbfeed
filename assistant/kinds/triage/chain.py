"""The full triage draft: structure from code, phrasing from the model.

Steps: detect the reporter's language; suggest labels from a classifier trained on the
project's labelled past issues; find likely duplicates among retrieved past issues; pick
the docs that may answer it (the reporter's language first); check the report against
the project's issue template; let the model phrase a short reply (and, for a Chinese issue,
an English summary and translation for the reviewer); validate everything; score it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.chains.guards import clean_line, guard_reply, problems, trim_unfinished
from assistant.errors import EmptyIndexError
from assistant.forge.shapes import IssueInput
from assistant.kinds.triage.duplicates import calibration_for, find_duplicates, issue_query
from assistant.kinds.triage.labels import classifier_for_index, issue_text, issue_vector
from assistant.kinds.triage.missing import choose_template, looks_like_bug, missing_information
from assistant.kinds.triage.models import DocLink, LabelSuggestion, Timings, TriageDraft
from assistant.kinds.triage.reply import (
    fallback_text,
    issue_block,
    phrase_reply,
    reply_markdown,
)
from assistant.language import LANGUAGE_NAMES, detect_language
from assistant.project_files import Glossary, ProjectFiles
from assistant.prompting import Prompt, fence
from assistant.providers.chat import chat_model_name
from assistant.providers.vector_index import Hit, VectorIndex
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings


@dataclass(frozen=True)
class TriagePrompts:
    """The prompt files a triage draft uses."""

    reply: Prompt
    summary: Prompt
    translate: Prompt

    @property
    def refs(self) -> list[str]:
        return [self.reply.ref, self.summary.ref, self.translate.ref]


PASSAGE_SHOWN = 600  # characters of each source kept for the reviewer


def select_docs(
    retriever: Retriever, query: str, language: str, *, k: int, min_score: float
) -> tuple[list[DocLink], list[str]]:
    """Up to ``k`` pages (best passage each) that may answer the issue, reporter's language
    first; passages scoring under ``min_score`` are left out. Returns links and passage texts."""
    hits = retriever.search(query, k=max(k * 4, 12), where={"source_kind": "doc"})
    hits = [h for h in hits if h.score >= min_score]
    own = [h for h in hits if h.metadata.get("language") == language]
    other = [h for h in hits if h.metadata.get("language") != language]
    picked: list[Hit] = []
    pages: set[str] = set()
    for hit in own + other:
        page = str(hit.metadata.get("path", hit.id))
        if page in pages:
            continue
        pages.add(page)
        picked.append(hit)
        if len(picked) == k:
            break
    docs = [
        DocLink(ref=n, title=clean_line(h.title),
                heading=clean_line(str(h.metadata.get("heading", ""))), url=h.url,
                path=str(h.metadata.get("path", "")),
                language=str(h.metadata.get("language", "")), score=h.score,
                passage=h.text[:PASSAGE_SHOWN])
        for n, h in enumerate(picked, start=1)
    ]
    return docs, [h.text for h in picked]


def supporting_passage(reply: str, docs: list[DocLink], passages: list[str]) -> list[int]:
    """When the model cited nothing: the passage sharing the most terms with its reply."""
    if not docs:
        return []
    words = set(tokenize(reply))
    overlaps = [len(words & set(tokenize(text))) for text in passages]
    best = max(range(len(docs)), key=lambda i: (overlaps[i], -i))
    return [docs[best].ref] if overlaps[best] else []


def suggest_labels(
    index: VectorIndex, issue: IssueInput, files: ProjectFiles, threshold: float,
    template_labels: list[str],
) -> tuple[list[LabelSuggestion], bool]:
    """Labels above the threshold, only from the project's label set; and whether it abstained."""
    label_set = files.label_names or None
    allowed = set(label_set) if label_set else None
    suggestions: dict[str, LabelSuggestion] = {}
    for name in template_labels:
        if allowed is None or name in allowed:
            suggestions[name] = LabelSuggestion(name=name, confidence=1.0, source="template")
    classifier = classifier_for_index(index, label_set)
    if classifier is not None:
        vector = issue_vector(index, issue.title, issue.body) if classifier.uses_vectors else None
        for score in classifier.predict(issue_text(issue.title, issue.body), vector):
            if score.confidence < threshold or score.name in suggestions:
                continue
            if allowed is not None and score.name not in allowed:
                continue
            suggestions[score.name] = LabelSuggestion(
                name=score.name, confidence=round(score.confidence, 3))
    labels = sorted(suggestions.values(), key=lambda s: -s.confidence)
    return labels, not any(s.source == "classifier" for s in labels)


def _english_for_reviewer(
    text: str, kind: str, *, chat_model: BaseChatModel, prompts: TriagePrompts,
    settings: Settings, usage: Usage, glossary: Glossary,
) -> str | None:
    """An English summary of the issue (kind "summary") or translation of the reply."""
    if kind == "summary":
        messages = prompts.summary.render(issue=text)  # the fenced issue, already cut short
        max_tokens = prompts.summary.max_tokens
    else:
        messages = prompts.translate.render(
            source_language_name=LANGUAGE_NAMES["zh"], target_language_name="English",
            glossary=glossary.relevant(text), text=fence(text, "text"))
        max_tokens = prompts.translate.max_tokens

    def check(raw: str) -> Checked:
        guarded = guard_reply(trim_unfinished(raw), allowed_urls=set(), n_sources=20,
                              reporter=None)
        found = problems(guarded.text, "en", max_chars=1200)
        return Checked(guarded.text, found, guarded.removed)

    result = generate(chat_model, messages, settings=settings, max_tokens=max_tokens,
                      check=check, usage=usage, attempts=1)
    return result.text


def _confidence(draft: TriageDraft) -> float:
    """A heuristic in [0, 1]: how much of the draft stands on evidence (not calibrated)."""
    label = max((s.confidence for s in draft.labels if s.source == "classifier"), default=0.0)
    docs = 1.0 if any(d.cited for d in draft.docs) else (0.5 if draft.docs else 0.0)
    reply = 0.3 if draft.fallback else 1.0
    dup = max((d.score for d in draft.duplicates), default=0.0)
    score = 0.35 * reply + 0.25 * label + 0.25 * docs + 0.15 * max(dup, 0.5 * bool(draft.missing))
    return round(min(1.0, score), 3)


def draft_triage(
    issue: IssueInput,
    *,
    settings: Settings,
    index: VectorIndex,
    chat_model: BaseChatModel,
    prompts: TriagePrompts,
    files: ProjectFiles,
) -> TriageDraft:
    """Everything a maintainer needs to triage an issue, as one validated draft."""
    started = time.perf_counter()
    issue.require_text()
    if index.count() == 0:
        raise EmptyIndexError(
            f"The index of project {index.project!r} is empty.",
            fix=f"run `devrel ingest docs PATH --project {index.project}` first",
        )
    options = settings.triage
    language = detect_language(f"{issue.title}\n{issue.body}")
    timings, usage = Timings(), Usage()
    retriever = Retriever(index, settings.retrieval)

    mark = time.perf_counter()
    template = choose_template(files.templates, issue.title, [])
    labels, abstained = suggest_labels(
        index, issue, files, options.label_threshold, template.labels if template else [])
    timings.labels = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    candidates = find_duplicates(
        retriever, issue.title, issue.body, exclude_number=issue.number,
        k=options.max_duplicates, threshold=0.0)
    cut = calibration_for(index.embedder.identity).threshold \
        if options.duplicate_threshold is None else options.duplicate_threshold
    for candidate in candidates:
        candidate.title = clean_line(candidate.title)
    duplicates = [c for c in candidates if c.score >= cut]
    related = [c for c in candidates if c.score < cut]
    timings.duplicates = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    docs, passages = select_docs(retriever, issue_query(issue.title, issue.body), language,
                                 k=settings.retrieval.k, min_score=options.min_doc_score)
    timings.retrieve = round(time.perf_counter() - mark, 3)

    template = template or choose_template(files.templates, issue.title,
                                           [s.name for s in labels])
    is_bug = looks_like_bug(issue.title, issue.body) or any(s.name == "bug" for s in labels)
    missing = missing_information(issue.title, issue.body, template, language, is_bug=is_bug)

    draft = TriageDraft(language=language, labels=labels, labels_abstained=abstained,  # type: ignore[arg-type]
                        duplicates=duplicates, related=related, docs=docs, missing=missing,
                        prompts=prompts.refs, model=chat_model_name(chat_model))
    if issue.by_maintainer:
        draft.reply_needed, draft.no_reply_reason = False, "opened by a maintainer"
    elif not (docs or missing or duplicates):
        draft.reply_needed, draft.no_reply_reason = False, "nothing specific to say"

    mark = time.perf_counter()
    if draft.reply_needed:
        generation = phrase_reply(
            issue, language=language, project=index.project, docs=docs, passages=passages,
            glossary=files.glossary, chat_model=chat_model, prompt=prompts.reply,
            settings=settings, usage=usage, label_names=files.label_names)
        draft.removed, draft.rejected = generation.removed, generation.problems
        text = generation.text
        if text is None:
            draft.fallback, text = True, fallback_text(language, docs)
            cited = [d.ref for d in docs[:2]]
        else:
            cited = generation.cited or supporting_passage(text, docs, passages)
        for d in docs:
            d.cited = d.ref in cited
        draft.reply_text = text
        draft.reply_markdown = reply_markdown(text, language, docs=docs, missing=missing,
                                              duplicates=duplicates)
    timings.generate = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    if language != "en" and options.english_for_reviewer:
        common = {"chat_model": chat_model, "prompts": prompts, "settings": settings,
                  "usage": usage, "glossary": files.glossary}
        draft.summary_en = _english_for_reviewer(issue_block(issue, 800), "summary", **common)
        if draft.reply_needed:
            draft.reply_en = _english_for_reviewer(draft.reply_text, "translate", **common)
    timings.translate = round(time.perf_counter() - mark, 3)

    draft.usage, draft.timings = usage, timings
    draft.confidence = _confidence(draft)
    draft.seconds = round(time.perf_counter() - started, 2)
    return draft
