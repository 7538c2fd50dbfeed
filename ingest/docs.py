"""Read a docs folder safely and turn its Markdown and text files into passages."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.language import detect_language
from assistant.providers.vector_index import Chunk
from assistant.redact import redact
from assistant.settings import ProjectSettings
from ingest.markdown import chunk_markdown, title_of

DOC_SUFFIXES = {".md", ".markdown", ".txt"}
MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_URL_TEMPLATE = "https://github.com/{owner}/{repo}/blob/{ref}/{path}#{anchor}"


@dataclass
class Skipped:
    """A file that was not ingested, and why."""

    path: str
    reason: str


@dataclass
class DocsScan:
    """What a walk over a docs folder found."""

    chunks_by_path: dict[str, list[Chunk]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def _walk(root: Path) -> Iterator[Path]:
    """Files under root, sorted, never following directory symlinks (no loops)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def _read_text(path: Path, root: Path) -> tuple[str | None, str | None]:
    """The file's text, or the reason it cannot be used."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "broken or looping symlink"
    if not real.is_relative_to(root):
        return None, "symlink to a path outside the docs root"
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        return None, f"too large ({size / 1e6:.1f} MB > {MAX_FILE_BYTES / 1e6:.0f} MB)"
    data = real.read_bytes()
    if b"\x00" in data[:8192]:
        return None, "binary file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return None, "empty file"
    return text, None


def citation_url(project: ProjectSettings, repo_path: str, anchor: str, local: Path) -> str:
    """Where a reader finds the passage: the forge page when the repo is known, else the file."""
    template = project.url_template or (DEFAULT_URL_TEMPLATE if project.repo else None)
    if template is None:
        return local.resolve().as_uri() + (f"#{anchor}" if anchor else "")
    owner, _, repo = (project.repo or "/").partition("/")
    url = template.format(owner=owner, repo=repo, ref=project.ref, path=repo_path, anchor=anchor)
    return url.rstrip("#")


def scan_docs(
    root: Path, *, project: str, project_settings: ProjectSettings, repo_path: str = "",
    max_chars: int = 1500,
) -> DocsScan:
    """Chunks for every usable document under root; unusable files are listed with a reason."""
    root = root.resolve()
    scan = DocsScan()
    for path in _walk(root):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in DOC_SUFFIXES:
            scan.skipped.append(Skipped(rel, f"unsupported type {path.suffix or '(none)'}"))
            continue
        text, reason = _read_text(path, root)
        if text is None:
            scan.skipped.append(Skipped(rel, reason or "unreadable"))
            continue
        full_path = f"{repo_path.strip('/')}/{rel}" if repo_path.strip("/") else rel
        scan.chunks_by_path[full_path] = _chunks(
            redact(text), rel, full_path, path, project, project_settings, max_chars
        )
    return scan


def _chunks(
    text: str, rel: str, full_path: str, path: Path, project: str,
    project_settings: ProjectSettings, max_chars: int,
) -> list[Chunk]:
    title = title_of(text, fallback=path.stem.replace("-", " ").replace("_", " "))
    language = "zh" if "/zh/" in f"/{rel}" else detect_language(text)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for position, section in enumerate(chunk_markdown(text, max_chars)):
        trail = section.trail[1:] if section.trail[:1] == [title] else section.trail
        heading = " > ".join(trail)
        body = f"{title}\n{heading}\n\n{section.text}" if heading else f"{title}\n\n{section.text}"
        digest = hashlib.sha256(f"{project}\0{full_path}\0{body}".encode()).hexdigest()[:32]
        seen[digest] = seen.get(digest, 0) + 1
        chunk_id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        chunks.append(
            Chunk(
                id=chunk_id,
                text=body,
                metadata={
                    "source_kind": "doc",
                    "project": project,
                    "path": full_path,
                    "title": title,
                    "heading": heading,
                    "anchor": section.anchor,
                    "language": language,
                    "url": citation_url(project_settings, full_path, section.anchor, path),
                    "position": position,
                },
            )
        )
    return chunks
