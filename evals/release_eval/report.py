"""The Markdown report: runs, aggregates, per-release rows, rejections, the data and the method."""

from __future__ import annotations

from collections import Counter
from typing import Any

from evals.harness.metrics import CHRF_EN, CHRF_ZH

from .config import MODES
from .naive import NAIVE_EN_TOKENS, NAIVE_ZH_TOKENS
from .selection import selection_report
from .text import STRIPPED


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def report(data: dict[str, Any], records: dict[tuple[str, str], dict[str, Any]]
           ) -> list[str]:
    """The report's lines (below the harness's header)."""
    rows = data["rows"]
    runs = {r["id"]: r for r in data["runs"]}
    projects = list(dict.fromkeys(r["project"] for r in rows))
    lines = ["Runs whose rows are in this report (rows of a later run replace those of an "
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

    # 3: where PR precision is lost (structure selection, all releases)
    if data.get("selection"):
        lines += selection_report(data["selection"])

    # 4: per release
    lines += ["## Per release", "",
              "| project | version | mode | commits | lines | official PRs | cited | hit | P | R "
              "| chrF EN | chrF ZH | s | notes |", "|" + "---|" * 14]
    for r in sorted(rows, key=lambda r: (r["project"], r["n_commits"], r["version"],
                                         MODES.index(r["mode"]))):
        notes = []
        if r["mode"] == "model":
            notes.append(f"{r.get('en_clean', 0)} clean titles kept, "
                         f"{r['en_rewritten']}/{r['lines']} EN rewritten, {r['zh_translated']}/"
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
                  "The product's checks on each answer line of a batch (one attempt; a rejected "
                  "line keeps the change title in English, or the English line in the ZH "
                  "notes):", "",
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
              "passed to `phrase_batched` (and checked there) is derived from each release's "
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
    return lines


def _sacrebleu_version() -> str:
    import sacrebleu

    return sacrebleu.__version__


