"""Bilingual release notes against the maintainers' own: PR selection, chrF EN, character chrF
ZH, glossary consistency and time, for three ways of writing them.

    .venv/bin/python evals/release_notes.py --modes structure
    .venv/bin/python evals/release_notes.py --modes model,naive --releases 2

Data: ``../shared/evaldata/release_notes/{antd,apisix}_releases.jsonl`` (31 ant-design 6.x
releases, 12 APISIX minors): the commit subjects of each range, and the official EN and ZH
changelog sections as the reference. Modes:

- ``structure``: no model; ``changes_from_json`` + ``assemble``, each line is the cleaned change
  title (the ZH notes are those English titles, untranslated). All releases by default.
- ``model``: the product pipeline with the embedded local model: ``phrase_notes`` rewrites each
  line in English and translates it to Chinese (one checked call each, fallback to the title).
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
The code lives in ``evals/release_eval/``; this file is the command line.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.release_eval.config import CHART_COPY, MODES, PROJECTS, console  # noqa: E402
from evals.release_eval.data import load_records  # noqa: E402
from evals.release_eval.evaluate import (  # noqa: E402
    add_aggregates,
    load_model,
    merge,
    plan,
    run_jobs,
    write_chart,
)
from evals.release_eval.report import machine, report  # noqa: E402
from evals.release_eval.selection import selection_breakdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="structure",
                        help="Comma-separated: structure, model, naive (default: structure).")
    parser.add_argument("--releases", type=int, default=3,
                        help="model/naive: the N smallest releases per project (by commits).")
    parser.add_argument("--projects", default="antd,apisix")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "release_notes")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Data dir holding the assembled model (default: the user data dir).")
    parser.add_argument("--fresh", action="store_true", help="Drop rows of earlier runs.")
    parser.add_argument("--no-copy", action="store_true",
                        help="Do not copy the chart to docs/img/release_notes_eval.png.")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode(s) {bad}; use {', '.join(MODES)}")
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    if bad := [p for p in projects if p not in PROJECTS]:
        parser.error(f"unknown project(s) {bad}; use {', '.join(PROJECTS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    command = ".venv/bin/python evals/release_notes.py " + shlex.join(sys.argv[1:])
    records = load_records(projects)
    by_key = {(p, r["version"]): r for p, recs in records.items() for r in recs}

    results = args.out / "results.json"
    data: dict[str, Any] = {"runs": [], "rows": []}
    if results.exists() and not args.fresh:
        data = json.loads(results.read_text())
        data["rows"] = [r for r in data["rows"] if (r["project"], r["version"]) in by_key]
    run_id = max((r["id"] for r in data["runs"]), default=0) + 1
    run: dict[str, Any] = {"id": run_id, "command": command, "modes": modes,
                           "started": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine(), "model": None}

    from assistant.settings import get_settings

    settings = get_settings(profile="demo", **({"data_dir": args.data_dir}
                                               if args.data_dir else {}))
    chat = prompts = recorder = None
    if {"model", "naive"} & set(modes):
        chat, prompts, recorder = load_model(settings, run)
    data["n_ctx"] = settings.llm.n_ctx

    wall = time.perf_counter()
    fresh_rows = run_jobs(plan(records, modes, args.releases), run_id, chat=chat,
                          settings=settings, prompts=prompts, recorder=recorder)
    run["wall_s"] = time.perf_counter() - wall
    run["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    merge(data, fresh_rows, run)
    add_aggregates(data, projects, records, by_key)
    data["selection"] = selection_breakdown(records)
    write_chart(data, run, args.out, copy=not args.no_copy)

    checks = {tuple(k.split("/", 1)): v for k, v in data["data_checks"].items()}
    text = report({**data, "data_checks": checks}, by_key, args.out)
    for row in data["rows"]:
        row.pop("glossary_pairs", None)
    results.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    print(text.split("## Per release")[0])
    console.print(f"wrote {args.out}/report.md, results.json, release_notes.png"
                  + ("" if args.no_copy else f"; chart copied to {CHART_COPY.relative_to(ROOT)}"))
    console.print(f"reproduce: {command}")


if __name__ == "__main__":
    main()
