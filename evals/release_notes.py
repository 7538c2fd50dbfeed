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
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sacrebleu.metrics import CHRF  # noqa: E402

from assistant.project_files import Glossary  # noqa: E402
from assistant.release.chain import check_line, phrase_notes  # noqa: E402
from assistant.release.classify import CONVENTIONAL  # noqa: E402
from assistant.release.models import Change, ReleaseNotes  # noqa: E402
from assistant.release.notes import assemble, render_markdown  # noqa: E402
from assistant.release.sources import changes_from_json, pr_numbers  # noqa: E402

DATA = ROOT.parent / "shared" / "evaldata" / "release_notes"
PROJECTS = {"antd": "ant-design/ant-design", "apisix": "apache/apisix"}
MODES = ("structure", "model", "naive")
CHART_COPY = ROOT / "docs" / "img" / "release_notes_eval.png"
NAIVE_EN_TOKENS = 1024  # output budget of the naive English prompt
NAIVE_ZH_TOKENS = 2048  # upper bound of the naive translation's output
console = Console()

# ------------------------------------------------------------------------ text and PR numbers

LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]*)\)")
URL = re.compile(r"https?://\S+")
MENTION = re.compile(r"(?<![\w.`])@[\w-]+")
PR_REF = re.compile(r"\(?#\d+\)?")
HTML_TAG = re.compile(r"<[A-Za-z][^<>]*\s[^<>]*>")  # tags with attributes (<img src=…>)
SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\ufe0f\u200d]")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
ARTIFACT = re.compile(r"</?text>|\[\d+\]")  # prompt debris: the fence tag, [1]-style markers
STRIPPED = (
    "Only Markdown bullet lines are compared (headings, dates, prose and our credits are not "
    "bullets); from each line are removed: links whose text starts with `#` or `@` or whose "
    "URL is a PR, issue or commit (PR, commit and author links) entirely, other links down to "
    "their text, the `@Name …` author list after our links, images and HTML tags with "
    "attributes, bare URLs, `@name` mentions, `#123` / `(#123)` references, emoji and "
    "`:shortcode:` emoji, `**` and backticks; whitespace is collapsed and trailing `:`/`：`/`,` "
    "dropped. Lines left empty are dropped. The cleaned lines are joined with newlines."
)


REF_URL = re.compile(r"/(?:pull|issues|commit)/")
TRAILING_AUTHORS = re.compile(r"(?<=\))\s+@.*$")  # our "[#1](…) @Jane Doe @bob" tail


def _link_text(match: re.Match[str]) -> str:
    bang, text, url = match.group(1), match.group(2).strip(), match.group(3)
    return "" if bang or text.startswith(("#", "@")) or REF_URL.search(url) else text


def note_lines(markdown: str) -> list[str]:
    """The text of each bullet line, without links, authors, PR numbers or decoration."""
    lines = []
    for raw in markdown.splitlines():
        bullet = BULLET.match(raw)
        if not bullet:
            continue
        text = LINK.sub(_link_text, TRAILING_AUTHORS.sub("", bullet.group(1)))
        for pattern in (HTML_TAG, URL, MENTION, PR_REF, SHORTCODE, EMOJI):
            text = pattern.sub(" ", text)
        text = text.replace("**", "").replace("`", "")
        text = re.sub(r"\s+", " ", text).strip().rstrip(":：,， ").strip()
        if text:
            lines.append(text)
    return lines


def cited_prs(markdown: str, repo: str) -> set[int]:
    """PR numbers a section cites: ``github.com/<repo>/pull/N`` links and bare ``#N`` outside
    links (a ``[#N](…/issues/N)`` link is an issue, not a PR)."""
    own = {int(n) for n in re.findall(rf"github\.com/{re.escape(repo)}/pull/(\d+)", markdown)}
    bare = {int(n) for n in re.findall(r"(?<![\w/&])#(\d+)\b", LINK.sub(" ", markdown))}
    return own | bare


# --------------------------------------------------------------------------------- glossary

GENERIC_SCOPES = {"deps", "deps-dev", "dependencies", "ci", "test", "tests", "docs", "doc",
                  "site", "demo", "type", "types", "style", "chore", "build", "release", "lint"}
CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+(?:\.[A-Z]\w*)?\b|\b[A-Z]\w*\.[A-Z]\w*\b")
PLUGIN = re.compile(r"\b([a-z0-9]+(?:-[a-z0-9]+)+)\s+plugin\b")
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+)*")


