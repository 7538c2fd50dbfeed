"""Note lines and cited PR numbers, parsed the same way from our notes and the official ones."""

from __future__ import annotations

import re

LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]*)\)")
URL = re.compile(r"https?://\S+")
MENTION = re.compile(r"(?<![\w.`])@[\w-]+")
PR_REF = re.compile(r"\(?#\d+\)?")
HTML_TAG = re.compile(r"<[A-Za-z][^<>]*\s[^<>]*>")  # tags with attributes (<img src=…>)
SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\ufe0f\u200d]")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
ARTIFACT = re.compile(r"</?text>|\[\d+\]")  # prompt debris: the fence tag, [1]-style markers
STRIPPED = (
    "Only Markdown bullet lines are compared (headings, dates, prose and our credits are not "
    "bullets); from each line are removed: links whose text starts with `#` or `@` or whose "
    "URL is a PR, issue or commit (PR, commit and author links) entirely, other links down to "
    "their text, the `@Name …` author list after our links, images and HTML tags with "
    "attributes, bare URLs, `@name` mentions, `#123` / `(#123)` references, emoji and "
    "`:shortcode:` emoji, `**` and backticks; whitespace is collapsed and trailing `:`/`：`/`,` "
    "dropped. Lines left empty are dropped. The cleaned lines are joined with newlines."
)

REF_URL = re.compile(r"/(?:pull|issues|commit)/")
TRAILING_AUTHORS = re.compile(r"(?<=\))\s+@.*$")  # our "[#1](…) @Jane Doe @bob" tail


def _link_text(match: re.Match[str]) -> str:
    bang, text, url = match.group(1), match.group(2).strip(), match.group(3)
    return "" if bang or text.startswith(("#", "@")) or REF_URL.search(url) else text


def note_lines(markdown: str) -> list[str]:
    """The text of each bullet line, without links, authors, PR numbers or decoration."""
    lines = []
    for raw in markdown.splitlines():
        bullet = BULLET.match(raw)
        if not bullet:
            continue
        text = LINK.sub(_link_text, TRAILING_AUTHORS.sub("", bullet.group(1)))
        for pattern in (HTML_TAG, URL, MENTION, PR_REF, SHORTCODE, EMOJI):
            text = pattern.sub(" ", text)
        text = text.replace("**", "").replace("`", "")
        text = re.sub(r"\s+", " ", text).strip().rstrip(":：,， ").strip()
        if text:
            lines.append(text)
    return lines


def cited_prs(markdown: str, repo: str) -> set[int]:
    """PR numbers a section cites: ``github.com/<repo>/pull/N`` links and bare ``#N`` outside
    links (a ``[#N](…/issues/N)`` link is an issue, not a PR)."""
    own = {int(n) for n in re.findall(rf"github\.com/{re.escape(repo)}/pull/(\d+)", markdown)}
    bare = {int(n) for n in re.findall(r"(?<![\w/&])#(\d+)\b", LINK.sub(" ", markdown))}
    return own | bare
