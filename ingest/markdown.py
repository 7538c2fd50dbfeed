"""Structure-aware Markdown chunking: split at headings, keep fenced code blocks whole."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.anchors import EXPLICIT_ID, anchor_for

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
    """GitHub's anchor for a heading met once on its page."""
    return anchor_for(heading, "github", {})


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


_FRONT_TITLE = re.compile(r"^title:\s*['\"]?(.+?)['\"]?\s*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->|^<head>.*?^</head>[ \t]*$", re.DOTALL | re.MULTILINE)


def title_of(text: str, fallback: str) -> str:
    """The first level-1 heading, else the front matter's ``title:``, else the fallback."""
    in_fence = False
    for line in strip_comments(_FRONT_MATTER.sub("", text)).splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return match.group(2).strip()
    front = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if front and (title := _FRONT_TITLE.search(front.group(0))):
        return title.group(1).strip()
    return fallback


def strip_comments(text: str) -> str:
    """HTML comments removed outside code fences (readers never see them; licence headers)."""
    if "<!--" not in text and "<head>" not in text:
        return text
    parts = re.split(r"(^(?:`{3,}|~{3,}).*?^(?:`{3,}|~{3,})[ \t]*$)", text,
                     flags=re.MULTILINE | re.DOTALL)
    return "".join(p if i % 2 else _HTML_COMMENT.sub("", p) for i, p in enumerate(parts))


def split_sections(text: str, anchor_style: str = "github") -> list[Section]:
    """Sections at headings (outside code fences), each with its heading trail and the
    anchor ``anchor_style``'s generator gives the heading (see ``ingest.anchors``)."""
    text = strip_comments(_FRONT_MATTER.sub("", text.replace("\r\n", "\n")))
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    body: list[str] = []
    anchor = ""
    in_fence = False
    seen: dict[str, int] = {}

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
            level, raw = len(match.group(1)), match.group(2).strip()
            heading = EXPLICIT_ID.sub("", raw).strip() or raw
            trail = [(lvl, t) for lvl, t in trail if lvl < level] + [(level, heading)]
            anchor = anchor_for(raw, anchor_style, seen)
            continue
        body.append(line)
    flush()
    return sections


_CJK = re.compile(r"[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def _cjk_count(text: str) -> int:
    return 0 if text.isascii() else sum(len(run) for run in _CJK.findall(text))


def _tokens(cjk: int, other: int) -> int:
    return cjk + (other + 3) // 4


def count_tokens(text: str) -> int:
    """Estimated model tokens: one per CJK character, one per four other characters.

    Close enough for the multilingual tokenizers used here (measured within ~20% on
    the APISIX docs), and independent of which embedder is configured.
    """
    cjk = _cjk_count(text)
    return _tokens(cjk, len(text) - cjk)


class _Packer:
    """Pieces joined by ``sep`` into parts of at most ``max_tokens``, sized by running counts
    (re-counting the growing part at every piece made long blocks quadratic).

    With ``strip``, a part of two or more pieces is stripped at both ends, as
    ``f"{part} {piece}".strip()`` would (the chunks stay what they were).
    """

    def __init__(self, sep: str, max_tokens: int, *, strip: bool = False):
        self.sep, self.max_tokens, self.strip = sep, max_tokens, strip
        self.parts: list[str] = []
        self.current: list[str] = []
        self.cjk = self.other = 0

    def fits(self, piece: str, cjk: int) -> bool:
        """Whether the current part with ``piece`` joined on stays within the budget."""
        other = self.other + len(self.sep) * bool(self.current) + len(piece) - cjk
        return _tokens(self.cjk + cjk, other) <= self.max_tokens

    def add(self, piece: str, cjk: int) -> None:
        self.other += len(self.sep) * bool(self.current) + len(piece) - cjk
        self.cjk += cjk
        self.current.append(piece)
        if self.strip and len(self.current) > 1:
            self._strip(0)
            self._strip(-1)

    def _strip(self, end: int) -> None:
        while self.current and self.current[end][end].isspace():  # pieces are never empty
            item = self.current[end]
            kept = item.lstrip() if end == 0 else item.rstrip()
            gone = item[:len(item) - len(kept)] if end == 0 else item[len(kept):]
            cjk = _cjk_count(gone)
            self.cjk -= cjk
            self.other -= len(gone) - cjk
            if kept:
                self.current[end] = kept
                return
            del self.current[end]
            if self.current:
                self.other -= len(self.sep)

    def flush(self) -> None:
        if self.current:
            self.parts.append(self.sep.join(self.current))
        self.current, self.cjk, self.other = [], 0, 0


def _hard_cuts(piece: str, max_tokens: int) -> tuple[list[str], str]:
    """A giant "sentence" cut into parts of about the budget, and the rest that fits in it.

    Each cut is sized on the tokens of what is left, as counted from the parts already cut
    off: one pass over the text, however long the line (no recount, no copy of the rest).
    """
    cjk = _cjk_count(piece)
    start, parts = 0, []
    while (tokens := _tokens(cjk, len(piece) - start - cjk)) > max_tokens:
        cut = max(1, (len(piece) - start) * max_tokens // tokens)
        parts.append(piece[start:start + cut])
        cjk -= _cjk_count(parts[-1])
        start += cut
    return parts, piece[start:]


def _split_oversized(block: str, max_tokens: int) -> list[str]:
    """A block too big to keep whole, cut at line (code) or sentence (prose) boundaries."""
    fence = _FENCE.match(block.strip())
    if fence:
        lines = block.split("\n")
        opener, closer = lines[0], fence.group(1)[0] * 3
        inner = lines[1:-1] if lines[-1].strip().startswith(closer) else lines[1:]
        code = _Packer("\n", max_tokens)
        for line in inner:
            cjk = _cjk_count(line)
            if code.current and not code.fits(line, cjk):
                code.flush()
            code.add(line, cjk)
        code.flush()
        return [f"{opener}\n{part}\n{closer}" for part in code.parts] or [f"{opener}\n{closer}"]
    prose = _Packer(" ", max_tokens, strip=True)
    for piece in filter(None, re.split(r"(?<=[.!?。！？])\s*|\n", block)):
        if len(piece) > max_tokens:  # else it fits: a token is at least a character
            cuts, piece = _hard_cuts(piece, max_tokens)
            if cuts:
                prose.flush()
                prose.parts.extend(cuts)
        cjk = _cjk_count(piece)
        if prose.current and not prose.fits(piece, cjk):
            prose.flush()
        prose.add(piece, cjk)
    prose.flush()
    return prose.parts


def chunk_markdown(text: str, max_tokens: int = 350, anchor_style: str = "github") -> list[Section]:
    """Sections packed into chunks of about ``max_tokens``, anchored as ``anchor_style``'s
    generator anchors headings.

    Blocks are never split, except a block larger than the budget on its own: a
    code block is kept whole up to three budgets, prose is cut at sentences.
    """
    chunks: list[Section] = []
    for section in split_sections(text, anchor_style):
        current: list[str] = []
        size = 0
        blocks: list[str] = []
        for block in section.blocks:
            limit = 3 * max_tokens if _FENCE.match(block.strip()) else max_tokens
            too_big = count_tokens(block) > limit
            blocks.extend(_split_oversized(block, max_tokens) if too_big else [block])
        for block in blocks:
            tokens = count_tokens(block)
            if current and size + tokens > max_tokens:
                chunks.append(Section(section.trail, "\n\n".join(current), section.anchor))
                current, size = [], 0
            current.append(block)
            size += tokens + 1
        if current:
            chunks.append(Section(section.trail, "\n\n".join(current), section.anchor))
    return chunks
