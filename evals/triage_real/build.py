"""The run's indexes, through the product's own ingest.

- ``apisix``: the APISIX docs (a seed data dir built by ``devrel --project apisix ingest docs``,
  copied, or a docs folder ingested here), the project files (labels.json of the set, APISIX's
  issue forms) and the past issues with their comments, ingested in creation order so a past
  issue can be drafted against only what came before it.
- ``apisix-pool``: every issue created before a duplicate query, title and body only (the
  README's leave-one-out pool), also ingested in creation order.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assistant.providers.vector_index import VectorIndex
from assistant.settings import Settings
from ingest.service import ingest_docs, ingest_issue_files, ingest_project_files

from .data import DEFAULT_REPO, key, labels_file, order, public

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "apisix_templates" / "ISSUE_TEMPLATE"
READY = "READY"


def copy_seed(seed: Path, data_dir: Path) -> None:
    """The seed data dir's index and database, copied (its assembled model linked, not
    copied)."""
    shutil.copytree(seed, data_dir, ignore=shutil.ignore_patterns("models", READY, "*.lock"),
                    dirs_exist_ok=True)
    models = seed / "models"
    if models.is_dir() and any(models.glob("*.gguf")) and not (data_dir / "models").exists():
        (data_dir / "models").symlink_to(models)


def ingest_doc_folder(settings: Settings, index: VectorIndex, docs: Path) -> list[str]:
    """A docs corpus (``docs/<lang>/latest`` trees, as in evaldata) or any docs folder."""
    trees = sorted((docs / "docs").glob("*/latest")) if (docs / "docs").is_dir() else []
    lines = []
    for tree in trees or [docs]:
        repo_path = tree.relative_to(docs).as_posix() if trees else ""
        report = ingest_docs(settings, index, tree, repo_path=repo_path)
        lines.append(f"docs {repo_path or tree}: {report.chunks_embedded} passages embedded")
    return lines


def stage_project(data: Path, target: Path, templates: Path = TEMPLATES) -> Path:
    """A project folder holding the set's labels.json and APISIX's issue forms."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(labels_file(data), target / "labels.json")
    if templates.is_dir():
        forms = target / ".github" / "ISSUE_TEMPLATE"
        forms.mkdir(parents=True, exist_ok=True)
        for path in sorted(templates.glob("*.yml")):
            shutil.copyfile(path, forms / path.name)
    return target


def project_files(index: VectorIndex, root: Path) -> list[str]:
    return ingest_project_files(index, root)


def ingest_records(settings: Settings, index: VectorIndex, records: Iterable[dict[str, Any]],
                   folder: Path) -> int:
    """GitHub-shaped issues (gold removed) through ``ingest_issue_files``, one file per repo
    (so each repo gets its own source); the passages embedded."""
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_repo.setdefault(record.get("repository") or DEFAULT_REPO, []).append(public(record))
    folder.mkdir(parents=True, exist_ok=True)
    embedded = 0
    for repo, items in by_repo.items():
        path = folder / f"{repo.replace('/', '__')}-{items[0]['number']}.json"
        path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        embedded += ingest_issue_files(settings, index, [path], repo=repo).chunks_embedded
    return embedded


def ingest_in_order(settings: Settings, index: VectorIndex, records: list[dict[str, Any]],
                    stops: set[str], at_stop: Callable[[dict[str, Any]], None], folder: Path,
                    *, shape: Callable[[dict[str, Any]], dict[str, Any]] = lambda r: r,
                    last: bool = True) -> int:
    """Ingest ``records`` in creation order; before each record whose key is in ``stops``,
    call ``at_stop`` with everything earlier already indexed. ``last``: ingest the records
    after the final stop too. Returns the passages embedded."""
    batch: list[dict[str, Any]] = []
    embedded = 0
    ordered = sorted(records, key=order)
    final = max((n for n, r in enumerate(ordered) if key(r) in stops), default=-1)
    for n, record in enumerate(ordered):
        if key(record) in stops:
            if batch:
                embedded += ingest_records(settings, index, batch, folder)
                batch = []
            at_stop(record)
        if not last and n >= final:
            break
        batch.append(shape(record))
    if batch:
        embedded += ingest_records(settings, index, batch, folder)
    return embedded
