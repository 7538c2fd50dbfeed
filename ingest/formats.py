"""Turn reStructuredText and HTML into the Markdown the chunker understands.

Only the structure matters here (headings, code blocks, paragraphs), so these are
small, forgiving converters rather than full renderers: a malformed file still
yields its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+<>:._])\1{2,}\s*$")
_RST_CODE = re.compile(r"^\.\.\s+(?:code-block|code|sourcecode)::\s*(\S*)\s*$")
_RST_DIRECTIVE = re.compile(r"^\.\.\s+[\w-]+::")


_RST_TARGET = re.compile(r"^\.\.\s+_([\w:.\- ]+):\s*$")
_RST_EXTERNAL = re.compile(r"^\.\.\s+_[^:]+:\s+\S")
_RST_DIRECTIVE_NAME = re.compile(r"^\.\.\s+([\w-]+)::")
_RST_DROPPED = frozenset({"toctree", "include", "literalinclude", "image", "figure", "contents",
                          "meta", "index", "raw", "autosummary", "automodule", "autoclass"})
_RST_ADMONITIONS = frozenset({"note", "warning", "tip", "important", "caution", "danger", "hint",
                              "attention", "error", "seealso", "admonition", "versionadded",
                              "versionchanged", "deprecated"})
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`__?")
_RST_LITERAL = re.compile(r"``([^`]+)``")


def _rst_inline(text: str) -> str:
    """Roles (:ref:`text <target>`, :doc:`x`), links and ``literals`` as plain Markdown."""
    text = _RST_ROLE.sub(lambda m: m.group(1).strip(), text)
    text = _RST_LINK.sub(r"\1", text)
    return _RST_LITERAL.sub(r"`\1`", text)


def rst_to_markdown(text: str) -> str:
    """Headings (by adornment order) to ``#`` levels (a ``.. _label:`` before one becomes its
    id), literal/code blocks to fences, admonitions to text, roles to their text; toctrees,
    includes and images dropped."""
    lines = text.replace("\r\n", "\n").split("\n")
    levels: list[str] = []
    out: list[str] = []
    label: str | None = None  # a ``.. _label:`` target: the next heading's id
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
            if _RST_EXTERNAL.match(line):  # .. _name: https://… (a link target, not text)
                i += 1
                continue
            if target := _RST_TARGET.match(line):
                label = target.group(1)
                i += 1
                continue
            directive = _RST_DIRECTIVE_NAME.match(line.strip())
            if directive and directive.group(1) in _RST_DROPPED:
                indent = len(line) - len(line.lstrip())
                _, i = _dedent_block(lines, i + 1, indent)
                continue
            if directive and directive.group(1) in _RST_ADMONITIONS:
                indent = len(line) - len(line.lstrip())
                argument = line.strip()[directive.end():].strip()
                kind = "note" if directive.group(1) == "admonition" else directive.group(1)
                block, i = _dedent_block(lines, i + 1, indent)
                block = [b for b in block if not re.match(r"^\s*:[\w-]+:", b)]
                out += ["", _title_line(kind, _rst_inline(argument) or None),
                        *(_rst_inline(b) for b in block), ""]
                continue
            if _RST_DIRECTIVE.match(line.strip()):
                out.append(_rst_inline(re.sub(r"^\.\.\s+[\w-]+::\s*", "", line.strip())))
            else:
                out.append(_rst_inline(line))
            i += 1
            continue
        if key not in levels:
            levels.append(key)
        title = _rst_inline(title) + (f" {{#{label}}}" if label else "")
        label = None
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


_FENCED = re.compile(r"^(\s*)(`{3,}|~{3,})")
_JSX_OPEN = re.compile(r"^\s*<([A-Z][\w.]*)([^>]*?)(/?)>\s*$")
_JSX_CLOSE = re.compile(r"^\s*</([A-Z][\w.]*)>\s*$")
_JSX_LABEL = re.compile(r"""\blabel=(?:"([^"]*)"|'([^']*)'|\{["']([^"']*)["']\})""")
_ESM = re.compile(r"^(?:import|export)\s")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.DOTALL)
_MDX_HEADING_ID = re.compile(r"\{/\*\s*#([\w:.\-]+)\s*\*/\}(?=[ \t]*$)", re.MULTILINE)
_MDX_CODE_BLOCK = re.compile(r"^```mdx-code-block[ \t]*\n(.*?)^```[ \t]*$",
                             re.MULTILINE | re.DOTALL)
