"""Heading anchors the way each docs generator computes them, so a citation's ``#fragment``
lands on the heading a reader is sent to.

- ``github`` and ``docusaurus``: github-slugger (Docusaurus uses it for heading ids): lower
  case, characters other than letters, digits, marks, ``-``, ``_`` and spaces removed, each
  space a ``-``; repeats get ``-1``, ``-2``.
- ``mkdocs``: Python-Markdown's ``toc`` extension (``markdown/extensions/toc.py``: ``slugify``
  and ``unique``): NFKD to ASCII, ``[^\\w\\s-]`` removed, runs of spaces and ``-`` one ``-``;
  repeats and empty ids get ``_1``, ``_2``.
- ``sphinx``: docutils ``nodes.make_id``: lower case, ASCII only, runs of other characters one
  ``-``, leading digits and dashes dropped; a title that leaves nothing, or a repeat, gets
  docutils' ``id1``, ``id2`` (one counter per page).

An explicit id (``## Title {#my-id}`` in Docusaurus/MkDocs attr_list, a ``.. _label:`` or
MyST ``(label)=`` target) always wins.
"""

from __future__ import annotations

import re
import unicodedata

_AUTO = "\0auto-ids"
STYLES = ("github", "docusaurus", "mkdocs", "sphinx")
EXPLICIT_ID = re.compile(r"\s*\{#([A-Za-z0-9_:.\-]+)\}\s*$")
# github-slugger's regex removes punctuation and symbols; here: keep word characters,
# combining marks, '-' and ' '.
_SLUGGER_DROP = re.compile(r"[^\w\- \u0300-\u036f]", re.UNICODE)
_INLINE = re.compile(r"`([^`]*)`|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|<[^>]+>")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def heading_text(heading: str) -> tuple[str, str | None]:
    """The heading as a reader sees it, and its explicit id if it has one."""
    match = EXPLICIT_ID.search(heading)
    explicit = match.group(1) if match else None
    text = heading[: match.start()] if match else heading
    text = _LINK.sub(r"\1", text)
    text = _INLINE.sub(lambda m: m.group(1) or "", text)
    return text.strip(), explicit


def _github(text: str) -> str:
    return _SLUGGER_DROP.sub("", text.lower()).replace(" ", "-")


def _mkdocs(text: str) -> str:
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _sphinx(text: str) -> str:
    value = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^a-z0-9]+", "-", " ".join(value.split()))
    return re.sub(r"^[-0-9]+|-+$", "", value)


def anchor_for(heading: str, style: str, seen: dict[str, int]) -> str:
    """The id ``style``'s generator gives this heading on a page; ``seen`` carries the ids
    already given on that page (pass one dict per page)."""
    text, explicit = heading_text(heading)
    if explicit:
        seen[explicit] = seen.get(explicit, 0) + 1
        return explicit
    if style == "mkdocs":
        slug = _mkdocs(text)
        while slug in seen or not slug:  # toc.unique
            match = re.match(r"^(.*)_([0-9]+)$", slug)
            slug = f"{match.group(1)}_{int(match.group(2)) + 1}" if match else f"{slug}_1"
        seen[slug] = 1
        return slug
    if style == "sphinx":
        slug = _sphinx(text)
        if not slug or slug in seen:  # docutils: an auto id from the page's counter
            seen[_AUTO] = seen.get(_AUTO, 0) + 1
            slug = f"id{seen[_AUTO]}"
        seen[slug] = 1
        return slug
    slug = original = _github(text)  # github, docusaurus: github-slugger's Slugger.slug
    while slug in seen:
        seen[original] += 1
        slug = f"{original}-{seen[original]}"
    seen[slug] = 0
    return slug
