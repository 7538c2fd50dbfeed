"""The metrics every eval shares: ranks, recall@k, hit@k, MRR, percentiles, bootstrap intervals,
macro F1, and the text-overlap scores (chrF, character ROUGE-L) and the Node.js TSC reference
protocol of the meeting-notes eval.

Ranks are 1-based; ``None`` means "not in the ranking" (beyond the depth searched).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
from sacrebleu.metrics import CHRF

Rank = int | None

# ------------------------------------------------------------------------------ ranking


def rank_of(ranked: Sequence[str], gold: Collection[str]) -> Rank:
    """1-based rank of the first item of ``ranked`` that is in ``gold`` (None: none is)."""
    return next((i for i, item in enumerate(ranked, start=1) if item in gold), None)


def reciprocal_rank(rank: Rank) -> float:
    """1/rank, 0 when the gold item is not ranked."""
    return 1.0 / rank if rank else 0.0


def hit_at(rank: Rank, k: int) -> bool:
    """The gold item is among the first k."""
    return rank is not None and rank <= k


def recall_at(unit_ranks: Sequence[Rank], k: int) -> float:
    """Share of a query's gold units (each a set of equivalent items) ranked within k."""
    return sum(hit_at(r, k) for r in unit_ranks) / len(unit_ranks) if unit_ranks else 0.0


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean, 0 for no values."""
    data = list(values)
    return float(np.mean(data)) if data else 0.0


def mrr(ranks: Sequence[Rank]) -> float:
    """Mean reciprocal rank."""
    return mean(reciprocal_rank(r) for r in ranks)


def bootstrap_ci(values: Sequence[float], resamples: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean (fixed seed, so reruns agree)."""
    if not len(values):
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    data = np.asarray(values, dtype=float)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return (float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail)))


def ranking_metrics(ranks: Sequence[Rank], ks: Sequence[int], ci: bool = True
                    ) -> dict[str, float]:
    """One gold item per query: n, recall@k (= hit@k) and MRR, with MRR's 95% interval."""
    out: dict[str, float] = {"n": len(ranks)}
    for k in ks:
        out[f"R@{k}"] = mean(hit_at(r, k) for r in ranks)
    rr = [reciprocal_rank(r) for r in ranks]
    out["MRR"] = mean(rr)
    if ci:
        out["MRR_lo"], out["MRR_hi"] = bootstrap_ci(rr)
    return out


def unit_ranking_metrics(unit_ranks: Sequence[Sequence[Rank]], ks: Sequence[int]
                         ) -> dict[str, float]:
    """Several gold units per query (each unit: its best rank): n, recall@k (share of a query's
    units within k), hit@k (any unit within k) and MRR of the best unit, averaged over queries,
    with MRR's 95% interval."""
    out: dict[str, float] = {"n": len(unit_ranks)}
    best = [min((r for r in units if r is not None), default=None) for units in unit_ranks]
    for k in ks:
        out[f"R@{k}"] = mean(recall_at(units, k) for units in unit_ranks)
    for k in ks:
        out[f"hit@{k}"] = mean(hit_at(r, k) for r in best)
    rr = [reciprocal_rank(r) for r in best]
    out["MRR"] = mean(rr)
    out["MRR_lo"], out["MRR_hi"] = bootstrap_ci(rr)
    return out


# ------------------------------------------------------------------------------ distributions


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between the closest ranks (numpy's
    default); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 90, 99)
                ) -> dict[str, float]:
    """``{"p50": …, "p90": …, "p99": …}``."""
    return {f"p{q:g}": percentile(values, q) for q in qs}


# ------------------------------------------------------------------------------ classification


