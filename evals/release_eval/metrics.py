"""Per-release scores (PR selection, chrF EN, character chrF ZH, glossary) and their aggregate."""

from __future__ import annotations

from typing import Any

from evals.harness.metrics import CHRF_EN, CHRF_ZH

from .glossary import kept, official_terms
from .text import ARTIFACT, cited_prs, note_lines

__all__ = ["CHRF_EN", "CHRF_ZH", "aggregate", "score"]


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
