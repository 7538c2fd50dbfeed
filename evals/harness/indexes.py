"""Indexes of the evaluation corpora built through the product's own ingest: the APISIX docs
trees (``ingest_docs``) and one passage per GitBugs report (``issue_chunks`` + ``sync_source``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.progress import Progress

from assistant.providers.embeddings import NamedEmbeddings
from assistant.providers.vector_index import Chunk, VectorIndex
from ingest.issues import IssueRecord, issue_chunks
from ingest.service import ingest_docs
from ingest.sync import sync_source

from .corpora import DupProject, Report
from .run import progress_bar

DOC_TREES = {"en": ["en"], "zh": ["zh"], "both": ["en", "zh"]}


def _updater(progress: Progress, task: Any) -> Any:
    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update


def ingest_doc_trees(settings: Any, index: VectorIndex, docs_root: Path, langs: list[str],
                     progress: Progress, label: str = "") -> None:
    """The ``docs/<lang>/latest`` trees of a docs corpus, ingested by the product into
    ``index``."""
    for lang in langs:
        task = progress.add_task(f"{label}ingest {lang} docs -> {index.project}", total=None)
        ingest_docs(settings, index, docs_root / "docs" / lang / "latest",
                    repo_path=f"docs/{lang}/latest", progress=_updater(progress, task))


def build_doc_indexes(settings: Any, embedder: NamedEmbeddings, tag: str, docs_root: Path,
                      trees: dict[str, list[str]] | None = None) -> dict[str, VectorIndex]:
    """The EN, ZH and EN+ZH trees (``trees``: name -> languages), each ingested by the product
    into its own collection ``<tag>-apisix-<name>``."""
    indexes = {}
    with progress_bar() as progress:
        for name, langs in (trees or DOC_TREES).items():
            indexes[name] = VectorIndex.open(settings, embedder, f"{tag}-apisix-{name}")
            ingest_doc_trees(settings, indexes[name], docs_root, langs, progress, f"[{tag}] ")
    return indexes


def build_dup_indexes(settings: Any, embedder: NamedEmbeddings, tag: str,
                      projects: list[DupProject]) -> dict[str, VectorIndex]:
    """One collection per GitBugs project: one passage (the first chunk) per report."""
    indexes = {}
    tokens = settings.ingest.chunk_tokens
    with progress_bar() as progress:
        for project in projects:
            index = VectorIndex.open(settings, embedder, f"{tag}-dup-{project.name}")
            chunks_by_path: dict[str, list[Chunk]] = {}
            for report in project.reports.values():
                chunk = report_passage(report, index.project, tokens)
                chunks_by_path[str(chunk.metadata["path"])] = [chunk]
            task = progress.add_task(f"[{tag}] index {project.name} reports", total=None)
            sync_source(index, f"gitbugs:{project.name}", chunks_by_path,
                        batch_size=settings.embedding.batch_size,
                        progress=_updater(progress, task))
            indexes[project.name] = index
    return indexes


def report_passage(report: Report, project: str, max_tokens: int) -> Chunk:
    """The product's first issue passage ("#id title" + body, cut at max_tokens) + created_ts."""
    record = IssueRecord(
        number=int(report.id), title=report.title or "(no title)", body=report.description,
        state="closed", state_reason="", labels=[], author="", author_association="",
        created_at="", updated_at="", closed_at="", url="", is_pull_request=False,
    )
    chunk = issue_chunks(record, project, max_tokens)[0]
    chunk.metadata["created_ts"] = report.created_ts
    chunk.metadata["report_id"] = report.id
    return chunk
