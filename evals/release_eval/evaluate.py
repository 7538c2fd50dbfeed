"""Loading the model, running every (project, mode, release) job, merging rows with earlier
runs, aggregating, and the chart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evals.harness.run import progress_bar

from .chart import chart
from .config import MODES, PROJECTS, console
from .data import data_checks, pick_subset
from .metrics import aggregate, score
from .runs import RUNNERS, Recorder

Records = dict[str, list[dict[str, Any]]]
ByKey = dict[tuple[str, str], dict[str, Any]]


def load_model(settings: Any, run: dict[str, Any]) -> tuple[Any, Any, Recorder]:
    """The embedded chat model with a recorder, and the pinned product prompts; notes the model,
    load time and sampling settings in ``run``."""
    from assistant.prompting import load_prompt
    from assistant.providers.chat import build_chat_model, chat_model_name

    started = time.perf_counter()
    chat = build_chat_model(settings)
    chat._client()  # type: ignore[attr-defined]
    recorder = Recorder()
    chat.callbacks = [recorder]
    pinned = settings.prompt_versions
    prompts = tuple(load_prompt(name, pinned.get(name))
                    for name in ("release_lines", "translate_lines", "release_sections"))
    run.update(model=chat_model_name(chat),
               model_load_s=round(time.perf_counter() - started, 1),
               n_threads=getattr(chat, "n_threads", None),
               temperature=settings.llm.temperature, seed=settings.llm.seed,
               prompts=[p.ref for p in prompts])
    console.print(f"model {run['model']} loaded in {run['model_load_s']} s")
    return chat, prompts, recorder


def plan(records: Records, modes: list[str], releases: int
         ) -> list[tuple[str, str, dict[str, Any]]]:
    """(project, mode, record): every release for ``structure``, the smallest N for the rest."""
    jobs = []
    for project, recs in records.items():
        for mode in modes:
            chosen = recs if mode == "structure" else pick_subset(recs, releases)
            jobs += [(project, mode, r) for r in chosen]
    return jobs


def run_jobs(jobs: list[tuple[str, str, dict[str, Any]]], run_id: int, **context: Any
             ) -> list[dict[str, Any]]:
    """One scored row per job, with a progress bar (``context``: chat, settings, prompts,
    recorder)."""
    rows: list[dict[str, Any]] = []
    with progress_bar(console=console) as bar:
        overall = bar.add_task("releases", total=len(jobs))
        lines_task = bar.add_task("lines", total=1, visible=False)
        for project, mode, record in jobs:
            repo = PROJECTS[project]
            bar.update(overall, description=f"{project} {record['version']} {mode}")

            def on_line(done: int, total: int) -> None:
                bar.update(lines_task, completed=done, total=total, visible=True,
                           description="  lines")

            row = RUNNERS[mode](record, repo, on_line=on_line, **context)
            bar.update(lines_task, visible=False)
            row.update(project=project, version=record["version"], mode=mode, run=run_id,
                       n_commits=record["n_commits"])
            row["lines_per_s"] = row["lines"] / row["seconds"] if row["seconds"] else None
            row.update(score(row, record, repo))
            rows.append(row)
            bar.advance(overall)
            if mode != "structure":
                bar.console.print(
                    f"{project} {record['version']} {mode}: {row['lines']} lines in "
                    f"{row['seconds']:.0f} s, PR P/R {row['pr_precision']:.2f}/"
                    f"{row['pr_recall']:.2f}, chrF EN {row['chrf_en']:.1f} ZH {row['chrf_zh']:.1f}")
    return rows


def merge(data: dict[str, Any], fresh_rows: list[dict[str, Any]], run: dict[str, Any]) -> None:
    """Fresh rows replace earlier ones of the same project, version and mode; runs no row
    refers to any more are dropped."""
    fresh_keys = {(r["project"], r["version"], r["mode"]) for r in fresh_rows}
    data["rows"] = [r for r in data["rows"]
                    if (r["project"], r["version"], r["mode"]) not in fresh_keys] + fresh_rows
    data["runs"].append(run)
    used = {r["run"] for r in data["rows"]}
    data["runs"] = [r for r in data["runs"] if r["id"] in used]


def add_aggregates(data: dict[str, Any], projects: list[str], records: Records,
                   by_key: ByKey) -> None:
    """Aggregates over all releases per project and mode, over the releases every mode present
    ran on, and the data checks of every release."""
    rows = data["rows"]
    data["aggregates"] = {"all": {}, "subset": {}}
    for project in projects:
        for mode in MODES:
            mine = [r for r in rows if r["project"] == project and r["mode"] == mode]
            if mine:
                data["aggregates"]["all"][f"{project}/{mode}"] = aggregate(mine, by_key)
    # the releases every mode present has run on, per project
    data["subset"] = {}
    for project in projects:
        present = {r["mode"] for r in rows if r["project"] == project}
        if len(present) < 2:
            continue
        versions = set.intersection(*({r["version"] for r in rows if r["project"] == project
                                       and r["mode"] == m} for m in present))
        data["subset"][project] = sorted(versions, key=lambda v: by_key[(project, v)]["n_commits"])
        for mode in MODES:
            mine = [r for r in rows if r["project"] == project and r["mode"] == mode
                    and r["version"] in versions]
            if mine:
                data["aggregates"]["subset"][f"{project}/{mode}"] = aggregate(mine, by_key)
    data["data_checks"] = {f"{p}/{r['version']}": data_checks(r, PROJECTS[p])
                           for p, recs in records.items() for r in recs}


def write_chart(data: dict[str, Any], run: dict[str, Any], out: Path) -> bool:
    """release_notes.png under ``out`` (structure on all releases, every mode on the subset);
    False when there is nothing to draw."""
    groups = [(key.split("/")[0], "structure, all releases", agg)
              for key, agg in data["aggregates"]["all"].items() if key.endswith("/structure")]
    groups += [(key.split("/")[0], f"{key.split('/')[1]}, subset", agg)
               for key, agg in data["aggregates"]["subset"].items()]
    if not groups:
        return False
    who = run.get("model") or next((r["model"] for r in data["runs"] if r.get("model")), None)
    title = ("Release notes vs official changelogs (ant-design 6.x, APISIX minors); subset = "
             "releases run in every mode; model " + (who or "none") +
             f"; {run['machine']['cores']} cores")
    chart(groups, out / "release_notes.png", title)
    return True
