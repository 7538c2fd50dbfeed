"""Read a docs folder (or git checkout) and turn its pages into passages.

Markdown, MDX, plain text, reStructuredText and HTML are read (a docs site's pages in its
generator's dialect, see ``ingest.sites``); anything else, and anything unsafe or unreadable,
is skipped with a reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from assistant.language import detect_language
from assistant.providers.vector_index import Chunk, Metadata
from assistant.redact import redact
from assistant.settings import ProjectSettings
from ingest.files import Skipped, decode_text, git_commit, read_bytes, walk
from ingest.formats import CONVERTERS, to_markdown
from ingest.frontmatter import split_front_matter
from ingest.markdown import chunk_markdown, title_of
from ingest.sites import DocsSite, SiteRoot

DOC_SUFFIXES = frozenset(CONVERTERS)
DEFAULT_URL_TEMPLATE = "https://github.com/{owner}/{repo}/blob/{ref}/{path}#{anchor}"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

__all__ = ["DocsScan", "Skipped", "chunk_id", "citation_url", "scan_docs"]


# Bump when chunking or metadata change, so unchanged files are read again.
CHUNKER_VERSION = "5"


@dataclass
class DocsScan:
    """What a walk over a docs folder found; ``unchanged`` files were not even chunked."""

    chunks_by_path: dict[str, list[Chunk]] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)
    skipped: list[Skipped] = field(default_factory=list)
    commit: str = ""


def item_hash(data: bytes, *params: object) -> str:
    """A hash of a file's bytes and everything that shapes its passages."""
    digest = hashlib.sha256(data)
    digest.update(repr((CHUNKER_VERSION, *params)).encode())
    return digest.hexdigest()[:24]


def citation_url(project: ProjectSettings, repo_path: str, anchor: str, local: Path) -> str:
    """Where a reader finds the passage: the forge page when the repo is known, else the file."""
    template = project.url_template or (DEFAULT_URL_TEMPLATE if project.repo else None)
    if template is None:
        return local.resolve().as_uri() + (f"#{anchor}" if anchor else "")
    owner, _, repo = (project.repo or "/").partition("/")
    url = template.format(owner=owner, repo=repo, ref=project.ref, path=repo_path, anchor=anchor)
    return url.rstrip("#")


def chunk_id(project: str, path: str, text: str, seen: dict[str, int]) -> str:
    """A passage id: a hash of where it is and what it says (repeats get a suffix)."""
    digest = hashlib.sha256(f"{project}\0{path}\0{text}".encode()).hexdigest()[:32]
    seen[digest] = seen.get(digest, 0) + 1
    return digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def scan_docs(
    root: Path, *, project: str, project_settings: ProjectSettings, repo_path: str = "",
    max_tokens: int = 350, max_bytes: int = DEFAULT_MAX_BYTES, known: dict[str, str] | None = None,
    site: DocsSite | None = None,
) -> DocsScan:
    """Chunks for every usable document under root; unusable files are listed with a reason.

    With a ``site``, root is the checkout and only its roots are read, each page in the
    generator's dialect, with its language and its live URL. ``known`` maps paths to the
    ``item_hash`` already indexed: a file whose hash matches is listed as unchanged without
    being decoded or chunked again.
    """
    root = root.resolve()
    known = known or {}
    scan = DocsScan(commit=git_commit(root))
    params = (project, max_tokens, project_settings.model_dump_json(),
              site.generator if site else None)
    roots = site.roots if site else [SiteRoot("", None)]
    prefix = "" if site else repo_path.strip("/")
    for site_root in roots:
        folder = root / site_root.path if site_root.path else root
        for path in walk(folder):
            rel = path.relative_to(folder).as_posix()
            full_path = "/".join(p for p in (prefix, site_root.path, rel) if p)
            if path.suffix.lower() not in DOC_SUFFIXES:
                scan.skipped.append(Skipped(full_path, f"unsupported type {path.suffix or '(none)'}"
                                            f" (pages are {', '.join(sorted(DOC_SUFFIXES))})"))
                continue
            data, reason = read_bytes(path, root, max_bytes)
            text = None
            if data is not None:
                digest = item_hash(data, full_path, *params)
                if known.get(full_path) == digest:
                    scan.unchanged.add(full_path)
                    continue
                text, reason = decode_text(data)
            if text is None:
                scan.skipped.append(Skipped(full_path, reason or "unreadable"))
                continue
            page = Page(rel, full_path, path, site_root, site)
            chunks = _chunks(text, page, project, project_settings, max_tokens)
            if not chunks:
                scan.skipped.append(Skipped(full_path, "no text after conversion"))
                continue
            for chunk in chunks:
                chunk.metadata["item_hash"] = digest
                if scan.commit:
                    chunk.metadata["commit"] = scan.commit
            scan.chunks_by_path[full_path] = chunks
    return scan


@dataclass
class Page:
    """A docs page: where it is in its root, in the repo and on disk, and its site."""

    rel: str
    full_path: str
    local: Path
    root: SiteRoot
    site: DocsSite | None


def _chunks(
    raw: str, page: Page, project: str, project_settings: ProjectSettings, max_tokens: int,
) -> list[Chunk]:
    meta, _ = split_front_matter(raw)
    flavour = page.site.flavour if page.site else None
    text = redact(to_markdown(raw, page.local.suffix, flavour))
    path = page.local
    title = title_of(text, fallback=str(meta.get("title") or meta.get("sidebar_label") or "")
                     or path.stem.replace("-", " ").replace("_", " "))
    language = page.root.language_of(page.rel) or (
        "zh" if "/zh/" in f"/{page.full_path}" else detect_language(text))
    live = page.root.url(page.rel, meta)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    style = page.site.anchor_style if page.site else "github"
    for position, section in enumerate(chunk_markdown(text, max_tokens, style)):
        trail = section.trail[1:] if section.trail[:1] == [title] else section.trail
        heading = " > ".join(trail)
        body = f"{title}\n{heading}\n\n{section.text}" if heading else f"{title}\n\n{section.text}"
        # A site's page title is its header, not an anchored heading: link the page itself.
        anchor = "" if live and section.trail in ([], [title]) else section.anchor
        url = (live + (f"#{quote(anchor, safe='-._~')}" if anchor else "") if live
               else citation_url(project_settings, page.full_path, section.anchor, path))
        metadata: Metadata = {
            "source_kind": "doc",
            "project": project,
            "path": page.full_path,
            "title": title,
            "heading": heading,
            "anchor": section.anchor,
            "language": language,
            "url": url,
            "position": position,
        }
        if page.site:
            metadata["site"] = page.site.generator
        chunks.append(Chunk(chunk_id(project, page.full_path, body, seen), body, metadata))
    return chunks
