"""The run: build the indexes, draft past leave-one-out queries and the incoming issues in
creation order with every system, then score (see the package docstring)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.context import AppContext
from assistant.forge.shapes import IssueInput
from assistant.kinds.triage.kind import triage_prompts
from assistant.providers.chat import build_chat_model
from assistant.providers.vector_index import VectorIndex
from assistant.settings import Settings

from . import build
from .data import (
    key,
    load,
    maintainer_comments,
    maintainers,
    public,
    split,
    title_body_only,
    triage_input,
)
from .judge import judge_items, write_items
from .measures import PROCESS_LABELS, answerable, by_key, dup_targets
from .report import language_function, latency_chart, summarise, table
from .systems import Drafting, draft_row, has_reply_mode

PROJECT, POOL = "apisix", "apisix-pool"
Indexer = Callable[[VectorIndex, Any, Settings], Any]


def triaged_indexer() -> Indexer | None:
    """What the product does after a triage draft (``ingest.service.index_incoming_issue``)
    where the code has it: the next issue can then find this one."""
    try:
        from ingest.service import index_incoming_issue
    except ImportError:
        return None
    return lambda index, issue, settings: index_incoming_issue(settings, index, issue)


def answered(records: Sequence[dict[str, Any]]) -> set[str]:
    """Keys of incoming issues a maintainer answered (selection only: the loop never sees
    the answer)."""
    return {key(r) for r in records if r["gold"]["maintainer_answer"].strip()}


def run_settings(run: Any, past: list[dict[str, Any]]) -> Settings:
    args = run.args
    project = {"repo": "apache/apisix", "ref": "master", "maintainers": maintainers(past)}
    return run.settings(profile="test" if args.fake else args.profile, project=PROJECT,
                        projects={PROJECT: project, POOL: project})


def draft_incoming(job: Drafting, systems: Sequence[str], incoming: Sequence[dict[str, Any]],
                   selected: set[str], indexer: Indexer | None,
                   note: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Each selected issue drafted by every system, in creation order; every issue up to the
    last selected is indexed after its drafts when the code can (``indexer``). ``incoming``
    must be public records (no gold)."""
    if any("gold" in r for r in incoming):
        raise ValueError("the drafting loop must not be given gold")
    last = max((n for n, r in enumerate(incoming) if key(r) in selected), default=-1)
    rows = []
    for record in incoming[:last + 1]:
        issue = triage_input(record)
        if key(record) in selected:
            for system in systems:
                row = {"key": key(record), "split": "incoming", **draft_row(system, job, issue)}
                rows.append(row)
                note(json.dumps({k: row[k] for k in ("system", "key", "seconds", "fallback",
                                                     "language")}))
        if indexer is not None:
            indexer(job.index, issue, job.settings)
    return rows


