"""A run's figures per system (from its draft rows and the gold), its report lines and chart."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.language import detect_language
from evals.harness.metrics import percentile
from evals.harness.run import markdown_table, pyplot

from .measures import (
    all_links,
    answerable,
    doc_hit,
    dup_targets,
    flag_precision,
    label_scores,
    recall_at,
    reply_flags,
    share,
)


def _shown(row: dict[str, Any]) -> list[str]:
    return [*(row["duplicates"] or []), *(row["related"] or [])]


def duplicates(rows: Sequence[dict[str, Any]], gold: dict[str, dict[str, Any]]
               ) -> dict[str, Any]:
    """Recall@3 of what drafts show and of ``duplicates`` alone (queries with a scorable
    target), and the precision of their "likely duplicate" flags (all drafts)."""
    rows = [r for r in rows if r["duplicates"] is not None]
    queries = [(r, dup_targets(gold[r["key"]])) for r in rows]
    queries = [(r, t) for r, t in queries if t]
    return {
        "shown": recall_at([(_shown(r), t) for r, t in queries]),
        "duplicates_only": recall_at([(r["duplicates"], t) for r, t in queries]),
        "flags": flag_precision([(r["duplicates"], all_links(gold[r["key"]])) for r in rows]),
        "queries": {r["key"]: {"targets": t, "shown": _shown(r)} for r, t in queries},
    }


def docs(rows: Sequence[dict[str, Any]], gold: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Right page cited / shown, on drafts of issues whose maintainer linked a docs page."""
    hits = [doc_hit(r["docs"], answerable(gold[r["key"]])) for r in rows
            if answerable(gold[r["key"]])]
    return {"cited": share([h["cited"] for h in hits]), "shown": share([h["shown"] for h in hits])}


def labels(rows: Sequence[dict[str, Any]], gold: dict[str, dict[str, Any]],
           form: dict[str, list[str]]) -> dict[str, Any] | None:
    """Label P/R/F1: everything shown plus the form's labels, and the classifier's alone."""
    rows = [r for r in rows if r["labels"] is not None]
    if not rows:
        return None
    real = [gold[r["key"]]["gold"]["real_labels"] for r in rows]
    shown = [{lb["name"] for lb in r["labels"]} | set(form.get(r["key"], [])) for r in rows]
    own = [{lb["name"] for lb in r["labels"] if lb["source"] == "classifier"} for r in rows]
    return {"with_form_labels": label_scores(list(zip(shown, real, strict=True))),
            "classifier_only": label_scores(list(zip(own, real, strict=True))),
            "process_labels": label_scores(list(zip(shown, real, strict=True)), process=True),
            "abstained": share([bool(r["labels_abstained"]) for r in rows])}


