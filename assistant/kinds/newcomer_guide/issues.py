"""Good-first issues from the index's metadata: open, labelled for newcomers, unassigned when
that is known, recently updated; ranked by how close they are to the newcomer's interest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.chains.guards import clean_line
from assistant.kinds.newcomer_guide.models import GuideOptions, IssueSuggestion
from assistant.providers.vector_index import Metadata, VectorIndex
from assistant.retrieval.retriever import Retriever


def _labels(meta: Metadata) -> list[str]:
    return [name.strip() for name in str(meta.get("labels", "")).split(",") if name.strip()]


def _assignees(meta: Metadata) -> list[str] | None:
    """Assigned logins; None when the index was built before assignees were recorded."""
    if "assignees" not in meta:
        return None
    return [login.strip() for login in str(meta["assignees"]).split(",") if login.strip()]


def _when(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def why_not(meta: Metadata, options: GuideOptions, now: datetime) -> str | None:
    """Why an indexed issue is not a good first issue now (None: it is one)."""
    if meta.get("source_kind") != "issue":
        return "not an issue"
    if str(meta.get("state", "")).lower() != "open":
        return "closed"
    wanted = {label.casefold() for label in options.labels}
    if not {label.casefold() for label in _labels(meta)} & wanted:
        return "no newcomer label"
    if _assignees(meta):
        return "assigned"
    updated = _when(str(meta.get("updated_at") or meta.get("created_at") or ""))
    if updated is None or now - updated > timedelta(days=options.max_issue_age_days):
        return "not updated recently"
    return None


def good_first_issues(index: VectorIndex, retriever: Retriever, interest: str, *,
                      options: GuideOptions, now: datetime | None = None,
                      ) -> tuple[list[IssueSuggestion], dict[str, int]]:
    """The fitting issues, closest to the interest first; and how many were passed over why."""
    now = now or datetime.now(UTC)
    by_number: dict[int, Metadata] = {}
    for meta in index.entries({"source_kind": "issue"}).values():
        number = int(meta.get("number", 0) or 0)
        if number and (number not in by_number or meta.get("part") == "body"):
            by_number[number] = meta
    candidates: dict[int, Metadata] = {}
    passed: dict[str, int] = {}
    for number, meta in by_number.items():
        reason = why_not(meta, options, now)
        if reason is None:
            candidates[number] = meta
        else:
            passed[reason] = passed.get(reason, 0) + 1
    scores: dict[int, float] = {}
    query = " ".join(interest.split())[:300]
    if candidates and query:
        where = {"$and": [{"source_kind": "issue"}, {"state": "open"}]}
        for hit in retriever.search(query, k=max(30, 3 * len(candidates)), where=where):
            number = int(hit.metadata.get("number", 0) or 0)
            if number in candidates:
                scores[number] = max(scores.get(number, 0.0), hit.score)
    ordered = sorted(candidates, key=lambda n: (scores.get(n, 0.0),
                                                str(candidates[n].get("updated_at", ""))),
                     reverse=True)
    suggestions = [
        IssueSuggestion(
            number=n, title=clean_line(str(candidates[n].get("title", ""))),
            url=str(candidates[n].get("url", "")), labels=_labels(candidates[n]),
            updated_at=str(candidates[n].get("updated_at", "")),
            assignees=_assignees(candidates[n]), score=round(scores.get(n, 0.0), 4))
        for n in ordered[: options.max_issues]
    ]
    return suggestions, passed
