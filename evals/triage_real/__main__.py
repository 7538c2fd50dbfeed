"""Command line of ``python -m evals.triage_real`` (run, ``judge-items``, ``score``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.harness.run import ROOT, EvalRun, markdown_table

from . import __doc__ as DOC
from .judge import SEED, join, merge_items, read_judgments, rubric_table
from .report import rubric_chart
from .systems import SYSTEMS

NAME = "triage_real"
DEFAULT_SEED = Path("/work/evalcache/apisix-docs")


def _systems(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SYSTEMS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"systems are a comma list of {', '.join(SYSTEMS)}")
    return names


def _out_parts(args: argparse.Namespace) -> list[str]:
    tag = "+".join(args.systems) + ("-answered" if args.only_answered else "") + \
        (f"-limit{args.limit}" if args.limit else "") + ("-fake" if args.fake else "")
    return [tag]


def run_main(argv: list[str]) -> str:
    parser = EvalRun.parser(NAME, DOC)
    parser.add_argument("--systems", type=_systems, default=["pieces", "naive"],
                        help=f"comma list of {', '.join(SYSTEMS)} (default: pieces,naive)")
    parser.add_argument("--only-answered", action="store_true",
                        help="draft only incoming issues a maintainer answered (the rubric's)")
    parser.add_argument("--limit", type=int, default=0, help="draft at most N incoming issues")
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED,
                        help="data dir with the APISIX docs ingested (needs a READY file)")
    parser.add_argument("--docs", type=Path, default=None,
                        help="ingest this docs folder instead of copying the seed")
    parser.add_argument("--profile", default=None, help="settings profile (default: none)")
    parser.add_argument("--no-loo", action="store_true",
                        help="skip the past leave-one-out drafts (docs and duplicates)")
    parser.add_argument("--fake", action="store_true",
                        help="the test profile: fake chat model, fast embedder (tests)")
    from .loop import evaluate

    with EvalRun.start(NAME, parser, argv, model=True, clean_env=True,
                       out_parts=_out_parts) as run:
        return evaluate(run, run.args.systems)


def judge_items_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m evals.{NAME} judge-items",
                                     description="Merge runs' blind items, reshuffled.")
    parser.add_argument("command", choices=["judge-items"])
    parser.add_argument("--run", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    items = merge_items(args.run, args.seed)
    args.out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
                        encoding="utf-8")
    print(f"wrote {len(items)} items to {args.out}")


def _load_run(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    keys = json.loads((folder / "judge_key.json").read_text(encoding="utf-8"))
    return results, keys


def score_main(argv: list[str]) -> str:
    parser = EvalRun.parser(NAME, "Join blind judgments with runs' keys; the side-by-side.")
    parser.add_argument("command", choices=["score"])
    parser.add_argument("--judgments", type=Path, default=None,
                        help="JSON Lines: id, score 0/1/2, reason, promise, action_claim, "
                             "unsupported_claim, thanks_docs")
    parser.add_argument("--run", type=Path, action="append", required=True,
                        help="a run's output folder (repeat for several)")
    from .report import latency_chart, table

    with EvalRun.start(NAME, parser, argv, temp_data_dir=False) as run:
        loaded = [_load_run(f if f.is_absolute() else ROOT / f) for f in run.args.run]
        commits = [(r["run"]["git"].get("commit") or "unknown")[:10] for r, _ in loaded]
        names = [n for r, _ in loaded for n in r["summaries"]]
        twice = {n for n in names if names.count(n) > 1}  # the same system at two commits
        summaries: dict[str, Any] = {}
        seconds: dict[str, list[float]] = {}
        keys: dict[str, Any] = {}
        for (results, run_keys), commit in zip(loaded, commits, strict=True):
            for name, summary in results["summaries"].items():
                label = f"{name}@{commit}" if name in twice else name
                summaries[label] = summary
                seconds[label] = [d["seconds"] for d in results["drafts"] if d["system"] == name]
            keys |= run_keys
        latency_chart(seconds, run.path("latency.png"))
        commands = [f"`{r['run']['command']}` (code {c})" for (r, _), c in zip(loaded, commits,
                                                                              strict=True)]
        lines = ["Runs: " + "; ".join(commands), "", "## Code-level figures", "",
                 *table(summaries), "", "![latency](latency.png)", ""]
        payload: dict[str, Any] = {"runs": [str(r) for r in run.args.run],
                                   "summaries": summaries}
        if run.args.judgments:
            joined, unjudged = join(read_judgments(run.args.judgments), keys)
            rubric = rubric_table(joined)
            latency = {name: summaries.get(name, {}).get("latency_s", {}) for name in rubric}
            rubric_chart(rubric, latency, run.path("rubric.png"))
            headers = ["system", "n", "% 2", "% 1", "% 0", "mean", "harmful", "promise",
                       "action claim", "unsupported claim", "thanks docs",
                       "confidence AUC (2 over 0)"]
            lines += ["## Blind rubric (docs/triage_eval.md)", "", *markdown_table(headers, [
                [n, r["n"], r["%2"], r["%1"], r["%0"], r["mean"], r["harmful"], r["promise"],
                 r["action_claim"], r["unsupported_claim"], r["thanks_docs"],
                 r["confidence_auc_2_over_0"]] for n, r in rubric.items()]), "",
                f"Unjudged items: {len(unjudged)}.", "", "![rubric](rubric.png)", "",
                "## Judgments", "", *markdown_table(["system", "issue", "score", "reason"], [
                    [j["system"], j["key"], j["score"], j["reason"].replace("|", "/")]
                    for j in sorted(joined, key=lambda j: (j["key"], j["system"]))])]
            payload |= {"rubric": rubric, "judgments": joined, "unjudged": unjudged}
        return run.write(payload, "Triage on real APISIX issues: side by side", lines)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["score"]:
        score_main(argv)
    elif argv[:1] == ["judge-items"]:
        judge_items_main(argv)
    else:
        run_main(argv)


if __name__ == "__main__":
    main()