def macro_f1(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str]
             ) -> tuple[float, dict[str, float]]:
    """Macro F1 over ``classes`` and the F1 of each."""
    per = {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        per[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return float(np.mean(list(per.values()))), per


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10
                               ) -> float:
    """ECE of a top label's confidence against whether it was right (equal-width bins)."""
    total = 0.0
    for lo, hi in itertools.pairwise(np.linspace(0, 1, bins + 1)):
        m = (confidence > lo) & (confidence <= hi)
        if m.any():
            total += m.mean() * abs(confidence[m].mean() - correct[m].mean())
    return round(float(total), 4)


def precision_recall(hit: int, ours: int, reference: int) -> tuple[float | None, float | None]:
    """Precision hit/ours and recall hit/reference (None where the denominator is 0)."""
    return (hit / ours if ours else None, hit / reference if reference else None)


# ------------------------------------------------------------------------------ text overlap

CHRF_EN = CHRF()  # chrF: character 6-grams, beta 2, no word n-grams
CHRF_ZH = CHRF(char_order=6, word_order=0)  # CJK has no spaces between words


def chrf_chars(hypothesis: str, reference: str) -> float:
    """Character chrF (no word n-grams) of one segment."""
    return CHRF_ZH.sentence_score(hypothesis, [reference]).score


def _chars(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence (Hyyrö's bit-parallel algorithm)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def rouge_l_chars(hypothesis: str, reference: str) -> float:
    """ROUGE-L F1 over characters (whitespace removed)."""
    hyp, ref = _chars(hypothesis), _chars(reference)
    lcs = lcs_length(ref, hyp)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


# ------------------------------------------------------------------------------ Node.js TSC
# The reference protocol for decisions and action items in meeting notes (evals/meeting_notes.py
# describes it): which lines of a note state an action or a decision.

_SKIP_SECTIONS = re.compile(r"^(links|present|upcoming meetings|reminders)$", re.I)
_ACTION_TAIL = (r"\s*:?\s*(?:I\s+)?(?:will|'ll|to)\s+(?!be\b|not\b|still\b)[a-z]+|"
                r"\bvolunteer(?:s|ed)? to\b|\bwill take (?:an? )?action\b|\bI will take care\b")
_DECISION_REF = re.compile(
    r"\b(agreed|we decided|decision made|no objections?|consensus (?:is|was|seems|to)|"
    r"general consensus|(?:was|were|is|been|got) approved|resolved to)\b", re.I)
_NEGATION = re.compile(r"\b(not|no|never|whether|if)\b|n't", re.I)


def _logical_lines(text: str) -> list[tuple[int, str, str]]:
    """(first line number, text, section) per bullet or text line; wrapped bullets joined."""
    section = ""
    logical: list[tuple[int, str, str]] = []
    previous_bullet = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if m := re.match(r"^#{1,6}\s+(.*)$", raw):
            section, previous_bullet = m.group(1).strip(), False
            continue
        if not raw.strip():
            previous_bullet = False
            continue
        bullet = re.match(r"^\s*(?:[-*+]|\d+\.)\s+", raw)
        if not bullet and raw[:1].isspace() and previous_bullet:
            first, joined, where = logical[-1]
            logical[-1] = (first, f"{joined} {raw.strip()}", where)
            continue
        previous_bullet = bool(bullet)
        logical.append((number, raw[bullet.end():] if bullet else raw.strip(), section))
    return logical


def reference_lines(text: str) -> dict[int, set[str]]:
    """Line number → the kinds ("action", "decision") the TSC protocol finds on it."""
    found: dict[int, set[str]] = {}
    present = re.search(r"^## Present\s*$(.*?)^## ", text, re.M | re.S)
    names = {m.group(1) for m in re.finditer(r"^\s*[-*]\s+([A-Z][\w'’-]+)",
                                            present.group(1) if present else "", re.M)}
    subject = "|".join(map(re.escape, sorted(names | {"I"}, key=len, reverse=True)))
    action = re.compile(rf"(?:^|[,;.]\s+|\band\s+)(?:{subject})(?: [A-Z][\w'’-]+)?"
                        + _ACTION_TAIL)
    for number, line, section in _logical_lines(text):
        if _SKIP_SECTIONS.match(section):
            continue
        line = line.strip()
        kinds = set()
        if line.rstrip().endswith("?"):
            continue
        if action.search(line) and not re.search(r"\bwill not\b|\bwon't\b", line):
            kinds.add("action")
        for m in _DECISION_REF.finditer(line):
            before = line[max(0, m.start() - 30):m.start()]
            if not _NEGATION.search(before):
                kinds.add("decision")
                break
        if kinds:
            found[number] = kinds
    return found


def score_extraction(items: list[dict[str, Any]], reference: dict[int, set[str]]
                     ) -> dict[str, Any]:
    """Counts per kind (and kind-agnostic): our items, reference lines, hits by line number."""
    out: dict[str, Any] = {}
    for kind in ("decision", "action"):
        ours = {i["line"] for i in items if i["kind"] == kind}
        ref = {n for n, kinds in reference.items() if kind in kinds}
        out[kind] = {"ours": len(ours), "reference": len(ref), "hit": len(ours & ref)}
    ours_any = {i["line"] for i in items if i["kind"] in ("decision", "action")}
    out["any"] = {"ours": len(ours_any), "reference": len(reference),
                  "hit": len(ours_any & set(reference))}
    return out
