"""Turn reStructuredText and HTML into the Markdown the chunker understands.

Only the structure matters here (headings, code blocks, paragraphs), so these are
small, forgiving converters rather than full renderers: a malformed file still
yields its text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+<>:._])\1{2,}\s*$")
_RST_CODE = re.compile(r"^\.\.\s+(?:code-block|code|sourcecode)::\s*(\S*)\s*$")
_RST_DIRECTIVE = re.compile(r"^\.\.\s+[\w-]+::")


def rst_to_markdown(text: str) -> str:
    """Headings (by adornment order) to ``#`` levels and literal/code blocks to fences."""
    lines = text.replace("\r\n", "\n").split("\n")
    levels: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        # Overlined title: ===\nTitle\n===
        if _RST_ADORNMENT.match(line) and i + 2 < len(lines) and _RST_ADORNMENT.match(lines[i + 2]):
            key = "over" + line[0]
            title = lines[i + 1].strip()
            i += 3
        elif line.strip() and _RST_ADORNMENT.match(nxt) and len(nxt.strip()) >= len(line.strip()):
            key = nxt[0]
            title = line.strip()
            i += 2
        else:
            code = _RST_CODE.match(line.strip())
            literal = line.rstrip().endswith("::") and not _RST_DIRECTIVE.match(line.strip())
            if code or literal:
                if literal:
                    kept = line.rstrip()[:-1].rstrip()
                    if kept:
                        out.append(kept + ":" if not kept.endswith(":") else kept)
                i += 1
                while i < len(lines) and (
                    (code and lines[i].strip().startswith(":")) or not lines[i].strip()
                ):
                    i += 1  # directive options and the blank line
                body: list[str] = []
                while i < len(lines) and (not lines[i].strip() or lines[i][:1] in " \t"):
                    body.append(lines[i])
                    i += 1
                while body and not body[-1].strip():
                    body.pop()
                indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
                language = code.group(1) if code else ""
                out += ["", f"```{language}", *(b[indent:] for b in body), "```", ""]
                continue
            if _RST_DIRECTIVE.match(line.strip()):
                out.append(re.sub(r"^\.\.\s+[\w-]+::\s*", "", line.strip()))
            else:
                out.append(line)
            i += 1
            continue
        if key not in levels:
            levels.append(key)
        out += ["", "#" * min(len(levels), 6) + " " + title, ""]
    return "\n".join(out)


class _HtmlToMarkdown(HTMLParser):
    _SKIP = frozenset({"script", "style", "nav", "header", "footer", "noscript", "svg", "head"})
    _BLOCK = frozenset({"p", "div", "section", "article", "li", "tr", "br", "table", "ul", "ol",
                        "blockquote", "dd", "dt"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif re.fullmatch(r"h[1-6]", tag):
            self.heading = int(tag[1])
            self.out.append("\n\n" + "#" * self.heading + " ")
        elif tag == "pre":
            self.pre_depth += 1
            self.out.append("\n\n```\n")
        elif tag in self._BLOCK:
            self.out.append("\n\n" if tag != "li" else "\n\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.skip_depth:
            return
        elif re.fullmatch(r"h[1-6]", tag):
            self.heading = None
            self.out.append("\n\n")
        elif tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
            self.out.append("\n```\n\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append(data)
        elif self.heading is not None:
            self.out.append(" ".join(data.split()))
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_markdown(text: str) -> str:
    """Headings, paragraphs and ``<pre>`` blocks of an HTML page; scripts and navigation dropped."""
    parser = _HtmlToMarkdown()
    parser.feed(text)
    parser.close()
    markdown = "".join(parser.out)
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


CONVERTERS = {
    ".md": None, ".markdown": None, ".txt": None,
    ".rst": rst_to_markdown, ".html": html_to_markdown, ".htm": html_to_markdown,
}


def to_markdown(text: str, suffix: str) -> str:
    """A document's text as Markdown, by file suffix (Markdown and text pass through)."""
    converter = CONVERTERS.get(suffix.lower())
    return converter(text) if converter else text