_ADMONITION = re.compile(r"^\s*:::\s*([a-z]+)(?:\[(.*?)\]|\s+(.*?))?\s*(?:\{.*\})?\s*$")
_ADMONITION_END = re.compile(r"^\s*:::\s*$")
_MKDOCS_ADMONITION = re.compile(r'^(\s*)(?:!!!|\?\?\?\+?)\s+([\w-]+)(?:\s+"(.*?)")?\s*$')
_MKDOCS_TAB = re.compile(r'^(\s*)===\+?\s+"(.*?)"\s*$')
_SNIPPET = re.compile(r"^\s*-{1,2}8<-{1,2}")
_BLOCK_OPEN = re.compile(r"^\s*/{3,}\s*([\w-]+)(?:\s*\|\s*(.*?))?\s*$")
_BLOCK_CLOSE = re.compile(r"^\s*/{3,}\s*$")
_MYST_DIRECTIVE = re.compile(r"^(\s*)(`{3,}|:{3,})\{([\w:-]+)\}\s*(.*)$")
_MYST_TARGET = re.compile(r"^\s*\(([\w:.\-]+)\)=\s*$")
_MYST_ROLE = re.compile(r"\{[\w:-]+\}`([^`<]*?)(?:\s*<[^`>]*>)?`")
_RST_ROLE = re.compile(r":(?:[\w-]+:)*[\w-]+:`([^`<]*?)(?:\s*<[^`>]*>)?`")
_HEADING_LINE = re.compile(r"^#{1,6}\s+\S")


def _outside_fences(text: str, convert: Callable[[list[str]], list[str]]) -> str:
    """Apply ``convert`` to each run of lines outside fenced code blocks; code stays as is."""
    out: list[str] = []
    run: list[str] = []
    fence: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _FENCED.match(line)
        if fence is None and match and not _MYST_DIRECTIVE.match(line):
            out += convert(run)
            run = []
            fence = match.group(2)[0] * len(match.group(2))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        else:
            run.append(line)
    out += convert(run) if fence is None else run
    return "\n".join(out)


def _title_line(kind: str, title: str | None) -> str:
    label = kind.capitalize()
    return f"**{label}: {title.strip()}**" if title and title.strip() else f"**{label}:**"


def _mdx_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if _ESM.match(line) or _ADMONITION_END.match(line) or _JSX_CLOSE.match(line):
            continue
        if admonition := _ADMONITION.match(line):
            out.append(_title_line(admonition.group(1), admonition.group(2) or admonition.group(3)))
            continue
        if jsx := _JSX_OPEN.match(line):
            label = _JSX_LABEL.search(jsx.group(2))
            if label:
                out.append(f"**{next(g for g in label.groups() if g is not None)}**")
            continue
        out.append(line)
    return out


def mdx_to_markdown(text: str) -> str:
    """Docusaurus MDX as Markdown: front matter title kept as the H1 when the page has none,
    ``import``/``export`` lines, JSX component lines and ``{/* */}`` comments dropped, tab
    labels kept as bold lines, ``:::tip Title`` admonitions kept as text; code untouched."""
    from ingest.frontmatter import split_front_matter

    meta, body = split_front_matter(text)
    body = _MDX_CODE_BLOCK.sub(lambda m: m.group(1), body)  # rendered as MDX, not shown as code
    body = _MDX_HEADING_ID.sub(r"{#\1}", body)  # Docusaurus 3: ## Title {/* #id */}
    body = _MDX_COMMENT.sub("", body)
    body = _outside_fences(body, _mdx_lines)
    title = meta.get("title")
    if isinstance(title, str) and title.strip() and not re.search(r"(?m)^#\s+\S", body):
        body = f"# {title.strip()}\n\n{body}"
    return body