def subject_glossary(subjects: list[str]) -> list[str]:
    """Terms to keep as they are, from the input subjects only (no reference text): component
    scopes written capitalised or kebab-case (``fix(Table):``, ``feat(limit-count):``),
    backticked ASCII names, CamelCase or dotted names, and ``<kebab-name> plugin``."""
    terms: dict[str, None] = {}
    for subject in subjects:
        match = CONVENTIONAL.match(subject)
        scope = (match.group("scope") or "") if match else ""
        for part in re.split(r"[,\s]+", scope):
            if part and part.lower() not in GENERIC_SCOPES and (
                    part[:1].isupper() or re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", part)):
                terms.setdefault(part)
        for quoted in re.findall(r"`([^`\s]{2,40})`", subject):
            if quoted.isascii() and re.search(r"[A-Za-z]", quoted):
                terms.setdefault(quoted)
        for found in CAMEL.findall(subject) + PLUGIN.findall(subject):
            terms.setdefault(found)
    return list(terms)


def official_terms(en: list[str], zh: list[str]) -> set[str]:
    """ASCII names written verbatim in both official sections (for scoring only)."""
    return ({t for t in ASCII_TERM.findall(" ".join(en)) if len(t) > 1}
            & {t for t in ASCII_TERM.findall(" ".join(zh)) if len(t) > 1})


def has_term(text: str, term: str) -> bool:
    """``term`` verbatim (case-sensitive) with ASCII boundaries (CJK next to it is fine)."""
    return re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(term)}(?![A-Za-z0-9_-])", text) is not None


def kept(pairs: list[tuple[str, str]], terms: list[str] | set[str]) -> tuple[int, int]:
    """(terms present in an EN text, of those present verbatim in its ZH text) over pairs."""
    present = done = 0
    for en, zh in pairs:
        for term in terms:
            if has_term(en, term):
                present += 1
                done += has_term(zh, term)
    return present, done


# ------------------------------------------------------------------------------------- data


def load_records(projects: list[str]) -> dict[str, list[dict[str, Any]]]:
    records = {}
    for name in projects:
        path = DATA / f"{name}_releases.jsonl"
        records[name] = [json.loads(line) for line in path.read_text().splitlines() if line]
    return records


def model_input(record: dict[str, Any]) -> tuple[list[Change], list[tuple[str, str]]]:
    """The changes a model may see: only version, previous tag and commits are handed over."""
    safe = {"version": record["version"], "previous_tag": record["previous_tag"],
            "commits": record["commits"]}
    found = changes_from_json(safe)
    marked = {c["sha"] for c in record["commits"] if c["is_changelog_commit"]}
    leaked = marked & {c.id for c in found.changes}
    if leaked:
        raise SystemExit(f"changelog commits reached the input of {record['version']}: {leaked}")
    return found.changes, found.excluded


def data_checks(record: dict[str, Any], repo: str) -> dict[str, Any]:
    """What the official section cites that the range cannot give."""
    official = cited_prs(record["changelog_en"], repo)
    in_range = {int(n) for c in record["commits"] for n in c["pr_numbers"]}
    listed = set(in_range)  # the dataset's own pr_numbers field
    in_range |= {n for c in record["commits"] for n in pr_numbers(c["subject"])}
    in_range |= {int(n) for m in record.get("merge_commits") or []
                 for n in re.findall(r"#(\d+)", m)}
    changes, _ = model_input(record)
    in_input = {n for c in changes for n in c.prs}
    issue_links = len(re.findall(rf"github\.com/{re.escape(repo)}/issues/\d+",
                                 record["changelog_en"]))
    return {"official_prs": len(official), "not_in_range": sorted(official - in_range),
            "missed_by_pr_numbers_field": sorted((official & in_range) - listed),
            "not_in_input": sorted(official - in_input), "issue_links": issue_links,
            "recall_ceiling": round(len(official & in_input) / len(official), 4)
            if official else None,
            "edited_after_tag": bool(record.get("changelog_edited_after_tag", False))}


def pick_subset(records: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (r["n_commits"], r["version"]))[:n]


# ------------------------------------------------------------------------------------ modes


