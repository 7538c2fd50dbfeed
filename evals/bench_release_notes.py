"""Release notes at real size: a range of this repository's own history (100 changes, EN + ZH)
with the embedded model, three ways side by side in one run.

    flock /tmp/devrel-model.lock python -m evals.bench_release_notes [--repo /work/main]
        [--changes 100] [--paths naive,per-line,batched,batched-rerun]
        [--chart docs/img/release_notes_speed.png]

- ``naive``: the whole change list in one prompt ("write grouped notes"), then one prompt
  translating the answer (the peer baseline of ``evals/release_notes.py``, cut to n_ctx);
- ``per-line``: the old product path: the model places each unplaced change in its own call,
  then rewrites and translates every line, one checked call each;
- ``batched``: the product path now: sections, rewrites of the lines that are not clean titles
  and translations, several lines per checked call, with a fresh phrase cache;
- ``batched-rerun``: the same notes again on that cache (a re-run: nothing should be asked).

The model is loaded once (load time reported apart). Writes report.md, results.json and
release_notes_speed.png under results/bench_release_notes/ (the chart also to --chart).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from assistant.chains.generate import Usage
from assistant.kinds.release_notes.cache import PhraseCache
from assistant.kinds.release_notes.chain import model_fallback, phrase_notes
from assistant.kinds.release_notes.models import Change
from assistant.kinds.release_notes.notes import assemble, render_markdown
from assistant.kinds.release_notes.phrase import phrase_batched
from assistant.kinds.release_notes.sections import model_sections, unplaced
from assistant.kinds.release_notes.sources import changes_from_git
from assistant.project_files import Glossary
from assistant.prompting import load_prompt
from assistant.providers.chat import build_chat_model, chat_model_name
from assistant.textrules import CJK
from evals.harness.run import EvalRun, console, markdown_table, progress_bar, pyplot
from evals.release_eval.glossary import subject_glossary
from evals.release_eval.naive import run_naive

PATHS = ("naive", "per-line", "batched", "batched-rerun")
GOAL_S = 180.0
CHART = "release_notes_speed.png"


def range_changes(repo: Path, count: int) -> tuple[list[Change], str]:
    """The newest ``count`` changes of ``repo`` (release and changelog commits left out) and
    the range they come from."""
    shas = subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent",
                           f"--max-count={count + 40}", "HEAD"], check=True, text=True,
                          capture_output=True).stdout.split()
    for n in range(count, len(shas)):
        found = changes_from_git(repo, shas[n], shas[0]).changes
        if len(found) >= count:
            return found[:count], f"{shas[n][:10]}..{shas[0][:10]}"
    raise SystemExit(f"{repo} has fewer than {count} changes in its recent history")


def _lines(notes: Any) -> dict[str, int]:
    items = notes.items
    return {"lines": len(items),
            "en_changed": sum(i.en_how == "rewritten" for i in items),
            "en_clean": sum(i.en_how == "title" for i in items),
            "en_rejected": sum(i.en_how == "rejected" for i in items),
            "zh_lines": sum(bool(i.zh and CJK.search(i.zh)) for i in items),
            "zh_rejected": sum(i.zh_how == "rejected" for i in items)}


def run_per_line(changes: list[Change], ctx: dict[str, Any],
                 on_line: Callable[[int, int], None]) -> dict[str, Any]:
    usage = Usage()
    chat, settings = ctx["chat"], ctx["settings"]
    place = model_fallback(chat_model=chat, settings=settings, usage=usage,
                           prompt=load_prompt("release_section"))
    notes = assemble("devrel", "bench", changes, fallback=place)
    phrase_notes(notes, chat_model=chat, settings=settings, line=load_prompt("release_line"),
                 translate=load_prompt("translate"), glossary=ctx["glossary"], usage=usage,
                 progress=on_line)
    return {"notes": notes, "usage": usage}


def run_batched(changes: list[Change], ctx: dict[str, Any],
                on_line: Callable[[int, int], None]) -> dict[str, Any]:
    usage = Usage()
    chat, settings, cache = ctx["chat"], ctx["settings"], ctx["cache"]
    model = chat_model_name(chat)
    place = model_sections(changes, chat_model=chat, settings=settings, usage=usage,
                           model=model, cache=cache, prompt=load_prompt("release_sections"))
    notes = assemble("devrel", "bench", changes, fallback=place)
    report = phrase_batched(notes, chat_model=chat, settings=settings,
                            rewrite=load_prompt("release_lines"),
                            translate=load_prompt("translate_lines"), glossary=ctx["glossary"],
                            model=model, cache=cache, usage=usage, progress=on_line)
    return {"notes": notes, "usage": usage, "phrasing": report.model_dump()}


def run_path(path: str, changes: list[Change], ctx: dict[str, Any],
             on_line: Callable[[int, int], None]) -> dict[str, Any]:
    started = time.perf_counter()
    if path == "naive":
        record = {"version": "bench", "previous_tag": None, "commits": [
            {"sha": c.id, "subject": c.title, "pr_numbers": c.prs, "author": c.author,
             "is_changelog_commit": False} for c in changes]}
        found = run_naive(record, "devrel/devrel-assistant", chat=ctx["chat"],
                          settings=ctx["settings"])
        return {"seconds": time.perf_counter() - started, "calls": found["calls"],
                "input_tokens": found["input_tokens"], "output_tokens": found["output_tokens"],
                "lines": found["lines"], "subjects_in": found["subjects_in"],
                "subjects_cut": found["subjects_cut"],
                "zh_lines": sum(bool(CJK.search(ln)) for ln in found["markdown_zh"].splitlines()
                                if ln.lstrip().startswith(("-", "*"))),
                "markdown_en": found["markdown_en"], "markdown_zh": found["markdown_zh"]}
    out = (run_per_line if path == "per-line" else run_batched)(changes, ctx, on_line)
    notes, usage = out["notes"], out["usage"]
    row = {"seconds": time.perf_counter() - started, **usage.model_dump(), **_lines(notes),
           "unplaced": len(unplaced(changes)),
           "markdown_en": render_markdown(notes, "en", changes),
           "markdown_zh": render_markdown(notes, "zh", changes)}
    if "phrasing" in out:
        row["phrasing"] = out["phrasing"]
    return row


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("bench_release_notes", __doc__, data_dir=True)
    parser.add_argument("--repo", type=Path, default=Path("/work/main"),
                        help="a git clone whose history is the input (default /work/main)")
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--chart", type=Path, default=None, help="also write the chart here")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if bad := [p for p in paths if p not in PATHS]:
        parser.error(f"unknown path(s) {bad}; use {', '.join(PATHS)}")
    with EvalRun.start("bench_release_notes", parser, argv, model=True) as run:
        bench(run, paths)


def bench(run: EvalRun, paths: list[str]) -> None:
    args = run.args
    changes, span = range_changes(args.repo, args.changes)
    settings = run.settings(profile="demo")
    started = time.perf_counter()
    chat = build_chat_model(settings)
    chat._client()  # type: ignore[attr-defined]
    load_s = time.perf_counter() - started
    ctx = {"chat": chat, "settings": settings, "cache": PhraseCache(run.tmp / "phrases.sqlite3"),
           "glossary": Glossary(keep=subject_glossary([c.title for c in changes]))}
    console.print(f"{len(changes)} changes ({span}), model {chat_model_name(chat)} loaded in "
                  f"{load_s:.1f} s", highlight=False)
    rows: dict[str, dict[str, Any]] = {}
    with progress_bar(console=console) as bar:
        for path in paths:
            task = bar.add_task(path, total=None)
            rows[path] = run_path(path, changes, ctx,
                                  lambda d, t, task=task: bar.update(task, completed=d, total=t))
            bar.update(task, description=f"{path}: {rows[path]['seconds']:.0f} s")
            bar.console.print(f"{path}: {rows[path]['seconds']:.1f} s, "
                              f"{rows[path]['calls']} calls", highlight=False)
    show(rows)
    chart(rows, run.path(CHART), f"{len(changes)} changes of {args.repo.name}, EN+ZH, "
          f"{chat_model_name(chat)}, {run.machine['cores']} cores")
    payload = {"changes": len(changes), "range": span, "repo": str(args.repo),
               "model": chat_model_name(chat), "model_load_s": round(load_s, 1),
               "n_ctx": settings.llm.n_ctx, "max_tokens": settings.llm.max_tokens,
               "goal_s": GOAL_S, "rows": rows}
    run.write(payload, "Release notes at real size", report(payload))
    run.copy_to(run.path(CHART), args.chart)


COLUMNS = [("seconds", "s", "{:.1f}"), ("calls", "calls", "{}"),
           ("input_tokens", "tokens in", "{}"), ("output_tokens", "tokens out", "{}"),
           ("lines", "lines", "{}"), ("en_changed", "EN rewritten", "{}"),
           ("en_clean", "EN clean kept", "{}"), ("en_rejected", "EN rejected", "{}"),
           ("zh_lines", "ZH lines", "{}"), ("zh_rejected", "ZH rejected", "{}")]


def _cells(row: dict[str, Any]) -> list[str]:
    return [fmt.format(row[key]) if key in row else "–" for key, _, fmt in COLUMNS]


def show(rows: dict[str, dict[str, Any]]) -> None:
    table = Table(title="Release notes at real size")
    table.add_column("path")
    for _, title, _ in COLUMNS:
        table.add_column(title, justify="right")
    for path, row in rows.items():
        table.add_row(path, *_cells(row))
    console.print(table)


def report(payload: dict[str, Any]) -> list[str]:
    rows = payload["rows"]
    lines = [f"{payload['changes']} changes of `{payload['repo']}` ({payload['range']}), EN + "
             f"ZH, model {payload['model']} (loaded once in {payload['model_load_s']} s, not "
             f"counted), n_ctx {payload['n_ctx']}, max_tokens {payload['max_tokens']}. "
             f"Goal: at most {payload['goal_s']:.0f} s.", ""]
    lines += markdown_table(["path", *(t for _, t, _ in COLUMNS)],
                            [[p, *_cells(r)] for p, r in rows.items()])
    lines.append("")
    if "naive" in rows:
        n = rows["naive"]
        lines += [f"naive: {n['subjects_in']} subjects fit the prompt, {n['subjects_cut']} were "
                  "cut to fit n_ctx; its lines are whatever the model wrote (no sections in "
                  "code, no traceability).", ""]
    for path in ("batched", "batched-rerun"):
        if path in rows and "phrasing" in rows[path]:
            p = rows[path]["phrasing"]
            lines += [f"{path}: {p['clean']} clean titles kept, {p['rewritten']} rewritten, "
                      f"{p['rewrite_rejected']} rewrites rejected, {p['translated']} translated, "
                      f"{p['translate_rejected']} translations rejected, {p['cache_hits']} "
                      f"cache hits; rejections: "
                      + (", ".join(f"{k} {v}" for k, v in p["problems"].items()) or "none")
                      + ".", ""]
    lines += ["The notes each path wrote (English, first 30 lines):", ""]
    for path, row in rows.items():
        lines += [f"### {path}", "", "```markdown",
                  *row["markdown_en"].splitlines()[:30], "```", ""]
    return lines


def chart(rows: dict[str, dict[str, Any]], out: Path, title: str) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(rows)
    values = [rows[n]["seconds"] for n in names]
    bars = ax.bar(names, values, color=["#b0b0b0", "#dd8452", "#4c72b0", "#55a868"][:len(names)])
    for bar, row in zip(bars, rows.values(), strict=True):
        ax.annotate(f"{row['seconds']:.0f} s\n{row['calls']} calls",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                    va="bottom", fontsize=8)
    ax.axhline(GOAL_S, color="#c44e52", linestyle="--", linewidth=1)
    ax.annotate(f"goal {GOAL_S:.0f} s", (len(names) - 0.5, GOAL_S), color="#c44e52",
                fontsize=8, va="bottom", ha="right")
    ax.set_ylabel("seconds (model load excluded)")
    ax.set_ylim(0, max([*values, GOAL_S]) * 1.2)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