def _leave_one_out(job: Drafting, systems: Sequence[str], records: list[dict[str, Any]],
                   stops: set[str], folder: Path, **options: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def at_stop(record: dict[str, Any]) -> None:
        issue = triage_input(public(record), labels=False)  # a past issue's labels came later
        for system in systems:
            rows.append({"key": key(record), "split": record["gold"]["split"],
                         **draft_row(system, job, issue)})

    build.ingest_in_order(job.settings, job.index, records, stops, at_stop, folder, **options)
    return rows


def evaluate(run: Any, systems: Sequence[str]) -> str:
    args = run.args
    records = load(args.data)
    past, incoming = split(records)
    if args.docs is None:
        if not (args.seed / build.READY).is_file():
            raise SystemExit(f"the seed {args.seed} is not READY (or pass --docs)")
        build.copy_seed(args.seed, run.data_dir)
    settings = run_settings(run, past)
    ctx = AppContext(settings)
    index = ctx.index(PROJECT)
    lines = build.ingest_doc_folder(settings, index, args.docs) if args.docs else \
        [f"docs: seed {args.seed} ({index.count()} passages)"]
    root = build.stage_project(args.data, run.tmp / "project")
    lines += build.project_files(index, root)
    job = Drafting(settings, index, ctx.chat_model(), triage_prompts(ctx),
                   maintainer_comments(past))
    loo = not args.no_loo
    docs_stops = {key(r) for r in past if answerable(r)} if loo else set()
    docs_loo = _leave_one_out(job, systems, past, docs_stops, run.tmp / "past")
    lines.append(f"past issues ingested: {len(past)}; index {index.count()} passages")

    dup_loo: list[dict[str, Any]] = []
    product = [s for s in systems if s != "naive"]
    if loo and product:
        pool = ctx.index(POOL)
        build.project_files(pool, root)
        fake = build_chat_model(settings.model_copy(update={
            "llm": settings.llm.model_copy(update={"provider": "fake"})}))
        pool_job = Drafting(settings, pool, fake, job.prompts, job.past_comments)
        dup_loo = _leave_one_out(pool_job, product, records,
                                 {key(r) for r in records if dup_targets(r)},
                                 run.tmp / "pool", shape=title_body_only, last=False)

    selected = answered(incoming) if args.only_answered else {key(r) for r in incoming}
    if args.limit:
        selected = {key(r) for r in incoming if key(r) in selected}
        selected = set(sorted(selected, key=[key(r) for r in incoming].index)[:args.limit])
    indexer = triaged_indexer()
    rows = draft_incoming(job, systems, [public(r) for r in incoming], selected, indexer)
    return score_run(run, systems, records, rows, docs_loo, dup_loo, {
        "systems": list(systems), "reply_mode_setting": has_reply_mode(settings),
        "index_triaged_issue": indexer is not None, "only_answered": args.only_answered,
        "form_labels_passed": "labels" in IssueInput.model_fields,
        "limit": args.limit, "fake": args.fake, "leave_one_out": loo,
        "maintainers": settings.project_settings(PROJECT).model_dump().get("maintainers"),
        "index": lines, "model": job.chat.__class__.__name__,
        "embedder": index.embedder.identity,
    })


def score_run(run: Any, systems: Sequence[str], records: list[dict[str, Any]],
              rows: list[dict[str, Any]], docs_loo: list[dict[str, Any]],
              dup_loo: list[dict[str, Any]], config: dict[str, Any]) -> str:
    """Scoring (gold is read from here on), the judge's items, report and chart."""
    gold = by_key(records)
    form = {key(r): r["gold"].get("form_labels") or [] for r in records}
    summaries = {s: summarise([r for r in rows if r["system"] == s], gold, form,
                              [r for r in docs_loo if r["system"] == s],
                              [r for r in dup_loo if r["system"] == s]) for s in systems}
    items, keys = judge_items(rows, gold, run.git.get("commit") or "unknown")
    write_items(run.out, items, keys)
    latency_chart({s: [r["seconds"] for r in rows if r["system"] == s] for s in systems},
                  run.path("latency.png"))
    languages = language_function(records)
    pool_note = ("past issues with comments" + (" + incoming issues triaged before it "
                 "(index_triaged_issue)" if config["index_triaged_issue"] else
                 "; incoming issues are not indexed by this code, so incoming targets are "
                 "out of reach"))
    lines = [
        "Data: ../shared/evaldata/triage_real/apisix (protocol in its README; docs: see Index "
        "below). Incoming issues drafted from title + body + author"
        + (" + form labels" if config["form_labels_passed"] else " (this code takes no labels "
           "on an incoming issue)") + "; protocol, rubric: docs/triage_eval.md.",
        "", f"Systems: {', '.join(systems)}; reply_mode setting in this code: "
        f"{config['reply_mode_setting']}; index_triaged_issue: {config['index_triaged_issue']}; "
        f"only answered: {config['only_answered']}; limit: {config['limit']}.", "",
        *table(summaries), "",
        f"Duplicates (incoming): pool = {pool_note}. Dup LOO pool: every issue of the set "
        "created before the query (same day: lower number first), title + body only; queries "
        "= `in_set_targets` with `target_created_earlier`; drafted with a fake chat model (the "
        "duplicates come from code). A flag is right when it names a `duplicate_of`, "
        "`same_report_as` or `related` issue.",
        "Docs (past LOO): each past issue with a docs link drafted from title + body against "
        "the docs and the past issues created before it. Past data may have been used to tune "
        "the product: in-sample.",
        "Labels: process labels (" + ", ".join(sorted(PROCESS_LABELS)) + ") are scored "
        "apart. The promise/action/thanks counts are the code's regexes on the posted reply; "
        "the judge's counts are in the scored report.", "",
        f"Language function on all {languages['all']['n']} issues (title + body, no model): "
        f"{languages['all']['share']} right; zh {languages['zh']['share']} "
        f"(n={languages['zh']['n']}); mixed {languages['lang_mixed']['share']} "
        f"(n={languages['lang_mixed']['n']}).", "",
        f"Blind rubric: {len(items)} items in `judge_items.jsonl` (key in `judge_key.json`); "
        "score with `python -m evals.triage_real score --judgments FILE --run "
        f"{run.out}`.", "", "![latency](latency.png)", "", "Index: " + "; ".join(
            config["index"]),
    ]
    payload = {"config": config, "summaries": summaries, "language_function": languages,
               "drafts": rows, "docs_loo": docs_loo, "dup_loo": dup_loo}
    return run.write(payload, "Triage on real APISIX issues", lines)
