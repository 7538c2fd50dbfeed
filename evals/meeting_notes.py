"""Meeting notes against real ones: PaddlePaddle PFCC agenda → minutes (character chrF and
character ROUGE-L against the real minutes) and Node.js TSC decision / action-item extraction
(precision and recall against the lines the notes state), with time per note.

    python -m evals.meeting_notes --modes copy,template,nodejs-code
    flock /tmp/devrel-model.lock python -m evals.meeting_notes \
        --modes ours,naive,nodejs-model --pairs 6 --tsc-notes 4

Data: ``../shared/evaldata/meeting_notes`` (read only; see its SOURCE.md).

PFCC (30 agenda/minutes pairs, Chinese). The model sees only the agenda file; the real minutes
are read for scoring. Modes:

- ``copy``: the agenda itself, verbatim (what a note-taker starts from without any tool).
- ``template``: ``minutes_from_agenda`` without a model: the agenda with its title turned into
  minutes (议程 → 纪要).
- ``ours``: the same plus one checked model line per agenda item saying what it is about
  (``prompts/meeting_topic``); an item whose line fails the check gets none.
- ``naive``: the same model, one prompt with the whole agenda asking for the minutes
  (Markdown), 700 output tokens.

Scores: chrF with character 6-grams and no word n-grams (sacrebleu ``CHRF(word_order=0)``) and
ROUGE-L F1 over characters (whitespace removed; LCS by the bit-parallel algorithm), each per
pair and averaged over pairs. ``copy`` and ``template`` run on all 30 pairs, ``ours`` and
``naive`` on the ``--pairs`` most recent ones (the table also gives copy/template on exactly
those pairs).

Node.js TSC (40 notes, English). The notes have no Decisions / Action items sections; they state
decisions and actions in discussion bullets. Reference protocol (lexical, reproducible, run
on every bullet, a wrapped bullet joined into one, or text line outside the Links, Present and
Upcoming Meetings sections; a line number is the bullet's first line):

Lines ending in ``?`` and the standing Reminders section are left out.

- an *action* line names a person as the subject of a future task: ``Name will <verb>``
  (Name: the first name of someone listed under Present, or ``I``),
  ``Name to <verb>``, ``Name: I will``/``Name: will``, ``I will take care``, ``volunteer(s) to``,
  ``will take (an) action``; not ``will not``/``won't``, not ``will be``.
- a *decision* line states an agreement: ``agreed``, ``we decided``, ``decision made``,
  ``no objection(s)``, ``consensus is/was/seems/to``, ``general consensus``, ``was/is/been
  approved``,
  ``resolved to``; not when ``not``/``n't``/``no``/``never``/``whether``/``if`` comes in the
  30 characters before the cue, and not in a question.

A line may be both. Our items are matched to reference lines by line number (every item traces
to a line): precision = our items on a reference line of the same kind / our items of that
kind, recall = reference lines of that kind we have / reference lines of that kind; also a
kind-agnostic figure. Modes: ``nodejs-code`` (no model: sections and explicit markers only),
``nodejs-model`` (the product: code, then the model's closed choice on each cue line) on the
``--tsc-notes`` most recent notes. Caveat: the product's cue filter that picks the lines the
model classifies shares words with the protocol, so recall is bounded by the cue filter and
precision measures the model's choices; read the listed disagreements in report.md.

Writes results.json, report.md and meeting_notes.png under --out; copies the chart to
docs/img/meeting_notes_eval.png.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from evals.harness.corpora import read_jsonl
from evals.harness.metrics import (
    chrf_chars,
    precision_recall,
    reference_lines,
    rouge_l_chars,
    score_extraction,
)
from evals.harness.run import EvalRun, progress_bar, pyplot

CHART_COPY = Path("docs/img/meeting_notes_eval.png")
PFCC_MODES = ("copy", "template", "ours", "naive")
MODEL_MODES = {"ours", "naive", "nodejs-model"}
MODES = (*PFCC_MODES, "nodejs-code", "nodejs-model")
console = Console(stderr=True)

NAIVE_SYSTEM = "你是开源社区会议的记录员。"
NAIVE_ASK = ("下面是一次社区会议的议程。请根据议程写出这次会议的会议纪要（Markdown 格式）。\n\n"
             "{agenda}\n\n会议纪要：")
NAIVE_TOKENS = 700


# --- data ------------------------------------------------------------------------------------

def pfcc_pairs(data: Path) -> list[tuple[str, Path, Path]]:
    """(date, agenda, minutes) for every pair, oldest first."""
    pairs = []
    for row in read_jsonl(data / "manifest.jsonl"):
        if row["file"].startswith("paddle_pfcc/") and row.get("kind") == "agenda" \
                and row.get("has_pair"):
            agenda = data / row["file"]
            pairs.append((row["date"], agenda, agenda.with_name(
                agenda.name.replace("-agenda", "-minutes"))))
    return sorted(pairs)


# --- runs ------------------------------------------------------------------------------------

def run_pfcc(mode: str, agenda: str, *, chat: Any, settings: Any, prompt: Any) -> str:
    from assistant.kinds.meeting_summary.minutes import minutes_from_agenda

    if mode == "copy":
        return agenda
    if mode == "template":
        return minutes_from_agenda(agenda, chat_model=None, settings=settings, prompt=None)
    if mode == "ours":
        return minutes_from_agenda(agenda, chat_model=chat, settings=settings, prompt=prompt)
    from langchain_core.messages import HumanMessage, SystemMessage

    reply = chat.invoke([SystemMessage(content=NAIVE_SYSTEM),
                         HumanMessage(content=NAIVE_ASK.format(agenda=agenda))],
                        max_tokens=NAIVE_TOKENS)
    return str(reply.content)


def run_tsc(path: Path, *, chat: Any, settings: Any) -> dict[str, Any]:
    from assistant.chains.generate import Usage
    from assistant.kinds.meeting_summary.parse import parse_note
    from assistant.kinds.meeting_summary.summarize import place_by_code, summarize_note
    from assistant.prompting import load_prompt

    usage = Usage()
    note = parse_note(path.read_text())
    _items, cue_lines = place_by_code(note)
    summary = summarize_note(note, language="en", chat_model=chat,
                             settings=settings, usage=usage,
                             classify=load_prompt("meeting_item") if chat else None,
                             translate=None)
    return {"items": [{"kind": i.kind, "line": i.line, "text": i.text, "how": i.how,
                       "owner": getattr(i, "owner", None)} for i in summary.items()],
            "candidates": summary.candidates, "cue_lines": [n.number for n in cue_lines],
            "usage": usage.model_dump()}


def load_model(settings: Any, run: dict[str, Any]) -> Any:
    from assistant.providers.chat import build_chat_model, chat_model_name

    started = time.perf_counter()
    chat = build_chat_model(settings)
    chat._client()  # type: ignore[attr-defined]
    run.update(model=chat_model_name(chat), model_load_s=round(time.perf_counter() - started, 1),
               n_threads=getattr(chat, "n_threads", None),
               temperature=settings.llm.temperature, seed=settings.llm.seed)
    return chat


# --- report ----------------------------------------------------------------------------------

def aggregate(data: dict[str, Any]) -> dict[str, Any]:
    agg: dict[str, Any] = {"pfcc": {}, "pfcc_model_subset": {}, "tsc": {}}
    pf = [r for r in data["rows"] if r["task"] == "pfcc"]
    model_dates = {r["date"] for r in pf if r["mode"] in ("ours", "naive")}
    for mode in PFCC_MODES:
        for key, dates in (("pfcc", None), ("pfcc_model_subset", model_dates)):
            rows = [r for r in pf if r["mode"] == mode and (dates is None or r["date"] in dates)]
            if rows:
                agg[key][mode] = {
                    "pairs": len(rows),
                    "chrf": sum(r["chrf"] for r in rows) / len(rows),
                    "rouge_l": sum(r["rouge_l"] for r in rows) / len(rows),
                    "s_per_pair": sum(r["seconds"] for r in rows) / len(rows),
                    "chars": sum(r["chars"] for r in rows) / len(rows)}
    ts = [r for r in data["rows"] if r["task"] == "tsc"]
    model_files = {r["file"] for r in ts if r["mode"] == "nodejs-model"}
    for mode in ("nodejs-code", "nodejs-model"):
        for subset, files in (("all", None), ("model_subset", model_files)):
            rows = [r for r in ts if r["mode"] == mode and (files is None or r["file"] in files)]
            if not rows:
                continue
            totals = {k: {c: sum(r["scores"][k][c] for r in rows) for c in
                          ("ours", "reference", "hit")} for k in ("decision", "action", "any")}
            figures = {k: dict(zip(("precision", "recall"),
                                   precision_recall(v["hit"], v["ours"], v["reference"]),
                                   strict=True))
                       for k, v in totals.items()}
            ref_lines = sum(len(r["reference"]) for r in rows)
            on_cue = sum(len(set(map(int, r["reference"])) & set(r.get("cue_lines", [])))
                         for r in rows)
            agg["tsc"][f"{mode}/{subset}"] = {
                "notes": len(rows), "totals": totals, "figures": figures,
                "cue_recall": on_cue / ref_lines if ref_lines else None,
                "cue_lines": sum(len(r.get("cue_lines", [])) for r in rows),
                "s_per_note": sum(r["seconds"] for r in rows) / len(rows)}
    return agg


def write_chart(agg: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    sub = agg["pfcc_model_subset"] or agg["pfcc"]
    modes = [m for m in PFCC_MODES if m in sub]
    for ax, key, label in ((axes[0], "chrf", "char chrF"), (axes[1], "rouge_l", "char ROUGE-L F1")):
        ys = [sub[m][key] * (100 if key == "rouge_l" else 1) for m in modes]
        bars = ax.bar(modes, ys, color=["#b0b0b0", "#8c8c8c", "#4c72b0", "#dd8452"][:len(modes)])
        for bar, y in zip(bars, ys, strict=True):
            ax.annotate(f"{y:.1f}", (bar.get_x() + bar.get_width() / 2, y), ha="center",
                        va="bottom", fontsize=8)
        n = sub[modes[0]]["pairs"] if modes else 0
        ax.set_title(f"PFCC agenda→minutes, {label} ({n} pairs)", fontsize=9)
        ax.set_ylim(0, 100)
    tsc = agg["tsc"]
    labels, ps, rs = [], [], []
    for key, value in tsc.items():
        for kind in ("decision", "action"):
            labels.append(f"{key.split('/')[0].removeprefix('nodejs-')}\n{key.split('/')[1]}"
                          f"\n{kind}")
            ps.append(value["figures"][kind]["precision"] or 0.0)
            rs.append(value["figures"][kind]["recall"] or 0.0)
    xs = range(len(labels))
    axes[2].bar([x - 0.2 for x in xs], ps, 0.4, label="precision", color="#4c72b0")
    axes[2].bar([x + 0.2 for x in xs], rs, 0.4, label="recall", color="#55a868")
    axes[2].set_xticks(list(xs), labels, fontsize=6)
    axes[2].set_ylim(0, 1.05)
    axes[2].set_title("Node.js TSC extraction vs the stated lines", fontsize=9)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _f(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def report(data: dict[str, Any], agg: dict[str, Any], notes: Path) -> list[str]:
    out = ["Runs whose rows are in this report:", ""]
    for run in data["runs"]:
        out.append(f"- run {run['id']} ({run['started']}): `{run['command']}`; model "
                   f"{run.get('model') or 'none'}; {run['machine']['cpu']}, "
                   f"{run['machine']['cores']} cores; wall "
                   f"{run.get('wall_s', 0):.0f} s")
    for key, title in (("pfcc", "PFCC agenda → minutes, all pairs run"),
                       ("pfcc_model_subset", "PFCC, the pairs the model modes ran on")):
        if not agg[key]:
            continue
        out += ["", f"## {title}", "", "| mode | pairs | char chrF | char ROUGE-L F1 | "
                "chars | s/pair |", "|---|---|---|---|---|---|"]
        for mode, v in agg[key].items():
            out.append(f"| {mode} | {v['pairs']} | {v['chrf']:.1f} | {v['rouge_l']:.3f} | "
                       f"{v['chars']:.0f} | {v['s_per_pair']:.1f} |")
    if agg["tsc"]:
        out += ["", "## Node.js TSC: decisions and action items vs the protocol", "",
                "| mode / notes | n | decision P | decision R | action P | action R | any P | "
                "any R | ours / ref (any) | cue lines (ref on them) | s/note |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for key, v in agg["tsc"].items():
            f = v["figures"]
            out.append(
                f"| {key} | {v['notes']} | {_f(f['decision']['precision'])} | "
                f"{_f(f['decision']['recall'])} | {_f(f['action']['precision'])} | "
                f"{_f(f['action']['recall'])} | {_f(f['any']['precision'])} | "
                f"{_f(f['any']['recall'])} | {v['totals']['any']['ours']} / "
                f"{v['totals']['any']['reference']} | {v['cue_lines']} ({_f(v['cue_recall'])}) | "
                f"{v['s_per_note']:.1f} |")
        rows = [r for r in data["rows"] if r["mode"] == "nodejs-model"]
        if rows:
            out += ["", "Disagreements (model mode; `+` ours only, `-` reference only):", ""]
            for r in rows:
                ref = {int(k): set(v) for k, v in r["reference"].items()}
                ours = {i["line"]: i for i in r["items"] if i["kind"] in ("decision", "action")}
                lines = (notes / r["file"]).read_text().splitlines()
                for n in sorted(set(ref) | set(ours)):
                    if n in ours and ours[n]["kind"] in ref.get(n, set()):
                        continue
                    sign = f"+{ours[n]['kind']}" if n in ours else f"-{'/'.join(sorted(ref[n]))}"
                    out.append(f"- {r['file']}:{n} {sign}: {lines[n - 1].strip()[:140]}")
    return out


# --- main ------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("meeting_notes", __doc__, data_dir=True)
    parser.add_argument("--modes", default="copy,template,nodejs-code")
    parser.add_argument("--pairs", type=int, default=6, help="ours/naive: most recent N pairs.")
    parser.add_argument("--tsc-notes", type=int, default=4,
                        help="nodejs-model: the most recent N notes.")
    parser.add_argument("--fresh", action="store_true", help="Drop rows of earlier runs.")
    parser.add_argument("--no-copy", action="store_true",
                        help=f"Do not copy the chart to {CHART_COPY}.")
    argv = list(sys.argv[1:] if argv is None else argv)
    modes = [m.strip() for m in parser.parse_args(argv).modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode(s) {bad}; use {', '.join(MODES)}")
    # the model lives in the user data dir unless --data-dir names another
    with EvalRun.start("meeting_notes", parser, argv, model=bool(MODEL_MODES & set(modes)),
                       temp_data_dir=False) as run:
        evaluate(run, modes)


def evaluate(run: EvalRun, modes: list[str]) -> None:
    from assistant.prompting import load_prompt

    args = run.args
    notes_root = args.data / "meeting_notes"
    results = run.path("results.json")
    data: dict[str, Any] = {"runs": [], "rows": []}
    if results.exists() and not args.fresh:
        data = json.loads(results.read_text())
        data.pop("run", None)
    this: dict[str, Any] = {
        "id": max((r["id"] for r in data["runs"]), default=0) + 1, "command": run.command,
        "started": run.started_at, "machine": run.machine, "git": run.git}
    settings = run.settings(profile="demo")
    chat = load_model(settings, this) if MODEL_MODES & set(modes) else None
    topic = load_prompt("meeting_topic")
    jobs: list[tuple[str, Any]] = []
    pairs = pfcc_pairs(notes_root)
    for mode in (m for m in modes if m in PFCC_MODES):
        chosen = pairs[-args.pairs:] if mode in MODEL_MODES else pairs
        jobs += [(mode, pair) for pair in chosen]
    notes = sorted((notes_root / "nodejs_tsc").glob("*.md"))
    for mode in (m for m in modes if m.startswith("nodejs")):
        chosen = notes[-args.tsc_notes:] if mode in MODEL_MODES else notes
        jobs += [(mode, path) for path in chosen]
    fresh: list[dict[str, Any]] = []
    wall = time.perf_counter()
    with progress_bar(console=console) as bar:
        task = bar.add_task("meeting notes", total=len(jobs))
        for mode, job in jobs:
            started = time.perf_counter()
            if mode in PFCC_MODES:
                day, agenda_path, minutes_path = job
                bar.update(task, description=f"{mode} PFCC {day}")
                hyp = run_pfcc(mode, agenda_path.read_text(), chat=chat, settings=settings,
                               prompt=topic)
                ref = minutes_path.read_text()
                fresh.append({"task": "pfcc", "mode": mode, "date": day, "run": this["id"],
                              "seconds": time.perf_counter() - started, "chars": len(hyp),
                              "chrf": chrf_chars(hyp, ref), "rouge_l": rouge_l_chars(hyp, ref),
                              "output": hyp if mode in MODEL_MODES else None})
            else:
                bar.update(task, description=f"{mode} {job.name}")
                found = run_tsc(job, chat=chat if mode == "nodejs-model" else None,
                                settings=settings)
                reference = reference_lines(job.read_text())
                fresh.append({"task": "tsc", "mode": mode, "file": f"nodejs_tsc/{job.name}",
                              "run": this["id"], "seconds": time.perf_counter() - started,
                              **found, "reference": {str(k): sorted(v)
                                                     for k, v in reference.items()},
                              "scores": score_extraction(found["items"], reference)})
            bar.advance(task)
    this["wall_s"] = time.perf_counter() - wall
    keys = {(r["task"], r["mode"], r.get("date") or r.get("file")) for r in fresh}
    data["rows"] = [r for r in data["rows"]
                    if (r["task"], r["mode"], r.get("date") or r.get("file")) not in keys] + fresh
    data["runs"].append(this)
    agg = aggregate(data)
    data["aggregate"] = agg
    write_chart(agg, run.path("meeting_notes.png"))
    print(run.write(data, "Meeting notes eval", report(data, agg, notes_root)))
    run.copy_to(run.path("meeting_notes.png"), None if args.no_copy else CHART_COPY)


if __name__ == "__main__":
    main()
