"""The APISIX triage set: records, keys, the split, and what the drafting loop may see.

Gold never reaches the drafting loop: ``public`` drops it (and every field it could hide in),
and the loop gets only ``IssueInput`` built from title, body, author and the form labels the
issue already carries. Scoring reads gold from the records afterwards.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from assistant.forge.shapes import IssueInput

SET = Path("triage_real") / "apisix"
DOCS = Path("docs_corpus") / "apache-apisix"
DEFAULT_REPO = "apache/apisix"
# Fields of a record that hold or describe gold; the loop never sees them.
PRIVATE = ("gold", "comments_hidden_for_triage")
_URL_KEY = re.compile(r"github\.com/([^/]+/[^/]+)/(?:issues|pull)/(\d+)")


def load(data: Path) -> list[dict[str, Any]]:
    """Every record of ``issues.jsonl`` under ``data`` (the evaldata root or the set's folder)."""
    folder = data if (data / "issues.jsonl").is_file() else data / SET
    with (folder / "issues.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def labels_file(data: Path) -> Path:
    folder = data if (data / "labels.json").is_file() else data / SET
    return folder / "labels.json"


def key(record: dict[str, Any]) -> str:
    """``owner/repo#N``: issues of several repos share one set."""
    return f"{record.get('repository') or DEFAULT_REPO}#{record['number']}"


def target_key(target: int | str, repo: str) -> str:
    """A gold target (``123`` in the record's own repo, or ``owner/repo#N``) as a key."""
    return f"{repo}#{target}" if isinstance(target, int) else str(target)


def url_key(url: str, number: int | None) -> str:
    """The key of a retrieved issue from its URL (its number in the default repo otherwise)."""
    match = _URL_KEY.search(url or "")
    return f"{match.group(1)}#{match.group(2)}" if match else f"{DEFAULT_REPO}#{number}"


def order(record: dict[str, Any]) -> tuple[str, int]:
    """Creation order: day-precision dates, the lower number first on the same day."""
    return (record["created_at"], record["number"])


def split(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``past`` and ``incoming``, each in creation order."""
    ordered = sorted(records, key=order)
    return ([r for r in ordered if r["gold"]["split"] == "past"],
            [r for r in ordered if r["gold"]["split"] == "incoming"])


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without gold: what an ingest or the drafting loop may read."""
    return {k: v for k, v in record.items() if k not in PRIVATE}


def title_body_only(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the duplicate pool holds it: title and body, no labels, comments or state."""
    kept = ("repository", "number", "title", "body", "user", "created_at", "html_url")
    return {**{k: record[k] for k in kept if k in record}, "state": "open", "labels": [],
            "comments": []}


def triage_input(record: dict[str, Any], labels: bool = True) -> IssueInput:
    """What the draft gets: title, body, author, the labels already on the issue (the issue
    form's, for incoming records; none with ``labels=False``), repo, number and URL. Never
    gold, comments or state."""
    seen = public(record)
    fields: dict[str, Any] = {
        "title": seen["title"], "body": seen.get("body") or "",
        "author": (seen.get("user") or {}).get("login"),
        "repo": seen.get("repository") or DEFAULT_REPO, "number": seen["number"],
        "url": seen.get("html_url"),
    }
    if "labels" in IssueInput.model_fields:  # not in the code of db06467
        fields["labels"] = [lb["name"] for lb in seen.get("labels") or []] if labels else []
    return IssueInput(**fields)


def maintainers(past: list[dict[str, Any]]) -> list[str]:
    """Logins whose comments on past issues are marked ``maintainer == "yes"``."""
    return sorted({c["user"]["login"] for r in past for c in r.get("comments") or []
                   if c.get("maintainer") == "yes" and (c.get("user") or {}).get("login")})


def maintainer_comments(past: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Past issue key -> its maintainers' comment bodies (past only: incoming ones are gold)."""
    return {key(r): [c["body"] for c in r.get("comments") or [] if c.get("maintainer") == "yes"]
            for r in past if r["gold"]["split"] == "past"}
