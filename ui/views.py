"""What the review UI shows, as plain functions of stored records (no Gradio here)."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

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


def escape(text: Any) -> str:
    """Text from a draft (or a person) shown as Markdown text, never as markup: no tag, link,
    image or heading survives. The desk's Markdown components render no LaTeX either."""
    text = str(text)
    for char in "\\`*_{}[]()<>#+!|~&$":
        text = text.replace(char, "\\" + char)
    return text


_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def http_url(url: Any) -> str | None:
    """``url`` ready for a Markdown link if it is a plain http(s) URL with a host, else None
    (``javascript:``, ``data:``, relative or malformed URLs never become links)."""
    text = str(url or "")
    if _UNSAFE_IN_URL.search(text) or len(text) > 2000:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(text, safe=":/?#@!$&*+,;=%~-._")


def link(title: Any, url: Any) -> str:
    """A Markdown link to ``url`` when it is a plain http(s) URL, else the escaped title."""
    target = http_url(url)
    text = escape(title) or escape(url)
    return f"[{text}]({target})" if target else text


def input_header(record: DraftRecord) -> str:
    """Who asked for what: the issue's title and reporter, or the request's kind."""
    data = record.input
    if record.kind == "triage":
        ref = (escape(f"{data.get('repo')}#{data.get('number')}") if data.get("number")
               else "pasted text")
        author = f" by @{escape(data['author'])}" if data.get("author") else ""
        return f"#### {escape(data.get('title') or '(no title)')}\n{ref}{author}"
    return f"#### {escape(record.kind.replace('_', ' '))}: {escape(record.title)}"


def input_text(record: DraftRecord) -> str:
    """The input as the reporter wrote it (shown verbatim, not rendered)."""
    if record.kind == "triage":
        return str(record.input.get("body") or "")
    return "\n".join(f"{k}: {v}" for k, v in record.input.items())


def draft_meta(record: DraftRecord) -> str:
    parts = [f"**#{record.id}** · {escape(record.kind)} · {escape(record.project)} · "
             f"**{escape(record.status)}**"]
    if record.confidence is not None:
        parts.append(f"confidence {record.confidence:.2f}")
    if record.revision:
        parts.append(f"revision {record.revision}")
    if record.model:
        parts.append(escape(record.model))
    text = " · ".join(parts)
    output = record.output or {}
    if output.get("summary_en"):
        text += f"\n\n**Summary (EN):** {escape(output['summary_en'])}"
    applied = [lb["name"] for lb in output.get("labels", []) if lb.get("source") == "applied"]
    if applied:
        text += "\n\n**Already on the issue:** " + ", ".join(escape(n) for n in applied)
    if output.get("labels_abstained") and output.get("label_candidates"):
        text += "\n\n**Labels (abstained), best guesses:** " + ", ".join(
            f"{escape(lb['name'])} {lb['confidence']:.2f}" for lb in output["label_candidates"])
    for past in output.get("past_answers") or []:
        ref = past.get("ref") or f"#{past['number']}"
        text += (f"\n\n**Past answer quoted:** {link(ref, past['url'])} "
                 f"{escape(past['title'][:80])} (similarity {past['score']:.2f})")
    if output.get("confidence_evidence"):
        text += "\n\n**Confidence from:** " + ", ".join(
            f"{escape(k)} {v:g}" for k, v in output["confidence_evidence"].items())
    if output.get("missing"):
        text += "\n\n**Missing information:** " + "; ".join(
            escape(m.get("question", m) if isinstance(m, dict) else str(m))
            for m in output["missing"])
    if output.get("reply_needed") is False:
        text += f"\n\n**No reply needed:** {escape(output.get('no_reply_reason'))}"
    if record.reject_reason:
        text += f"\n\n**Rejected:** {escape(record.reject_reason)}"
    if record.published_url:
        text += f"\n\n**Published:** {link(record.published_url, record.published_url)}"
    if record.error:
        text += f"\n\n**Error:** {escape(record.error)}"
    return text


def label_choices(record: DraftRecord, content: DraftContent) -> list[tuple[str, str]]:
    """Suggested labels with their confidence (plus any a reviewer kept)."""
    output = record.output or {}
    choices = [(f"{lb['name']} ({lb['confidence']:.2f})", lb["name"])
               for lb in output.get("labels", []) if lb.get("source") != "applied"]
    known = {value for _, value in choices}
    return choices + [(name, name) for name in content.labels if name not in known]


def duplicate_choices(record: DraftRecord) -> list[tuple[str, int]]:
    output = record.output or {}
    return [(f"{d.get('ref') or '#' + str(d['number'])} {d['title'][:60]} ({d['score']:.2f}"
             + (", likely duplicate)" if key == "duplicates" else ", related)"), d["number"])
            for key in ("duplicates", "related") for d in output.get(key, [])]


def sources_markdown(record: DraftRecord) -> str:
    """The passages the draft used: title, link, score, and the passage."""
    if not record.sources:
        return "No sources."
    blocks = []
    for n, source in enumerate(record.sources, 1):
        passage = str(source.get("passage") or source.get("text") or "")[:500]
        quoted = "\n".join("> " + line for line in escape(passage).splitlines() if line.strip())
        cited = " · cited" if source.get("cited") else ""
        cited_link = link(source.get("title", ""), source.get("url", ""))
        blocks.append(f"**\\[{n}\\] {cited_link}**"
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
