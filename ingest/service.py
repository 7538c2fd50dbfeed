"""Ingest entry points used by the CLI (and later the API): one function per source kind."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import InvalidInput
from assistant.providers.vector_index import VectorIndex
from assistant.settings import Settings
from ingest.docs import scan_docs
from ingest.sync import Progress, SyncReport, sync_source


def ingest_docs(
    settings: Settings,
    index: VectorIndex,
    root: Path,
    *,
    repo_path: str = "",
    progress: Progress | None = None,
) -> SyncReport:
    """Sync a docs folder into the project's index; refuse a folder with nothing usable."""
    if not root.exists():
        raise InvalidInput(f"{root} does not exist.", fix="pass the path of a docs folder")
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a folder.", fix="pass the path of a docs folder")
    scan = scan_docs(
        root, project=index.project, project_settings=settings.project_settings(index.project),
        repo_path=repo_path,
    )
    if not scan.chunks_by_path:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in scan.skipped[:3])
        raise InvalidInput(
            f"No usable Markdown or text files under {root}"
            + (f" ({reasons})" if reasons else "")
            + "; the index was left as it was.",
            fix="point at the folder that holds the .md files",
        )
    report = sync_source(
        index, f"docs:{root.resolve()}", scan.chunks_by_path,
        batch_size=settings.embedding.batch_size, progress=progress,
    )
    report.skipped = scan.skipped
    return report