def summarise(rows: Sequence[dict[str, Any]], gold: dict[str, dict[str, Any]],
              form: dict[str, list[str]], docs_loo: Sequence[dict[str, Any]],
              dup_loo: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every code-level figure of one system."""
    seconds = [r["seconds"] for r in rows]
    flags = [reply_flags(r["reply"]) for r in rows]
    langs = [r["language"] == gold[r["key"]]["gold"]["lang"] for r in rows]
    replied = [r for r in rows if r["reply"].strip()]
    return {
        "drafts": len(rows),
        "labels": labels(rows, gold, form),
        "duplicates": duplicates(rows, gold),
        "duplicates_loo_pool": duplicates(dup_loo, gold) if dup_loo else None,
        "docs": docs(rows, gold),
        "docs_loo_past": docs(docs_loo, gold) if docs_loo else None,
        "language": share(langs),
        "reply_language": share([detect_language(_quotes_out(r["reply"])) == gold[r["key"]]
                                 ["gold"]["lang"] for r in replied]),
        "latency_s": {"median": round(statistics.median(seconds), 1) if seconds else None,
                      "p90": round(percentile(seconds, 90), 1) if seconds else None},
        **{f"{f}_drafts": sum(x[f] for x in flags) for f in ("promise", "action_claim",
                                                             "thanks_docs")},
        "fallbacks": sum(bool(r["fallback"]) for r in rows),
        "no_reply": sum(not r["reply_needed"] for r in rows),
        "confidence_median": statistics.median(c) if (c := [r["confidence"] for r in rows
                                                            if r["confidence"] is not None])
        else None,
    }


def _quotes_out(markdown: str) -> str:
    """The reply's own words: quoted lines (a maintainer's or the docs' words) left out."""
    return "\n".join(line for line in markdown.splitlines() if not line.startswith(">"))


def language_function(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The product's language of an issue (``reporter_language`` where the code has it, else
    ``detect_language`` of title + body) on every record vs ``gold.lang`` (no model)."""
    try:
        from assistant.language import reporter_language
    except ImportError:
        def reporter_language(title: str, body: str) -> str:
            return detect_language(f"{title}\n{body}")
    right = [reporter_language(r["title"], r.get("body") or "") == r["gold"]["lang"]
             for r in records]
    zh = [ok for ok, r in zip(right, records, strict=True) if r["gold"]["lang"] == "zh"]
    mixed = [ok for ok, r in zip(right, records, strict=True) if r["gold"]["lang_mixed"]]
    return {"all": share(right), "zh": share(zh), "lang_mixed": share(mixed)}


def _fmt(value: Any) -> str:
    if isinstance(value, dict) and "share" in value:
        return "–" if not value["n"] else f"{value['share']:.2f} ({value['yes']}/{value['n']})"
    return "–" if value is None else str(value)


def _prf(value: dict[str, Any] | None) -> str:
    if not value:
        return "–"
    return (f"P {_fmt(value['P'])} / R {_fmt(value['R'])} / F1 {_fmt(value['F1'])} "
            f"({value['tp']} right of {value['predicted']} shown, {value['gold']} gold)")


def _recall(value: dict[str, Any] | None) -> str:
    if not value or not value["queries"]:
        return "– (no query)"
    return f"{_fmt(value['recall@3'])} ({value['found']}/{value['targets']}, " \
        f"{value['queries']} queries)"


def _flags(value: dict[str, Any]) -> str:
    return f"{_fmt(value['precision'])} ({value['right']}/{value['flags']} flags, " \
        f"{value['drafts']} drafts)"


def table(summaries: dict[str, dict[str, Any]]) -> list[str]:
    """The side-by-side table of code-level figures."""
    names = list(summaries)

    def row(label: str, get: Any) -> list[str]:
        cells = []
        for name in names:
            try:
                cells.append(get(summaries[name]))
            except (KeyError, TypeError):
                cells.append("–")
        return [label, *cells]

    lab = lambda s: s["labels"]  # noqa: E731
    rows = [
        row("drafts (incoming)", lambda s: str(s["drafts"])),
        row("labels, shown + form labels", lambda s: _prf(lab(s)["with_form_labels"])),
        row("labels, classifier only", lambda s: _prf(lab(s)["classifier_only"])),
        row("process labels (apart)", lambda s: _prf(lab(s)["process_labels"])),
        row("label abstention", lambda s: _fmt(lab(s)["abstained"])),
        row("dup recall@3, shown", lambda s: _recall(s["duplicates"]["shown"])),
        row("dup recall@3, duplicates only", lambda s: _recall(s["duplicates"]["duplicates_only"])),
        row("likely-duplicate precision", lambda s: _flags(s["duplicates"]["flags"])),
        row("dup LOO pool: recall@3 shown",
            lambda s: _recall(s["duplicates_loo_pool"]["shown"])),
        row("dup LOO pool: duplicates only",
            lambda s: _recall(s["duplicates_loo_pool"]["duplicates_only"])),
        row("dup LOO pool: flag precision",
            lambda s: _flags(s["duplicates_loo_pool"]["flags"])),
        row("right page cited (incoming)", lambda s: _fmt(s["docs"]["cited"])),
        row("right page shown (incoming)", lambda s: _fmt(s["docs"]["shown"])),
        row("right page cited (past LOO)", lambda s: _fmt(s["docs_loo_past"]["cited"])),
        row("right page shown (past LOO)", lambda s: _fmt(s["docs_loo_past"]["shown"])),
        row("language right (draft)", lambda s: _fmt(s["language"])),
        row("reply in the reporter's language", lambda s: _fmt(s["reply_language"])),
        row("latency median / p90 (s)",
            lambda s: f"{s['latency_s']['median']} / {s['latency_s']['p90']}"),
        row("drafts with a promise (regex)", lambda s: str(s["promise_drafts"])),
        row("drafts with an action claim (regex)", lambda s: str(s["action_claim_drafts"])),
        row("drafts thanking for the docs (regex)", lambda s: str(s["thanks_docs_drafts"])),
        row("template fallbacks", lambda s: str(s["fallbacks"])),
        row("no reply drafted", lambda s: str(s["no_reply"])),
        row("confidence median", lambda s: _fmt(s["confidence_median"])),
    ]
    return markdown_table(["", *names], rows)


def latency_chart(rows_by_system: dict[str, list[float]], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(rows_by_system)), 4))
    names = list(rows_by_system)
    ax.boxplot([rows_by_system[n] or [0.0] for n in names], tick_labels=names)
    ax.axhline(20, color="red", linestyle="--", linewidth=1, label="goal: median 20 s")
    ax.set_ylabel("seconds per draft")
    ax.set_title("Triage draft latency, APISIX incoming issues")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rubric_chart(table: dict[str, dict[str, Any]], latency: dict[str, dict[str, Any]],
                 path: Path) -> None:
    """Rubric distribution per system (stacked) and latency median/p90 per system."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(table)
    bottom = [0.0] * len(names)
    for score, colour in ((2, "tab:green"), (1, "tab:orange"), (0, "tab:red")):
        values = [table[n][f"%{score}"] for n in names]
        left.bar(names, values, bottom=bottom, color=colour, label=f"scored {score}")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    left.axhline(60, color="black", linestyle="--", linewidth=1, label="goal: 60% scored 2")
    left.set_ylabel("% of judged replies")
    left.set_title("Blind rubric")
    left.legend(fontsize=7)
    lat = [n for n in latency if latency[n].get("median") is not None]
    xs = range(len(lat))
    right.bar([x - 0.2 for x in xs], [latency[n]["median"] for n in lat], 0.4, label="median")
    right.bar([x + 0.2 for x in xs], [latency[n]["p90"] for n in lat], 0.4, label="p90")
    right.set_xticks(list(xs), lat)
    right.axhline(20, color="red", linestyle="--", linewidth=1, label="goal: median 20 s")
    right.set_ylabel("seconds per draft")
    right.set_title("Latency")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
