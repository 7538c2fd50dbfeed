"""What the review UI shows, as plain functions of stored records (no Gradio here)."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import Any

from assistant.store.drafts import DraftContent, DraftRecord

QUEUE_COLUMNS = ["id", "kind", "project", "lang", "status", "age", "confidence", "title"]


def age(when: datetime, now: datetime | None = None) -> str:
    """'3 min', '2 h', '5 d'."""
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def queue_rows(records: list[DraftRecord]) -> list[list[Any]]:
    return [[r.id, r.kind, r.project, r.language or "", r.status, age(r.created_at),
             "" if r.confidence is None else f"{r.confidence:.2f}", r.title[:90]]
            for r in records]


def counts_line(counts: dict[str, int]) -> str:
    order = ["queued", "drafting", "pending_review", "approved", "rejected", "published", "failed"]
    parts = [f"**{counts[s]}** {s.replace('_', ' ')}" for s in order if counts.get(s)]
    return " · ".join(parts) or "The queue is empty."


def _escape(text: str) -> str:
    """Reporter text shown as Markdown text, never as markup."""
    for char in "\\`*_{}[]()<>#+!|~":
        text = text.replace(char, "\\" + char)
    return text


def input_header(record: DraftRecord) -> str:
    """Who asked for what: the issue's title and reporter, or the request's kind."""
    data = record.input
    if record.kind == "triage":
        ref = f"{data.get('repo')}#{data.get('number')}" if data.get("number") else "pasted text"
        author = f" by @{_escape(str(data['author']))}" if data.get("author") else ""
        return f"#### {_escape(data.get('title') or '(no title)')}\n{ref}{author}"
    return f"#### {record.kind.replace('_', ' ')}: {_escape(record.title)}"


def input_text(record: DraftRecord) -> str:
    """The input as the reporter wrote it (shown verbatim, not rendered)."""
    if record.kind == "triage":
        return str(record.input.get("body") or "")
    return "\n".join(f"{k}: {v}" for k, v in record.input.items())


def draft_meta(record: DraftRecord) -> str:
    parts = [f"**#{record.id}** · {record.kind} · {record.project} · **{record.status}**"]
    if record.confidence is not None:
        parts.append(f"confidence {record.confidence:.2f}")
    if record.revision:
        parts.append(f"revision {record.revision}")
    if record.model:
        parts.append(f"{record.model}")
    text = " · ".join(parts)
    output = record.output or {}
    if output.get("summary_en"):
        text += f"\n\n**Summary (EN):** {_escape(output['summary_en'])}"
    if output.get("missing"):
        text += "\n\n**Missing information:** " + "; ".join(
            _escape(str(m.get("question", m)) if isinstance(m, dict) else str(m))
            for m in output["missing"])
    if output.get("reply_needed") is False:
        text += f"\n\n**No reply needed:** {_escape(str(output.get('no_reply_reason')))}"
    if record.reject_reason:
        text += f"\n\n**Rejected:** {_escape(record.reject_reason)}"
    if record.published_url:
        text += f"\n\n**Published:** {record.published_url}"
    if record.error:
        text += f"\n\n**Error:** {_escape(record.error)}"
    return text


def label_choices(record: DraftRecord, content: DraftContent) -> list[tuple[str, str]]:
    """Suggested labels with their confidence (plus any a reviewer kept)."""
    output = record.output or {}
    choices = [(f"{lb['name']} ({lb['confidence']:.2f})", lb["name"])
               for lb in output.get("labels", [])]
    known = {value for _, value in choices}
    return choices + [(name, name) for name in content.labels if name not in known]


def duplicate_choices(record: DraftRecord) -> list[tuple[str, int]]:
    output = record.output or {}
    return [(f"#{d['number']} {d['title'][:60]} ({d['score']:.2f}"
             + (", likely duplicate)" if key == "duplicates" else ", related)"), d["number"])
            for key in ("duplicates", "related") for d in output.get(key, [])]


def sources_markdown(record: DraftRecord) -> str:
    """The passages the draft used: title, link, score, and the passage."""
    if not record.sources:
        return "No sources."
    blocks = []
    for n, source in enumerate(record.sources, 1):
        passage = str(source.get("passage") or source.get("text") or "")[:500]
        quoted = "\n".join("> " + line for line in _escape(passage).splitlines() if line.strip())
        cited = " · cited" if source.get("cited") else ""
        title = _escape(str(source.get("title", "")))
        blocks.append(f"**[{n}] [{title}]({source.get('url', '')})**"
                      f" · score {float(source.get('score', 0)):.2f}{cited}\n\n{quoted}")
    return "\n\n".join(blocks)


def diff_markdown(original: str, edited: str) -> str:
    """A unified diff of the reviewer's text against the model's draft."""
    if original == edited:
        return "*No changes to the model's draft.*"
    lines = difflib.unified_diff(original.splitlines(), edited.splitlines(), "draft", "edited",
                                 lineterm="", n=1)
    body = "\n".join(lines).replace("```", "``\u200b`")
    return f"```diff\n{body}\n```"


def index_rows(summary: dict[str, Any]) -> list[list[Any]]:
    return [[s["kind"], s["source"], s["items"], s["passages"], s.get("synced_up_to", "")]
            for s in summary["sources"]]