class Recorder(BaseCallbackHandler):
    """Every raw model output, in call order (to explain fallbacks afterwards)."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.outputs.append(response.generations[0][0].text)


def _reasons(problems: list[str]) -> list[str]:
    """Problems without the quoted names: "glossary term 'Table' not kept" → "glossary term
    not kept", "lost ['x']" → "lost"."""
    return [re.sub(r"\s*\[.*\]|\s*'[^']*'", "", p) for p in problems]


def fallback_reasons(notes: ReleaseNotes, outputs: list[list[str]],
                     glossary: Glossary) -> tuple[Counter[str], Counter[str]]:
    """Why rejected outputs were rejected, and which glossary terms they dropped: the product's
    own checks re-run on the raw outputs (per item 0-2 English attempts, then 1-2 Chinese)."""
    reasons: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for item, raw in zip(notes.items, outputs, strict=True):
        source, relevant = item.source_text, glossary.relevant(item.source_text)
        rest = list(raw)
        attempts = []
        if item.section != "dependencies" and rest:
            attempts.append(("en", source, rest.pop(0)))
            if check_line(source, "en", relevant)(attempts[0][2]).problems and rest:
                attempts.append(("en", source, rest.pop(0)))
        attempts += [("zh", item.en, output) for output in rest]
        for language, text, output in attempts:
            problems = check_line(text, language, relevant)(output).problems
            reasons.update(f"{language}: {p}" for p in _reasons(problems))
            terms.update(t for p in problems
                         for t in re.findall(r"glossary term '([^']*)' not kept", p))
    return reasons, terms


def run_structure(record: dict[str, Any], repo: str, **_: Any) -> dict[str, Any]:
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    notes = assemble(repo, record["version"], changes)
    for item in notes.items:
        item.en = item.source_text
    en, zh = render_markdown(notes, "en", changes, repo), render_markdown(notes, "zh", changes,
                                                                             repo)
    return {"seconds": time.perf_counter() - started, "lines": len(notes.items),
            "markdown_en": en, "markdown_zh": zh}


def run_model(record: dict[str, Any], repo: str, *, chat: Any, settings: Any, prompts: Any,
              recorder: Recorder, on_line: Any) -> dict[str, Any]:
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    notes = assemble(repo, record["version"], changes)
    glossary = Glossary(keep=subject_glossary([c.title for c in changes]))
    per_item: list[list[str]] = []

    def progress(done: int, total: int) -> None:
        per_item.append(recorder.outputs[:])
        recorder.outputs.clear()
        on_line(done, total)

    recorder.outputs.clear()
    usage = phrase_notes(notes, chat_model=chat, settings=settings, line=prompts[0],
                         translate=prompts[1], glossary=glossary, progress=progress)
    seconds = time.perf_counter() - started
    en, zh = render_markdown(notes, "en", changes, repo), render_markdown(notes, "zh", changes,
                                                                             repo)
    translated = [(i.en, i.zh) for i in notes.items if i.zh]
    reasons, terms = fallback_reasons(notes, per_item, glossary)
    return {
        "seconds": seconds, "lines": len(notes.items), "markdown_en": en, "markdown_zh": zh,
        "glossary": glossary.keep, "glossary_pairs": translated,
        "en_rewritten": sum(i.en != i.source_text for i in notes.items),
        "zh_translated": len(translated), "checked": sum(i.checked for i in notes.items),
        "calls": usage.calls, "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "rejections": dict(reasons.most_common()), "terms_dropped": dict(terms.most_common()),
    }


NAIVE_SYSTEM = "You write release notes for an open-source project."
NAIVE_ASK = ("Write the release notes of {name} {version} from these commit subjects (one per "
             "line). Group the user-facing changes under the headings Features, Fixes and Other "
             "as Markdown bullet lists, one short line per change, and keep the PR number of each "
             "change as (#123). Leave out tests, CI and chores.\n\n{subjects}\n\n"
             "The release notes:")
NAIVE_TRANSLATE_SYSTEM = "You translate release notes from English into Simplified Chinese."
NAIVE_TRANSLATE = ("Translate these release notes into Simplified Chinese. Keep the Markdown, "
                   "the PR numbers, code and component names as they are.\n\n{text}\n\n"
                   "The Chinese translation:")