def _dedent_block(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines indented deeper than ``indent`` from ``start`` (blank lines included)."""
    block: list[str] = []
    i = start
    while i < len(lines) and (not lines[i].strip() or
                              len(lines[i]) - len(lines[i].lstrip()) > indent):
        block.append(lines[i])
        i += 1
    while block and not block[-1].strip():
        block.pop()
    depth = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
    return [b[depth:] for b in block], i


def _mkdocs_lines(lines: list[str]) -> list[str]:
    """Admonitions and tabs (indented bodies, which may hold code) to text; fences at the
    left margin are copied as they are."""
    out: list[str] = []
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        match = re.match(r"^(`{3,}|~{3,})", line)
        if fence is not None or match:
            if fence is None:
                fence = match.group(1)
            elif line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            out.append(line)
            i += 1
            continue
        admonition = _MKDOCS_ADMONITION.match(line)
        tab = _MKDOCS_TAB.match(line)
        if admonition or tab:
            match = admonition or tab
            indent = len(match.group(1))
            out.append(_title_line(admonition.group(2), admonition.group(3)) if admonition
                       else f"**{tab.group(2)}**")
            block, i = _dedent_block(lines, i + 1, indent)
            out += [*_mkdocs_lines(block), ""]
            continue
        if _BLOCK_CLOSE.match(line) or _SNIPPET.match(line):
            i += 1
            continue
        if block := _BLOCK_OPEN.match(line):  # pymdownx.blocks: /// note | Title … ///
            kind, title = block.group(1), block.group(2)
            out.append(f"**{title}**" if kind == "tab" and title else _title_line(kind, title))
            i += 1
            continue
        out.append(line)
        i += 1
    return out


def mkdocs_to_markdown(text: str) -> str:
    """MkDocs (Material) Markdown: ``!!! note "Title"`` admonitions, ``=== "Tab"`` content tabs
    and pymdownx ``/// details | Title`` blocks as text (bodies dedented), snippet includes and
    front matter dropped."""
    from ingest.frontmatter import split_front_matter

    meta, body = split_front_matter(text)
    body = "\n".join(_mkdocs_lines(body.replace("\r\n", "\n").split("\n")))
    title = meta.get("title")
    if isinstance(title, str) and title.strip() and not re.search(r"(?m)^#\s+\S", body):
        body = f"# {title.strip()}\n\n{body}"
    return body


def _myst_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    label: str | None = None
    for line in lines:
        if target := _MYST_TARGET.match(line):
            label = target.group(1)
            continue
        line = _MYST_ROLE.sub(lambda m: m.group(1).strip(), line)
        if label and _HEADING_LINE.match(line):
            line = f"{line.rstrip()} {{#{label}}}"
            label = None
        out.append(line)
    return out


def myst_to_markdown(text: str) -> str:
    """MyST Markdown (Sphinx): ```` ```{note} ```` and ``:::{admonition}`` directives as text
    (``{code-block}`` kept as code, ``{toctree}`` dropped), ``(label)=`` targets as the next
    heading's id, ``{ref}`` roles as their text."""
    from ingest.frontmatter import split_front_matter

    _, body = split_front_matter(text)
    out: list[str] = []
    lines = body.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        directive = _MYST_DIRECTIVE.match(lines[i])
        if not directive:
            out.append(lines[i])
            i += 1
            continue
        fence, name, argument = directive.group(2), directive.group(3), directive.group(4)
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        inner = [x for x in lines[i + 1 : j] if not re.match(r"^\s*:[\w-]+:", x)]
        if name in ("code-block", "code", "sourcecode", "code-cell"):
            out += [f"```{argument}", *inner, "```"]
        elif name not in ("toctree", "contents", "include", "literalinclude", "image", "figure"):
            title = argument if name == "admonition" else (argument or None)
            kind = "note" if name == "admonition" and not argument else name
            out += ["", _title_line(kind if name != "admonition" else "note", title), *inner, ""]
        i = j + 1
    return _outside_fences("\n".join(out), _myst_lines)


CONVERTERS = {
    ".md": None, ".markdown": None, ".txt": None, ".mdx": mdx_to_markdown,
    ".rst": rst_to_markdown, ".html": html_to_markdown, ".htm": html_to_markdown,
}
# A generator's own Markdown dialect, for the ``.md`` pages of its site.
FLAVOURS = {"docusaurus": mdx_to_markdown, "mkdocs": mkdocs_to_markdown,
            "sphinx": myst_to_markdown}


def to_markdown(text: str, suffix: str, flavour: str | None = None) -> str:
    """A document's text as Markdown, by file suffix and the site's generator (``flavour``:
    docusaurus, mkdocs or sphinx); plain Markdown and text pass through."""
    suffix = suffix.lower()
    if suffix in (".md", ".markdown") and flavour in FLAVOURS:
        return FLAVOURS[flavour](text)
    converter = CONVERTERS.get(suffix)
    return converter(text) if converter else text
