"""The evaldata records, the part of each a model may see, and what the data cannot give."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.kinds.release_notes.change_list import changes_from_json, pr_numbers
from assistant.kinds.release_notes.models import Change
from evals.harness.corpora import read_jsonl

from .text import cited_prs


def load_records(data: Path, projects: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each project's releases from ``<data>/release_notes/<project>_releases.jsonl``."""
    return {name: read_jsonl(data / "release_notes" / f"{name}_releases.jsonl")
            for name in projects}


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
