"""Meeting notes: Markdown or text files, each dated and language-tagged, cut at headings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from assistant.language import detect_language
from assistant.providers.vector_index import Chunk, Metadata
from assistant.redact import redact
from assistant.safe_yaml import front_matter
from ingest.docs import chunk_id
from ingest.files import Skipped, read_text, walk
from ingest.markdown import chunk_markdown, title_of

NOTE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_FULL_DATE = re.compile(
    r"(?<!\d)(20\d\d|19\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)"
)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_MONTH_DAY = re.compile(r"(?<![\d.])(1[0-2]|0?[1-9])[.-](3[01]|[12]\d|0?[1-9])(?![\d])")


def _valid(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def note_date(name: str, text: str) -> str:
    """ISO date of a meeting: front matter ``date:``, else the file name, else "" (unknown)."""
    value = front_matter(text)[0].get("date")  # scalars only, no aliases, at most 16 KB
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and (m := _FULL_DATE.search(value)):
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    stem = Path(name).stem
    if m := _FULL_DATE.search(stem):
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    year = _YEAR.search(stem)
    month_day = _MONTH_DAY.search(_YEAR.sub(" ", stem))
    if year and month_day:  # e.g. 2022_CloudWeGo_community_meeting_10.20
        return _valid(int(year.group(1)), int(month_day.group(1)), int(month_day.group(2)))
    return ""


@dataclass
class NotesScan:
    """Meeting notes found under a folder (or one file)."""

    chunks_by_path: dict[str, list[Chunk]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def scan_notes(
    root: Path, *, project: str, max_tokens: int = 350, max_bytes: int = 5 * 1024 * 1024
) -> NotesScan:
    """Passages for every usable note under root (or root itself when it is a file)."""
    root = root.resolve()
    base = root.parent if root.is_file() else root
    files = [root] if root.is_file() else list(walk(root))
    scan = NotesScan()
    for path in files:
        rel = path.relative_to(base).as_posix()
        if path.suffix.lower() not in NOTE_SUFFIXES:
            scan.skipped.append(Skipped(rel, f"unsupported type {path.suffix or '(none)'}"))
            continue
        text, reason = read_text(path, base, max_bytes)
        if text is None:
            scan.skipped.append(Skipped(rel, reason or "unreadable"))
            continue
        text = redact(text)
        when = note_date(path.name, text)
        title = title_of(text, fallback=path.stem.replace("_", " ").replace("-", " "))
        language = detect_language(text)
        seen: dict[str, int] = {}
        chunks = []
        for position, section in enumerate(chunk_markdown(text, max_tokens)):
            heading = " > ".join(t for t in section.trail if t != title)
            head = f"{title} ({when or 'undated'})" + (f"\n{heading}" if heading else "")
            body = f"{head}\n\n{section.text}"
            metadata: Metadata = {
                "source_kind": "meeting_notes",
                "project": project,
                "path": f"notes/{rel}",
                "title": title,
                "heading": heading,
                "anchor": section.anchor,
                "date": when,
                "language": language,
                "url": path.as_uri() + (f"#{section.anchor}" if section.anchor else ""),
                "position": position,
            }
            chunks.append(Chunk(chunk_id(project, f"notes/{rel}", body, seen), body, metadata))
        if not chunks:
            scan.skipped.append(Skipped(rel, "no text"))
            continue
        scan.chunks_by_path[f"notes/{rel}"] = chunks
    return scan