def run_naive(record: dict[str, Any], repo: str, *, chat: Any, settings: Any,
              **_: Any) -> dict[str, Any]:
    started = time.perf_counter()
    changes, _excluded = model_input(record)
    client = chat._client()

    def tokens(text: str) -> int:
        return len(client.tokenize(text.encode(), add_bos=False))

    name = repo.split("/")[-1]
    overhead = tokens(NAIVE_SYSTEM + NAIVE_ASK.format(name=name, version=record["version"],
                                                      subjects="")) + 32
    budget = settings.llm.n_ctx - NAIVE_EN_TOKENS - overhead
    subjects, used = [], 0
    for change in changes:
        cost = tokens(change.title + "\n")
        if used + cost > budget:
            break
        subjects.append(change.title)
        used += cost
    ask = NAIVE_ASK.format(name=name, version=record["version"], subjects="\n".join(subjects))
    reply = chat.invoke([SystemMessage(NAIVE_SYSTEM), HumanMessage(ask)],
                        max_tokens=NAIVE_EN_TOKENS)
    english = str(reply.content).strip()
    ask_zh = NAIVE_TRANSLATE.format(text=english)
    room = settings.llm.n_ctx - tokens(NAIVE_TRANSLATE_SYSTEM + ask_zh) - 32
    reply_zh = chat.invoke([SystemMessage(NAIVE_TRANSLATE_SYSTEM), HumanMessage(ask_zh)],
                           max_tokens=max(64, min(NAIVE_ZH_TOKENS, room)))
    chinese = str(reply_zh.content).strip()
    usage = [r.usage_metadata or {} for r in (reply, reply_zh)]
    input_prs = {n for c in changes for n in c.prs}
    return {
        "seconds": time.perf_counter() - started, "lines": len(note_lines(english)),
        "markdown_en": english, "markdown_zh": chinese,
        "subjects_in": len(subjects), "subjects_cut": len(changes) - len(subjects),
        "invented_prs": sorted(cited_prs(english, repo) - input_prs),
        "finish": [r.response_metadata.get("finish_reason") for r in (reply, reply_zh)],
        "glossary": subject_glossary([c.title for c in changes]),
        "glossary_pairs": [(english, chinese)],
        "calls": 2, "input_tokens": sum(u.get("input_tokens", 0) for u in usage),
        "output_tokens": sum(u.get("output_tokens", 0) for u in usage),
    }


RUNNERS = {"structure": run_structure, "model": run_model, "naive": run_naive}

# ---------------------------------------------------------------------------------- scoring

CHRF_EN = CHRF()  # chrF: character 6-grams, beta 2, no word n-grams
CHRF_ZH = CHRF(char_order=6, word_order=0)  # CJK has no spaces between words


def score(row: dict[str, Any], record: dict[str, Any], repo: str) -> dict[str, Any]:
    official = cited_prs(record["changelog_en"], repo)
    ours = cited_prs(row["markdown_en"], repo)
    hit = len(ours & official)
    ref_en, ref_zh = note_lines(record["changelog_en"]), note_lines(record["changelog_zh"])
    hyp_en, hyp_zh = note_lines(row["markdown_en"]), note_lines(row["markdown_zh"])
    result = {
        "official_prs": len(official), "cited_prs": len(ours), "hit_prs": hit,
        "pr_precision": hit / len(ours) if ours else 0.0,
        "pr_recall": hit / len(official) if official else 0.0,
        "chrf_en": CHRF_EN.sentence_score("\n".join(hyp_en), ["\n".join(ref_en)]).score,
        "chrf_zh": CHRF_ZH.sentence_score("\n".join(hyp_zh), ["\n".join(ref_zh)]).score,
        "hyp_en_lines": hyp_en, "hyp_zh_lines": hyp_zh,
    }
    if row.get("glossary_pairs"):
        pairs = [(en, zh) for en, zh in row["glossary_pairs"]]
        result["glossary_present"], result["glossary_kept"] = kept(pairs, row["glossary"])
        result["official_terms_present"], result["official_terms_kept"] = kept(
            pairs, official_terms(ref_en, ref_zh))
    return result


