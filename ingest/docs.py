"""Read a docs folder (or git checkout) and turn its pages into passages.

Markdown, plain text, reStructuredText and HTML are read; anything else, and
anything unsafe or unreadable, is skipped with a reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.language import detect_language
from assistant.providers.vector_index import Chunk, Metadata
from assistant.redact import redact
from assistant.settings import ProjectSettings
from ingest.files import Skipped, decode_text, git_commit, read_bytes, walk
from ingest.formats import CONVERTERS, to_markdown
from ingest.markdown import chunk_markdown, title_of

DOC_SUFFIXES = frozenset(CONVERTERS)
DEFAULT_URL_TEMPLATE = "https://github.com/{owner}/{repo}/blob/{ref}/{path}#{anchor}"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

__all__ = ["DocsScan", "Skipped", "chunk_id", "citation_url", "scan_docs"]


# Bump when chunking or metadata change, so unchanged files are read again.
CHUNKER_VERSION = "4"


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
) -> DocsScan:
    """Chunks for every usable document under root; unusable files are listed with a reason.

    ``known`` maps paths to the ``item_hash`` already indexed: a file whose hash
    matches is listed as unchanged without being decoded or chunked again.
    """
    root = root.resolve()
    known = known or {}
    scan = DocsScan(commit=git_commit(root))
    params = (project, max_tokens, project_settings.model_dump_json())
    for path in walk(root):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in DOC_SUFFIXES:
            scan.skipped.append(Skipped(rel, f"unsupported type {path.suffix or '(none)'}"))
            continue
        data, reason = read_bytes(path, root, max_bytes)
        text = None
        if data is not None:
            full_path = f"{repo_path.strip('/')}/{rel}" if repo_path.strip("/") else rel
            digest = item_hash(data, full_path, *params)
            if known.get(full_path) == digest:
                scan.unchanged.add(full_path)
                continue
            text, reason = decode_text(data)
        if text is None:
            scan.skipped.append(Skipped(rel, reason or "unreadable"))
            continue
        markdown = redact(to_markdown(text, path.suffix))
        chunks = _chunks(markdown, rel, full_path, path, project, project_settings, max_tokens)
        if not chunks:
            scan.skipped.append(Skipped(rel, "no text after conversion"))
            continue
        for chunk in chunks:
            chunk.metadata["item_hash"] = digest
            if scan.commit:
                chunk.metadata["commit"] = scan.commit
        scan.chunks_by_path[full_path] = chunks
    return scan


def _chunks(
    text: str, rel: str, full_path: str, path: Path, project: str,
    project_settings: ProjectSettings, max_tokens: int,
) -> list[Chunk]:
    title = title_of(text, fallback=path.stem.replace("-", " ").replace("_", " "))
    language = "zh" if "/zh/" in f"/{rel}" else detect_language(text)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for position, section in enumerate(chunk_markdown(text, max_tokens)):
        trail = section.trail[1:] if section.trail[:1] == [title] else section.trail
        heading = " > ".join(trail)
        body = f"{title}\n{heading}\n\n{section.text}" if heading else f"{title}\n\n{section.text}"
        metadata: Metadata = {
            "source_kind": "doc",
            "project": project,
            "path": full_path,
            "title": title,
            "heading": heading,
            "anchor": section.anchor,
            "language": language,
            "url": citation_url(project_settings, full_path, section.anchor, path),
            "position": position,
        }
        chunks.append(Chunk(chunk_id(project, full_path, body, seen), body, metadata))
    return chunks
