"""The full triage draft: structure from code, the model selecting rather than inventing.

Steps: the reporter's language from their prose; labels already on the issue, the template's,
and a classifier's trained on the project's labelled past issues; likely duplicates among
retrieved past issues, and the maintainers' answers on the most similar ones; the docs that
may answer it (the reporter's language first); what the report leaves out of the template.
The reply is built from those verified pieces (``pieces.py``; the model chooses which docs
sentence answers), or, with ``triage.reply_mode: generative``, written by the model and
kept sentence by sentence only where a source supports it. Confidence comes from the evidence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.chains.generate import Checked, Usage, generate
from assistant.chains.guards import clean_line, guard_reply, problems, trim_unfinished
from assistant.errors import EmptyIndexError
from assistant.forge.shapes import IssueInput
from assistant.kinds.triage.answers import find_past_answers
from assistant.kinds.triage.duplicates import (
    boilerplate_for,
    calibration_for,
    find_duplicates,
    issue_query,
    issue_ref,
)
from assistant.kinds.triage.labels import classifier_for_index, issue_text, issue_vector
from assistant.kinds.triage.missing import choose_template, looks_like_bug, missing_information
from assistant.kinds.triage.models import DocLink, LabelSuggestion, Timings, TriageDraft
from assistant.kinds.triage.pieces import (
    assemble,
    choose_sentence,
    doc_candidates,
    supported_only,
)
from assistant.kinds.triage.reply import issue_block, phrase_reply, reply_markdown
from assistant.language import LANGUAGE_NAMES, reporter_language
from assistant.project_files import Glossary, ProjectFiles
from assistant.prompting import Prompt, fence
from assistant.providers.chat import chat_model_name
from assistant.providers.vector_index import Hit, VectorIndex
from assistant.repos import repo_key_for
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings


@dataclass(frozen=True)
class TriagePrompts:
    """The prompt files a triage draft uses."""

    reply: Prompt
    summary: Prompt
    translate: Prompt
    choose: Prompt

    @property
    def refs(self) -> list[str]:
        return [self.reply.ref, self.summary.ref, self.translate.ref, self.choose.ref]


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


CANDIDATES_SHOWN = 3  # the classifier's best labels shown when it abstains


def suggest_labels(
    index: VectorIndex, issue: IssueInput, files: ProjectFiles, threshold: float,
    template_labels: list[str], aliases: dict[str, str] | None = None,
) -> tuple[list[LabelSuggestion], bool, list[LabelSuggestion]]:
    """Labels already on the issue (shown as applied, not suggested), the template's, and
    the classifier's above the threshold, only from the project's label set; whether the
    classifier abstained; and, when it did, its best candidates below the threshold."""
    label_set = files.label_names or None
    allowed = set(label_set) if label_set else None
    suggestions: dict[str, LabelSuggestion] = {}
    for name in issue.labels:
        suggestions[name] = LabelSuggestion(name=name, confidence=1.0, source="applied")
    for name in template_labels:
        if name not in suggestions and (allowed is None or name in allowed):
            suggestions[name] = LabelSuggestion(name=name, confidence=1.0, source="template")
    below: list[LabelSuggestion] = []
    classifier = classifier_for_index(index, label_set, aliases)
    if classifier is not None:
        vector = issue_vector(index, issue.title, issue.body) if classifier.uses_vectors else None
        for score in classifier.predict(issue_text(issue.title, issue.body), vector):
            if score.name in suggestions or (allowed is not None and score.name not in allowed):
                continue
            suggestion = LabelSuggestion(name=score.name, confidence=round(score.confidence, 3))
            if score.confidence >= threshold:
                suggestions[score.name] = suggestion
            elif len(below) < CANDIDATES_SHOWN:
                below.append(suggestion)
    labels = sorted(suggestions.values(), key=lambda s: -s.confidence)
    abstained = not any(s.source == "classifier" for s in labels)
    return labels, abstained, below if abstained else []


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


def _confidence(draft: TriageDraft) -> tuple[float, dict[str, float]]:
    """How much of the draft stands on evidence, from the evidence itself: a maintainer's
    past answer on a similar issue, a docs sentence the model chose, a likely duplicate
    (its calibrated score), questions from the template; less after guard retries."""
    evidence: dict[str, float] = {}
    if draft.past_answers:
        evidence["past_answer"] = round(0.6 + 0.3 * min(1.0, draft.past_answers[0].score), 3)
    if any(p.kind == "doc_quote" for p in draft.pieces):
        evidence["doc_quote"] = 0.5
    if any(p.kind == "model_text" for p in draft.pieces):
        evidence["model_text"] = 0.4
    if draft.duplicates:
        evidence["duplicate"] = round(0.5 + 0.5 * max(d.score for d in draft.duplicates), 3)
    if draft.missing:
        evidence["missing"] = 0.35
    doubt = 1.0
    for value in evidence.values():
        doubt *= 1.0 - value
    score = 1.0 - doubt
    if draft.rejected:
        evidence["guard_retries"] = float(len(draft.rejected))
        score *= 0.8
    if draft.fallback:
        evidence["fallback"] = 1.0
        score *= 0.6
    if not draft.reply_needed:
        score = min(score, 0.1)
    return round(min(1.0, score), 3), evidence


def _reply_by_pieces(
    issue: IssueInput, draft: TriageDraft, passages: list[str], *, query: str, project: str,
    chat_model: BaseChatModel, prompts: TriagePrompts, settings: Settings, usage: Usage,
) -> None:
    """The default reply: the model only chooses which docs sentence answers (or none)."""
    candidates = doc_candidates(query, passages)
    chosen = choose_sentence(issue, candidates, project=project, chat_model=chat_model,
                             prompt=prompts.choose, settings=settings, usage=usage)
    doc_quote = None
    if chosen is not None:
        doc = draft.docs[candidates[chosen].doc]
        doc.cited = True
        doc_quote = (doc, candidates[chosen].quote or candidates[chosen].text)
    past = draft.past_answers[0] if draft.past_answers else None
    parts = {"doc_quote": doc_quote, "past": past, "duplicates": draft.duplicates,
             "missing": draft.missing}
    draft.reply_markdown, draft.pieces = assemble(draft.language, **parts)
    draft.reply_text = ""  # the model wrote none of it
    if draft.language != "en" and draft.reply_markdown:
        english_missing = [m.model_copy(update={"question": m.field}) for m in draft.missing]
        draft.reply_en = assemble("en", **(parts | {"missing": english_missing}))[0]


def _reply_generated(
    issue: IssueInput, draft: TriageDraft, passages: list[str], *, query: str, project: str,
    chat_model: BaseChatModel, prompts: TriagePrompts, settings: Settings, usage: Usage,
    files: ProjectFiles,
) -> None:
    """For strong served models: the model writes, and every sentence must stand on a cited
    passage or a maintainer's past answer, or it is dropped."""
    generation = phrase_reply(
        issue, language=draft.language, project=project, docs=draft.docs, passages=passages,
        glossary=files.glossary, chat_model=chat_model, prompt=prompts.reply,
        settings=settings, usage=usage, label_names=files.label_names)
    draft.removed, draft.rejected = generation.removed, generation.problems
    text = ""
    if generation.text is not None:
        sources = passages + [a.quote for a in draft.past_answers]
        text, dropped, _lowest = supported_only(generation.text, sources,
                                                settings.triage.min_support)
        draft.removed += dropped
        cited = generation.cited or supporting_passage(text, draft.docs, passages)
        for d in draft.docs:
            d.cited = bool(text) and d.ref in cited
    draft.fallback = not text
    past = draft.past_answers[0] if draft.past_answers else None
    markdown, draft.pieces = assemble(draft.language, doc_quote=None, past=past,
                                      duplicates=draft.duplicates, missing=draft.missing,
                                      model_text=text)
    draft.reply_text = text
    draft.reply_markdown = reply_markdown(markdown, draft.language, docs=draft.docs,
                                          missing=[], duplicates=[]) if markdown else ""


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
    project = settings.project_settings(index.project)
    language = reporter_language(issue.title, issue.body)
    timings, usage = Timings(), Usage()
    retriever = Retriever(index, settings.retrieval)

    mark = time.perf_counter()
    template = choose_template(files.templates, issue.title, issue.labels)
    labels, abstained, candidates_below = suggest_labels(
        index, issue, files, options.label_threshold, template.labels if template else [],
        project.label_aliases)
    timings.labels = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    boilerplate = boilerplate_for(retriever, files.templates)
    calibration = calibration_for(index.embedder.identity, retriever=retriever,
                                  boilerplate=boilerplate)
    home = repo_key_for(settings, index.project, issue.repo)
    candidates = find_duplicates(
        retriever, issue.title, issue.body, exclude_number=issue.number, exclude_repo=home,
        k=options.max_duplicates, threshold=0.0, boilerplate=boilerplate,
        calibration=calibration)
    cut = calibration.threshold if options.duplicate_threshold is None \
        else options.duplicate_threshold
    for candidate in candidates:
        candidate.title = clean_line(candidate.title)
        candidate.ref = issue_ref(candidate.repo, candidate.number, home)
    duplicates = [c for c in candidates if c.score >= cut]
    related = [c for c in candidates if c.score < cut]
    query = issue_query(issue.title, issue.body, boilerplate)
    past_answers = find_past_answers(retriever, query, candidates,
                                     min_score=options.answer_min_score)
    for past in past_answers:
        past.ref = issue_ref(past.repo, past.number, home)
    timings.duplicates = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    docs, passages = select_docs(retriever, query, language,
                                 k=settings.retrieval.k, min_score=options.min_doc_score)
    timings.retrieve = round(time.perf_counter() - mark, 3)

    template = template or choose_template(files.templates, issue.title,
                                           [s.name for s in labels])
    is_bug = looks_like_bug(issue.title, issue.body) or any(s.name == "bug" for s in labels)
    missing = missing_information(issue.title, issue.body, template, language, is_bug=is_bug)

    draft = TriageDraft(language=language, labels=labels, labels_abstained=abstained,  # type: ignore[arg-type]
                        label_candidates=candidates_below, duplicates=duplicates,
                        related=related, docs=docs, past_answers=past_answers, missing=missing,
                        reply_mode=options.reply_mode, prompts=prompts.refs,
                        model=chat_model_name(chat_model))
    if issue.by_maintainer:
        draft.reply_needed, draft.no_reply_reason = False, "opened by a maintainer"

    mark = time.perf_counter()
    if draft.reply_needed:
        compose = _reply_by_pieces if options.reply_mode == "pieces" else partial(
            _reply_generated, files=files)
        compose(issue, draft, passages, query=query, project=index.project, chat_model=chat_model,
                prompts=prompts, settings=settings, usage=usage)
        if not draft.reply_markdown:
            draft.reply_needed = False
            draft.no_reply_reason = "nothing verified to say: no answering docs sentence, " \
                "past answer, likely duplicate or missing information"
    timings.generate = round(time.perf_counter() - mark, 3)

    mark = time.perf_counter()
    if language != "en" and options.english_for_reviewer:
        common = {"chat_model": chat_model, "prompts": prompts, "settings": settings,
                  "usage": usage, "glossary": files.glossary}
        draft.summary_en = _english_for_reviewer(issue_block(issue, 800), "summary", **common)
        if draft.reply_needed and draft.reply_en is None:
            draft.reply_en = _english_for_reviewer(draft.reply_text, "translate", **common)
    timings.translate = round(time.perf_counter() - mark, 3)

    draft.usage, draft.timings = usage, timings
    draft.confidence, draft.confidence_evidence = _confidence(draft)
    draft.seconds = round(time.perf_counter() - started, 2)
    return draft