def aggregate(rows: list[dict[str, Any]], records: dict[tuple[str, str], dict[str, Any]]
              ) -> dict[str, Any]:
    """Micro-averaged PR precision/recall, corpus chrF (each release one segment), totals."""
    if not rows:
        return {}
    refs = [records[(r["project"], r["version"])] for r in rows]
    en_refs = ["\n".join(note_lines(rec["changelog_en"])) for rec in refs]
    zh_refs = ["\n".join(note_lines(rec["changelog_zh"])) for rec in refs]
    hit = sum(r["hit_prs"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    out = {
        "releases": len(rows),
        "pr_precision": hit / max(1, sum(r["cited_prs"] for r in rows)),
        "pr_recall": hit / max(1, sum(r["official_prs"] for r in rows)),
        "chrf_en": CHRF_EN.corpus_score(["\n".join(r["hyp_en_lines"]) for r in rows],
                                        [en_refs]).score,
        "chrf_zh": CHRF_ZH.corpus_score(["\n".join(r["hyp_zh_lines"]) for r in rows],
                                        [zh_refs]).score,
        "artifact_lines": sum(bool(ARTIFACT.search(line)) for r in rows
                              for line in r["hyp_en_lines"] + r["hyp_zh_lines"]),
        "lines": sum(r["lines"] for r in rows), "seconds": seconds,
        "s_per_release": seconds / len(rows),
        "lines_per_s": sum(r["lines"] for r in rows) / seconds if seconds else None,
    }
    for key in ("glossary", "official_terms"):
        present = sum(r.get(f"{key}_present", 0) for r in rows)
        if any(f"{key}_present" in r for r in rows):
            out[f"{key}_kept"] = sum(r.get(f"{key}_kept", 0) for r in rows) / present \
                if present else None
            out[f"{key}_present"] = present
    return out


# ------------------------------------------------------------------------------ chart, report


def chart(groups: list[tuple[str, str, dict[str, Any]]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("pr_recall", "PR recall", 1), ("pr_precision", "PR precision", 1),
               ("chrf_en", "chrF EN", 100), ("chrf_zh", "char chrF ZH", 100)]
    projects = list(dict.fromkeys(p for p, _, _ in groups))
    series = list(dict.fromkeys(s for _, s, _ in groups))
    values = {(p, s): agg for p, s, agg in groups}
    colours = ["#b0b0b0", "#4c72b0", "#dd8452", "#55a868", "#8172b3"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.4))
    width = 0.8 / max(1, len(series))
    for ax, (key, label, top) in zip(axes, metrics, strict=True):
        for k, name in enumerate(series):
            xs = [j + (k - (len(series) - 1) / 2) * width for j in range(len(projects))]
            ys = [values[(p, name)][key] if (p, name) in values else 0.0 for p in projects]
            bars = ax.bar(xs, ys, width, label=name, color=colours[k % len(colours)])
            for bar, (p, y) in zip(bars, zip(projects, ys, strict=True), strict=True):
                if (p, name) in values:
                    ax.annotate(f"{y:.2f}" if top == 1 else f"{y:.0f}",
                                (bar.get_x() + bar.get_width() / 2, y), ha="center",
                                va="bottom", fontsize=7)
        ax.set_xticks(range(len(projects)), projects)
        ax.set_ylim(0, top * 1.1)
        ax.set_title(label)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(series), fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((ln.split(":", 1)[1].strip() for ln in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), "")
    return {"machine": platform.machine(), "cpu": cpu or platform.processor(),
            "cores": os.cpu_count(), "python": platform.python_version()}


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def report(data: dict[str, Any], records: dict[tuple[str, str], dict[str, Any]],
           out: Path) -> str:
    rows = data["rows"]
    runs = {r["id"]: r for r in data["runs"]}
    projects = list(dict.fromkeys(r["project"] for r in rows))
    lines = ["# Release notes against the official changelogs", ""]
    lines += ["Runs whose rows are in this report (rows of a later run replace those of an "
              "earlier one for the same project, version and mode):", ""]
    used_runs = sorted({r["run"] for r in rows})
    for rid in used_runs:
        run = runs[rid]
        lines.append(f"- run {rid} ({run['started']}): `{run['command']}`; modes "
                     f"{', '.join(run['modes'])}; model {run.get('model') or 'none'}; "
                     f"{run['machine']['cpu']}, {run['machine']['cores']} cores; "
                     f"wall {run['wall_s']:.0f} s")
    lines.append("")

    # 1: everything each mode ran on, per project
    lines += ["## All releases each mode ran on", "",
              "| project | mode | releases | PR precision | PR recall | chrF EN | chrF ZH | "
              "lines | s/release | lines/s |", "|" + "---|" * 10]
    for project in projects:
        for mode in MODES:
            agg = data["aggregates"]["all"].get(f"{project}/{mode}")
            if agg:
                lines.append(
                    f"| {project} | {mode} | {agg['releases']} | {_f(agg['pr_precision'])} | "
                    f"{_f(agg['pr_recall'])} | {_f(agg['chrf_en'], 1)} | "
                    f"{_f(agg['chrf_zh'], 1)} | {agg['lines']} | {_f(agg['s_per_release'], 3)} |"
                    f" {_f(agg['lines_per_s'], 2)} |")
    lines.append("")

    # 2: the common subset
    subset = data["aggregates"]["subset"]
    if subset:
        lines += ["## Same releases, every mode", "",
                  "Releases where every mode that ran has a row: "
                  + ", ".join(f"{p} {', '.join(v)}" for p, v in data["subset"].items()) + ".",
                  "",
                  "| project | mode | releases | PR P | PR R | chrF EN | chrF ZH | glossary kept "
                  "(subject terms) | official terms kept | lines | lines with prompt debris | "
                  "s/release | lines/s |", "|" + "---|" * 13]
        for key, agg in subset.items():
            project, mode = key.split("/")
            gk = (f"{_f(agg.get('glossary_kept'))} of {agg['glossary_present']}"
                  if "glossary_present" in agg else "–")
            ok = (f"{_f(agg.get('official_terms_kept'))} of {agg['official_terms_present']}"
                  if "official_terms_present" in agg else "–")
            lines.append(
                f"| {project} | {mode} | {agg['releases']} | {_f(agg['pr_precision'])} | "
                f"{_f(agg['pr_recall'])} | {_f(agg['chrf_en'], 1)} | {_f(agg['chrf_zh'], 1)} | "
                f"{gk} | {ok} | {agg['lines']} | {agg['artifact_lines']} | "
                f"{_f(agg['s_per_release'], 1)} | "
                f"{_f(agg['lines_per_s'], 2)} |")
        lines += ["", "*Prompt debris*: EN+ZH note lines holding a `<text>`/`</text>` fence tag "
                  "or a `[1]`-style marker (copied from the prompts; the product's line checks "
                  "let them through). *Glossary kept* for `model` counts only lines whose "
                  "Chinese passed the product's check, which already demands every glossary term "
                  "(case-insensitively), so it mostly measures case; the rejections below and "
                  "*official terms kept* are the more telling figures.", "",
                  "![release notes eval](release_notes.png)", ""]

    # 3: per release
    lines += ["## Per release", "",
              "| project | version | mode | commits | lines | official PRs | cited | hit | P | R "
              "| chrF EN | chrF ZH | s | notes |", "|" + "---|" * 14]
    for r in sorted(rows, key=lambda r: (r["project"], r["n_commits"], r["version"],
                                         MODES.index(r["mode"]))):
        notes = []
        if r["mode"] == "model":
            notes.append(f"{r['en_rewritten']}/{r['lines']} EN rewritten, {r['zh_translated']}/"
                         f"{r['lines']} ZH translated, {r['calls']} calls")
        if r["mode"] == "naive":
            notes.append(f"{r['subjects_in']} subjects in, {r['subjects_cut']} cut, "
                         f"finish {r['finish']}, invented PRs {r['invented_prs'] or 'none'}")
        lines.append(
            f"| {r['project']} | {r['version']} | {r['mode']} | {r['n_commits']} | {r['lines']} |"
            f" {r['official_prs']} | {r['cited_prs']} | {r['hit_prs']} | {_f(r['pr_precision'])}"
            f" | {_f(r['pr_recall'])} | {_f(r['chrf_en'], 1)} | {_f(r['chrf_zh'], 1)} | "
            f"{_f(r['seconds'], 2)} | {'; '.join(notes)} |")
    lines.append("")

    rejections: Counter[str] = Counter()
    for r in rows:
        rejections.update(r.get("rejections") or {})
    if rejections:
        lines += ["## Why the pipeline's model outputs were rejected", "",
                  "The product's own line checks re-run on the raw outputs (each line gets two "
                  "attempts per language, then falls back to the change title in English, or to "
                  "the English title in the ZH notes):", "",
                  "| check | rejected outputs |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rejections.most_common()]
        dropped: Counter[str] = Counter()
        for r in rows:
            dropped.update(r.get("terms_dropped") or {})
        if dropped:
            lines += ["", "Glossary terms a rejected Chinese line did not keep (the product "
                      "matches terms case-insensitively as substrings): "
                      + ", ".join(f"`{k}` {v}" for k, v in dropped.most_common(20)) + "."]
        lines.append("")

    checks = data["data_checks"]
    lines += ["## The data", "",
              "| project | releases | official PRs | not in the range | not in the model input "
              "| recall ceiling | issue links skipped | sections edited after the tag |",
              "|" + "---|" * 8]
    for project in projects:
        mine = [c for (p, _), c in checks.items() if p == project]
        total = sum(c["official_prs"] for c in mine)
        missing = sum(len(c["not_in_input"]) for c in mine)
        lines.append(
            f"| {project} | {len(mine)} | {total} | {sum(len(c['not_in_range']) for c in mine)}"
            f" | {missing} | {_f(1 - missing / total if total else None)} | "
            f"{sum(c['issue_links'] for c in mine)} | "
            f"{sum(c['edited_after_tag'] for c in mine)} |")
    odd = [f"{p} {v}: {c['not_in_range']}" for (p, v), c in checks.items() if c["not_in_range"]]
    lines += ["", "Official PRs not among the range's commits (cited for context, backports, or "
              "outside the tag range): " + ("; ".join(odd) if odd else "none") + "."]
    field = [f"{p} {v}: {c['missed_by_pr_numbers_field']}" for (p, v), c in checks.items()
             if c["missed_by_pr_numbers_field"]]
    if field:
        lines += ["", "Official PRs that the records' `pr_numbers` field misses but a commit "
                  "subject of the range names (`Merge pull request #N …`, parsed by the "
                  "product's `pr_numbers`): " + "; ".join(field) + "."]
    lines.append("")

    lines += ["## Method", "",
              "- **Input**: `changes_from_json` on a copy of each record holding only `version`, "
              "`previous_tag` and `commits`: commits marked `is_changelog_commit` and the "
              "release's own commits (by subject) are dropped, and the script stops if a marked "
              "commit reaches the input. The official sections (`changelog_en`, "
              "`changelog_zh`; the `*_at_tag` variants are not used) are read only to score.",
              "- **PR selection**: PR numbers cited by our EN notes vs by the official EN "
              "section, both parsed the same way: `github.com/<repo>/pull/N` links plus bare "
              "`#N` outside links (`[#N](…/issues/N)` links are issues and skipped). Precision "
              "and recall are micro-averaged over releases. `structure` and `model` select the "
              "same PRs (selection is code; the model only phrases lines).",
              f"- **Text**: {STRIPPED} chrF (sacrebleu {_sacrebleu_version()}, "
              f"`{CHRF_EN.get_signature()}`) of our EN lines vs the official EN lines, "
              "per release as one segment; per project the corpus chrF over its releases. "
              f"ZH: the same character chrF (`CHRF(char_order=6, word_order=0)`, "
              f"`{CHRF_ZH.get_signature()}`) on the raw cleaned strings: Chinese has no word "
              "boundaries, so word n-grams would be meaningless; sacrebleu's chrF drops "
              "whitespace before counting character n-grams. In `structure` mode the ZH notes "
              "are the English titles (nothing translates them): its ZH score is the floor "
              "that shared ASCII names alone reach.",
              "- **Glossary**: the evaldata has no glossary, and one built from the official "
              "notes would leak (term names only, but still the answer's); so the glossary "
              "passed to `phrase_notes` (and checked there) is derived from each release's "
              "input commit subjects only: conventional-commit scopes written capitalised or "
              "kebab-case (`fix(Table):`, `feat(limit-count):`, generic scopes such as `deps`, "
              "`ci`, `site` excluded), backticked ASCII names, CamelCase or dotted names "
              "(`DatePicker`, `Input.OTP`) and `<kebab-name> plugin`. *Glossary kept* = of "
              "those terms found verbatim in a model-written EN line, the share found verbatim "
              "in its ZH line (lines whose ZH fell back to English are not counted; `naive`: "
              "whole EN text vs whole ZH text, as it has no line alignment). *Official terms "
              "kept* scores the same way with the ASCII names that appear verbatim in both "
              "official sections of the release; that list is used for scoring only and never "
              "reaches the model.",
              "- **naive**: one prompt with the input subjects (PR numbers included, git log "
              f"order, newest first), cut to fit n_ctx {data['n_ctx']} with "
              f"{NAIVE_EN_TOKENS} tokens left for the answer, then one prompt translating the "
              f"whole answer (up to {NAIVE_ZH_TOKENS} tokens). Its prompts are in this script "
              "(not product prompts); it uses the same model and sampling settings.",
              "- **Time**: wall seconds per release for assembling and phrasing (model load "
              "excluded, reported per run); lines/s = note lines / seconds.",
              ""]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def _sacrebleu_version() -> str:
    import sacrebleu

    return sacrebleu.__version__


# ------------------------------------------------------------------------------------- main


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

    chat = settings = prompts = recorder = None
    from assistant.settings import get_settings

    settings = get_settings(profile="demo", **({"data_dir": args.data_dir}
                                               if args.data_dir else {}))
    if {"model", "naive"} & set(modes):
        from assistant.prompting import load_prompt
        from assistant.providers.chat import build_chat_model, chat_model_name

        started = time.perf_counter()
        chat = build_chat_model(settings)
        chat._client()  # type: ignore[attr-defined]
        recorder = Recorder()
        chat.callbacks = [recorder]
        pinned = settings.prompt_versions
        prompts = (load_prompt("release_line", pinned.get("release_line")),
                   load_prompt("translate", pinned.get("translate")))
        run.update(model=chat_model_name(chat),
                   model_load_s=round(time.perf_counter() - started, 1),
                   n_threads=getattr(chat, "n_threads", None),
                   temperature=settings.llm.temperature, seed=settings.llm.seed,
                   prompts=[p.ref for p in prompts])
        console.print(f"model {run['model']} loaded in {run['model_load_s']} s")
    data["n_ctx"] = settings.llm.n_ctx

    jobs = []
    for project, recs in records.items():
        for mode in modes:
            chosen = recs if mode == "structure" else pick_subset(recs, args.releases)
            jobs += [(project, mode, r) for r in chosen]
    wall = time.perf_counter()
    fresh_rows: list[dict[str, Any]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        overall = bar.add_task("releases", total=len(jobs))
        lines_task = bar.add_task("lines", total=1, visible=False)
        for project, mode, record in jobs:
            repo = PROJECTS[project]
            bar.update(overall, description=f"{project} {record['version']} {mode}")

            def on_line(done: int, total: int) -> None:
                bar.update(lines_task, completed=done, total=total, visible=True,
                           description="  lines")

            row = RUNNERS[mode](record, repo, chat=chat, settings=settings, prompts=prompts,
                                recorder=recorder, on_line=on_line)
            bar.update(lines_task, visible=False)
            row.update(project=project, version=record["version"], mode=mode, run=run_id,
                       n_commits=record["n_commits"])
            row["lines_per_s"] = row["lines"] / row["seconds"] if row["seconds"] else None
            row.update(score(row, record, repo))
            fresh_rows.append(row)
            bar.advance(overall)
            if mode != "structure":
                bar.console.print(
                    f"{project} {record['version']} {mode}: {row['lines']} lines in "
                    f"{row['seconds']:.0f} s, PR P/R {row['pr_precision']:.2f}/"
                    f"{row['pr_recall']:.2f}, chrF EN {row['chrf_en']:.1f} ZH {row['chrf_zh']:.1f}")
    run["wall_s"] = time.perf_counter() - wall
    run["finished"] = datetime.now(UTC).isoformat(timespec="seconds")

    fresh_keys = {(r["project"], r["version"], r["mode"]) for r in fresh_rows}
    data["rows"] = [r for r in data["rows"]
                    if (r["project"], r["version"], r["mode"]) not in fresh_keys] + fresh_rows
    data["runs"].append(run)
    used = {r["run"] for r in data["rows"]}
    data["runs"] = [r for r in data["runs"] if r["id"] in used]
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

    groups = [(key.split("/")[0], "structure, all releases", agg)
              for key, agg in data["aggregates"]["all"].items() if key.endswith("/structure")]
    groups += [(key.split("/")[0], f"{key.split('/')[1]}, subset", agg)
               for key, agg in data["aggregates"]["subset"].items()]
    if groups:
        who = run.get("model") or next((r["model"] for r in data["runs"] if r.get("model")),
                                       None)
        title = ("Release notes vs official changelogs (ant-design 6.x, APISIX minors); subset = "
                 "releases run in every mode; model " + (who or "none") +
                 f"; {run['machine']['cores']} cores")
        chart(groups, args.out / "release_notes.png", title)
        if not args.no_copy:
            CHART_COPY.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.out / "release_notes.png", CHART_COPY)

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
