"""Code-level measures of triage drafts against the set's gold (pure functions, tested)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.textrules import ACTION_CLAIM, PROMISE

from .data import key, target_key

# Labels set by later activity (a bot, a maintainer waiting on the reporter), not by the
# report itself: scored apart.
PROCESS_LABELS = frozenset({
    "stale", "no response", "wait for update", "waiting", "user responded", "checking",
    "wait for reproduce", "can't reproduce", "work as expected",
})
SHOWN = 3  # a draft shows at most triage.max_duplicates (3) duplicates + related
THANKS_DOCS = re.compile(
    r"\bthanks?\b[^.!?\n]{0,80}\b(?:docs?|documentation|passages?|excerpts?|context|"
    r"information (?:you )?provided|materials?|references?|resources?)\b|"
    r"(?:感谢|谢谢)[^。！？\n]{0,30}(?:文档|资料|段落|片段|摘录|参考)",
    re.IGNORECASE,
)


def prf(tp: int, predicted: int, gold: int) -> dict[str, Any]:
    """Micro precision, recall, F1 (None where undefined) with the counts."""
    p = tp / predicted if predicted else None
    r = tp / gold if gold else None
    f1 = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"tp": tp, "predicted": predicted, "gold": gold,
            "P": None if p is None else round(p, 3), "R": None if r is None else round(r, 3),
            "F1": None if f1 is None else round(f1, 3)}


def label_scores(pairs: Sequence[tuple[Iterable[str], Iterable[str]]],
                 process: bool = False) -> dict[str, Any]:
    """Micro P/R/F1 of predicted vs gold label sets over issues, content labels only or
    (``process``) process labels only."""
    tp = predicted = gold = 0
    for pred, real in pairs:
        keep = (lambda n: n in PROCESS_LABELS) if process else \
            (lambda n: n not in PROCESS_LABELS)
        p, g = {n for n in pred if keep(n)}, {n for n in real if keep(n)}
        tp, predicted, gold = tp + len(p & g), predicted + len(p), gold + len(g)
    return {**prf(tp, predicted, gold), "issues": len(pairs)}


def dup_targets(record: dict[str, Any]) -> list[str]:
    """Scorable duplicate targets: ``in_set_targets`` created earlier than the query."""
    return [t["target"] for t in record["gold"]["in_set_targets"] if t["target_created_earlier"]]


def all_links(record: dict[str, Any]) -> set[str]:
    """Every issue a maintainer or the reporter tied to this one (duplicate_of, same_report_as,
    related): a "likely duplicate" flag on any of them counts as right."""
    gold = record["gold"]
    repo = record.get("repository") or "apache/apisix"
    return {target_key(t, repo)
            for t in [*gold["duplicate_of"], *gold["same_report_as"], *gold["related"]]}


def recall_at(queries: Sequence[tuple[Sequence[str], Sequence[str]]],
              k: int = SHOWN) -> dict[str, Any]:
    """Share of gold targets among the first k shown, over (shown, targets) queries."""
    found = total = 0
    for shown, targets in queries:
        top = set(shown[:k])
        found += sum(t in top for t in targets)
        total += len(targets)
    return {"found": found, "targets": total, "queries": len(queries),
            f"recall@{k}": round(found / total, 3) if total else None}


def flag_precision(flags: Sequence[tuple[Sequence[str], set[str]]]) -> dict[str, Any]:
    """Precision of "likely duplicate" flags over drafts: (flagged keys, linked keys) each."""
    flagged = sum(len(f) for f, _ in flags)
    right = sum(sum(x in links for x in f) for f, links in flags)
    return {"flags": flagged, "right": right, "drafts_flagging": sum(bool(f) for f, _ in flags),
            "drafts": len(flags), "precision": round(right / flagged, 3) if flagged else None}


def page(path: str | None) -> str | None:
    """A docs page independent of language and prefix: the part after ``latest/`` (or the
    path itself)."""
    if not path:
        return None
    path = path.split("#", 1)[0].strip("/")
    return path.split("latest/", 1)[1] if "latest/" in path else path


def doc_hit(docs: Sequence[dict[str, Any]], gold_paths: Iterable[str | None]) -> dict[str, bool]:
    """Whether a gold page (either language) is cited, or only shown, among a draft's docs."""
    gold = {page(p) for p in gold_paths} - {None}
    return {"cited": any(d.get("cited") and page(d.get("path")) in gold for d in docs),
            "shown": any(page(d.get("path")) in gold for d in docs)}


def share(flags: Sequence[bool]) -> dict[str, Any]:
    return {"n": len(flags), "yes": sum(flags),
            "share": round(sum(flags) / len(flags), 3) if flags else None}


def reply_flags(text: str) -> dict[str, bool]:
    """What the code rules find in a reply: a promise, an action claim, thanks for the docs."""
    return {"promise": bool(PROMISE.search(text)), "action_claim": bool(ACTION_CLAIM.search(text)),
            "thanks_docs": bool(THANKS_DOCS.search(text))}


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """P(a positive scores above a negative), ties half (the Mann-Whitney AUC)."""
    if not positive or not negative:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return round(wins / (len(positive) * len(negative)), 3)


def answerable(record: dict[str, Any]) -> list[str]:
    """The gold doc pages of a record (links whose page exists in the corpus)."""
    return [d["path"] for d in record["gold"]["doc_links"] if d.get("path")]


def by_key(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key(r): r for r in records}
