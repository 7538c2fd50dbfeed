"""Bilingual release notes against the maintainers' own: PR selection, chrF EN, character chrF
ZH, glossary consistency and time, for three ways of writing them.

    python -m evals.release_notes --modes structure
    flock /tmp/devrel-model.lock python -m evals.release_notes --modes model,naive --releases 2

Data: ``../shared/evaldata/release_notes/{antd,apisix}_releases.jsonl`` (31 ant-design 6.x
releases, 12 APISIX minors): the commit subjects of each range, and the official EN and ZH
changelog sections as the reference. Modes:

- ``structure``: no model; ``changes_from_json`` + ``assemble``, each line is the cleaned change
  title (the ZH notes are those English titles, untranslated). All releases by default.
- ``model``: the product pipeline with the embedded local model: ``phrase_batched`` keeps the
  clean titles, rewrites the other lines in English and translates every line to Chinese, in
  numbered batches (each answer line checked, fallback to the title; no phrase cache).
- ``naive``: the same model, one prompt with all input commit subjects asking for grouped
  English notes, then one prompt translating that text to Chinese; the subject list is cut to
  fit the 4,096-token context.

``model`` and ``naive`` run on the ``--releases`` smallest releases of each project (by commit
count). Only the non-changelog commits of a range reach a model (``is_changelog_commit`` and the
release's own commits are dropped by ``changes_from_json``; the record handed to it holds only
``version``, ``previous_tag`` and ``commits``); the official sections are read for scoring only.

Rows of earlier runs are kept in ``results.json`` (same project, version and mode: replaced), so
a structure run on everything and a model run on a few releases make one report; ``--fresh``
starts over. Writes report.md, results.json and release_notes.png under --out and copies the
chart to docs/img/release_notes_eval.png.

The report also breaks down where PR precision is lost in the code's selection (structure,
all releases): our cited PRs the official section does not cite, and the official PRs we miss,
by section, classification, conventional type and scope, with candidate per-project policies.
The code lives in ``evals/release_eval/``; this module is the command line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from evals.harness.run import EvalRun
from evals.release_eval.config import CHART_COPY, MODES, PROJECTS
from evals.release_eval.data import load_records
from evals.release_eval.evaluate import (
    add_aggregates,
    load_model,
    merge,
    plan,
    run_jobs,
    write_chart,
)
from evals.release_eval.report import report
from evals.release_eval.selection import selection_breakdown


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("release_notes", __doc__, data_dir=True)
    parser.add_argument("--modes", default="structure",
                        help="Comma-separated: structure, model, naive (default: structure).")
    parser.add_argument("--releases", type=int, default=3,
                        help="model/naive: the N smallest releases per project (by commits).")
    parser.add_argument("--projects", default="antd,apisix")
    parser.add_argument("--fresh", action="store_true", help="Drop rows of earlier runs.")
    parser.add_argument("--no-copy", action="store_true",
                        help=f"Do not copy the chart to {CHART_COPY}.")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode(s) {bad}; use {', '.join(MODES)}")
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    if bad := [p for p in projects if p not in PROJECTS]:
        parser.error(f"unknown project(s) {bad}; use {', '.join(PROJECTS)}")
    # the model lives in the user data dir unless --data-dir names another
    with EvalRun.start("release_notes", parser, argv, model=bool({"model", "naive"} & set(modes)),
                       temp_data_dir=False) as run:
        evaluate(run, modes, projects)


def evaluate(run: EvalRun, modes: list[str], projects: list[str]) -> None:
    args = run.args
    records = load_records(args.data, projects)
    by_key = {(p, r["version"]): r for p, recs in records.items() for r in recs}

    results = run.path("results.json")
    data: dict[str, Any] = {"runs": [], "rows": []}
    if results.exists() and not args.fresh:
        data = json.loads(results.read_text())
        data.pop("run", None)
        data["rows"] = [r for r in data["rows"] if (r["project"], r["version"]) in by_key]
    run_id = max((r["id"] for r in data["runs"]), default=0) + 1
    this: dict[str, Any] = {"id": run_id, "command": run.command, "modes": modes,
                            "started": run.started_at, "machine": run.machine, "git": run.git,
                            "model": None}
    settings = run.settings(profile="demo")
    chat = prompts = recorder = None
    if {"model", "naive"} & set(modes):
        chat, prompts, recorder = load_model(settings, this)
    data["n_ctx"] = settings.llm.n_ctx

    wall = time.perf_counter()
    fresh_rows = run_jobs(plan(records, modes, args.releases), run_id, chat=chat,
                          settings=settings, prompts=prompts, recorder=recorder)
    this["wall_s"] = time.perf_counter() - wall
    this["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    merge(data, fresh_rows, this)
    add_aggregates(data, projects, records, by_key)
    data["selection"] = selection_breakdown(records)
    drawn = write_chart(data, this, run.out)

    checks = {tuple(k.split("/", 1)): v for k, v in data["data_checks"].items()}
    lines = report({**data, "data_checks": checks}, by_key)
    for row in data["rows"]:
        row.pop("glossary_pairs", None)
    text = run.write(data, "Release notes against the official changelogs", lines)
    print(text.split("## Per release")[0])
    if drawn:
        run.copy_to(run.path("release_notes.png"), None if args.no_copy else CHART_COPY)


if __name__ == "__main__":
    main()
