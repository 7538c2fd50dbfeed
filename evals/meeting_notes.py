"""Meeting notes against real ones: PaddlePaddle PFCC agenda → minutes (character chrF and
character ROUGE-L against the real minutes) and Node.js TSC decision / action-item extraction
(precision and recall against the lines the notes state), with time per note.

    .venv/bin/python evals/meeting_notes.py --modes copy,template,nodejs-code
    flock /tmp/devrel-model.lock .venv/bin/python evals/meeting_notes.py \
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

import argparse
import json
import re
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from sacrebleu.metrics import CHRF  # noqa: E402

from evals.release_eval.report import machine  # noqa: E402

DATA = ROOT.parent / "shared" / "evaldata" / "meeting_notes"
CHART_COPY = ROOT / "docs" / "img" / "meeting_notes_eval.png"
PFCC_MODES = ("copy", "template", "ours", "naive")
MODEL_MODES = {"ours", "naive", "nodejs-model"}
MODES = (*PFCC_MODES, "nodejs-code", "nodejs-model")
CHRF_ZH = CHRF(char_order=6, word_order=0)
console = Console(stderr=True)

NAIVE_SYSTEM = "你是开源社区会议的记录员。"
NAIVE_ASK = ("下面是一次社区会议的议程。请根据议程写出这次会议的会议纪要（Markdown 格式）。\n\n"
             "{agenda}\n\n会议纪要：")
NAIVE_TOKENS = 700


# --- metrics ---------------------------------------------------------------------------------

def _chars(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence (Hyyrö's bit-parallel algorithm)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def rouge_l_chars(hypothesis: str, reference: str) -> float:
    """ROUGE-L F1 over characters (whitespace removed)."""
    hyp, ref = _chars(hypothesis), _chars(reference)
    lcs = lcs_length(ref, hyp)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def chrf_chars(hypothesis: str, reference: str) -> float:
    return CHRF_ZH.sentence_score(hypothesis, [reference]).score


# --- data ------------------------------------------------------------------------------------

def manifest() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "manifest.jsonl").read_text().splitlines()
            if line.strip()]


def pfcc_pairs() -> list[tuple[str, Path, Path]]:
    """(date, agenda, minutes) for every pair, oldest first."""
    pairs = []
    for row in manifest():
        if row["file"].startswith("paddle_pfcc/") and row.get("kind") == "agenda" \
                and row.get("has_pair"):
            agenda = DATA / row["file"]
            pairs.append((row["date"], agenda, agenda.with_name(
                agenda.name.replace("-agenda", "-minutes"))))
    return sorted(pairs)


# --- the Node.js TSC reference protocol ------------------------------------------------------

_SKIP_SECTIONS = re.compile(r"^(links|present|upcoming meetings|reminders)$", re.I)
_ACTION_TAIL = (r"\s*:?\s*(?:I\s+)?(?:will|'ll|to)\s+(?!be\b|not\b|still\b)[a-z]+|"
                r"\bvolunteer(?:s|ed)? to\b|\bwill take (?:an? )?action\b|\bI will take care\b")
_DECISION_REF = re.compile(
    r"\b(agreed|we decided|decision made|no objections?|consensus (?:is|was|seems|to)|"
    r"general consensus|(?:was|were|is|been|got) approved|resolved to)\b", re.I)
_NEGATION = re.compile(r"\b(not|no|never|whether|if)\b|n't", re.I)


def reference_lines(text: str) -> dict[int, set[str]]:
    """Line number → the kinds the protocol finds on it (see the module docstring)."""
    found: dict[int, set[str]] = {}
    present = re.search(r"^## Present\s*$(.*?)^## ", text, re.M | re.S)
    names = {m.group(1) for m in re.finditer(r"^\s*[-*]\s+([A-Z][\w'’-]+)",
                                            present.group(1) if present else "", re.M)}
    subject = "|".join(map(re.escape, sorted(names | {"I"}, key=len, reverse=True)))
    action = re.compile(rf"(?:^|[,;.]\s+|\band\s+)(?:{subject})(?: [A-Z][\w'’-]+)?"
                        + _ACTION_TAIL)
    section = ""
    logical: list[tuple[int, str, str]] = []  # (first line, text, section); wrapped bullets joined
    previous_bullet = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if m := re.match(r"^#{1,6}\s+(.*)$", raw):
            section, previous_bullet = m.group(1).strip(), False
            continue
        if not raw.strip():
            previous_bullet = False
            continue
        bullet = re.match(r"^\s*(?:[-*+]|\d+\.)\s+", raw)
        if not bullet and raw[:1].isspace() and previous_bullet:
            first, joined, where = logical[-1]
            logical[-1] = (first, f"{joined} {raw.strip()}", where)
            continue
        previous_bullet = bool(bullet)
        logical.append((number, raw[bullet.end():] if bullet else raw.strip(), section))
    for number, line, section in logical:
        if _SKIP_SECTIONS.match(section):
            continue
        line = line.strip()
        kinds = set()
        if line.rstrip().endswith("?"):
            continue
        if action.search(line) and not re.search(r"\bwill not\b|\bwon't\b", line):
            kinds.add("action")
        for m in _DECISION_REF.finditer(line):
            before = line[max(0, m.start() - 30):m.start()]
            if not _NEGATION.search(before):
                kinds.add("decision")
                break
        if kinds:
            found[number] = kinds
    return found


def score_extraction(items: list[dict[str, Any]], reference: dict[int, set[str]]
                     ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("decision", "action"):
        ours = {i["line"] for i in items if i["kind"] == kind}
        ref = {n for n, kinds in reference.items() if kind in kinds}
        out[kind] = {"ours": len(ours), "reference": len(ref), "hit": len(ours & ref)}
    ours_any = {i["line"] for i in items if i["kind"] in ("decision", "action")}
    out["any"] = {"ours": len(ours_any), "reference": len(reference),
                  "hit": len(ours_any & set(reference))}
    return out


def _pr(counts: dict[str, int]) -> tuple[float | None, float | None]:
    p = counts["hit"] / counts["ours"] if counts["ours"] else None
    r = counts["hit"] / counts["reference"] if counts["reference"] else None
    return p, r


# --- runs ------------------------------------------------------------------------------------

def run_pfcc(mode: str, agenda: str, *, chat: Any, settings: Any, prompt: Any) -> str:
    from assistant.meetings.minutes import minutes_from_agenda

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
    from assistant.meetings.parse import parse_note
    from assistant.meetings.summarize import place_by_code, summarize_note
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
            figures = {k: dict(zip(("precision", "recall"), _pr(v), strict=True))
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def report(data: dict[str, Any], agg: dict[str, Any]) -> str:
    out = ["# Meeting notes eval", "", "Runs:", ""]
    for run in data["runs"]:
        out.append(f"- run {run['id']} ({run['started']}): `{run['command']}`; model "
                   f"{run.get('model') or 'none'}; machine {run['machine']}; wall "
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
                lines = Path(DATA / r["file"]).read_text().splitlines()
                for n in sorted(set(ref) | set(ours)):
                    if n in ours and ours[n]["kind"] in ref.get(n, set()):
                        continue
                    sign = f"+{ours[n]['kind']}" if n in ours else f"-{'/'.join(sorted(ref[n]))}"
                    out.append(f"- {r['file']}:{n} {sign}: {lines[n - 1].strip()[:140]}")
    return "\n".join(out) + "\n"


# --- main ------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="copy,template,nodejs-code")
    parser.add_argument("--pairs", type=int, default=6, help="ours/naive: most recent N pairs.")
    parser.add_argument("--tsc-notes", type=int, default=4,
                        help="nodejs-model: the most recent N notes.")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "meeting_notes")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--no-copy", action="store_true")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode(s) {bad}; use {', '.join(MODES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.json"
    data: dict[str, Any] = {"runs": [], "rows": []}
    if results.exists() and not args.fresh:
        data = json.loads(results.read_text())
    run: dict[str, Any] = {
        "id": max((r["id"] for r in data["runs"]), default=0) + 1,
        "command": ".venv/bin/python evals/meeting_notes.py " + shlex.join(sys.argv[1:]),
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    from assistant.settings import get_settings

    settings = get_settings(profile="demo", **({"data_dir": args.data_dir}
                                               if args.data_dir else {}))
    chat = load_model(settings, run) if MODEL_MODES & set(modes) else None
    from assistant.prompting import load_prompt

    topic = load_prompt("meeting_topic")
    jobs: list[tuple[str, Any]] = []
    pairs = pfcc_pairs()
    for mode in (m for m in modes if m in PFCC_MODES):
        chosen = pairs[-args.pairs:] if mode in MODEL_MODES else pairs
        jobs += [(mode, pair) for pair in chosen]
    notes = sorted((DATA / "nodejs_tsc").glob("*.md"))
    for mode in (m for m in modes if m.startswith("nodejs")):
        chosen = notes[-args.tsc_notes:] if mode in MODEL_MODES else notes
        jobs += [(mode, path) for path in chosen]
    fresh: list[dict[str, Any]] = []
    wall = time.perf_counter()
    with Progress(console=console) as bar:
        task = bar.add_task("meeting notes", total=len(jobs))
        for mode, job in jobs:
            started = time.perf_counter()
            if mode in PFCC_MODES:
                day, agenda_path, minutes_path = job
                bar.update(task, description=f"{mode} PFCC {day}")
                hyp = run_pfcc(mode, agenda_path.read_text(), chat=chat, settings=settings,
                               prompt=topic)
                ref = minutes_path.read_text()
                fresh.append({"task": "pfcc", "mode": mode, "date": day, "run": run["id"],
                              "seconds": time.perf_counter() - started, "chars": len(hyp),
                              "chrf": chrf_chars(hyp, ref), "rouge_l": rouge_l_chars(hyp, ref),
                              "output": hyp if mode in MODEL_MODES else None})
            else:
                bar.update(task, description=f"{mode} {job.name}")
                found = run_tsc(job, chat=chat if mode == "nodejs-model" else None,
                                settings=settings)
                reference = reference_lines(job.read_text())
                fresh.append({"task": "tsc", "mode": mode, "file": f"nodejs_tsc/{job.name}",
                              "run": run["id"], "seconds": time.perf_counter() - started,
                              **found, "reference": {str(k): sorted(v)
                                                     for k, v in reference.items()},
                              "scores": score_extraction(found["items"], reference)})
            bar.advance(task)
    run["wall_s"] = time.perf_counter() - wall
    keys = {(r["task"], r["mode"], r.get("date") or r.get("file")) for r in fresh}
    data["rows"] = [r for r in data["rows"]
                    if (r["task"], r["mode"], r.get("date") or r.get("file")) not in keys] + fresh
    data["runs"].append(run)
    agg = aggregate(data)
    data["aggregate"] = agg
    results.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    write_chart(agg, args.out / "meeting_notes.png")
    if not args.no_copy:
        CHART_COPY.parent.mkdir(parents=True, exist_ok=True)
        CHART_COPY.write_bytes((args.out / "meeting_notes.png").read_bytes())
    text = report(data, agg)
    (args.out / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
