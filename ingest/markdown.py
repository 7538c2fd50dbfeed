"""Structure-aware Markdown chunking: split at headings, keep fenced code blocks whole."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)


@dataclass
class Section:
    """A run of Markdown under one heading trail."""

    trail: list[str]
    text: str
    anchor: str = ""
    blocks: list[str] = field(default_factory=list)


def slugify(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*\[\]()]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _blocks(lines: list[str]) -> list[str]:
    """Paragraph-level blocks; a fenced code block is one block."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in lines:
        match = _FENCE.match(line.strip())
        if fence is None and match:
            if current:
                blocks.append("\n".join(current))
                current = []
            fence = match.group(1)[0] * 3
            current.append(line)
            continue
        if fence is not None:
            current.append(line)
            if line.strip().startswith(fence):
                blocks.append("\n".join(current))
                current, fence = [], None
            continue
        if not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def title_of(text: str, fallback: str) -> str:
    """The first level-1 heading, or the fallback."""
    for line in _FRONT_MATTER.sub("", text).splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return match.group(2).strip()
    return fallback


def split_sections(text: str) -> list[Section]:
    """Sections at headings (outside code fences), each with its heading trail."""
    text = _FRONT_MATTER.sub("", text.replace("\r\n", "\n"))
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    body: list[str] = []
    anchor = ""
    in_fence = False

    def flush() -> None:
        blocks = _blocks(body)
        if blocks:
            sections.append(
                Section(trail=[t for _, t in trail], text="\n\n".join(blocks),
                        anchor=anchor, blocks=blocks)
            )

    for line in text.split("\n"):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            body = []
            level, heading = len(match.group(1)), match.group(2).strip()
            trail = [(lvl, t) for lvl, t in trail if lvl < level] + [(level, heading)]
            anchor = slugify(heading)
            continue
        body.append(line)
    flush()
    return sections


def chunk_markdown(text: str, max_chars: int = 1500) -> list[Section]:
    """Sections packed into chunks of at most ``max_chars`` (a code block may exceed it alone)."""
    chunks: list[Section] = []
    for section in split_sections(text):
        current: list[str] = []
        size = 0
        for block in section.blocks:
            if current and size + len(block) > max_chars:
                chunks.append(Section(section.trail, "\n\n".join(current), section.anchor))
                current, size = [], 0
            current.append(block)
            size += len(block) + 2
        if current:
            chunks.append(Section(section.trail, "\n\n".join(current), section.anchor))
    return chunks
