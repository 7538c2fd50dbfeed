"""Loading the evaluation data of ``../shared/evaldata`` (read-only): the APISIX docs QA set and
docs corpus, the GitBugs duplicate pools, the NLBSE'24 issues, the example project."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVALDATA = ROOT.parent / "shared" / "evaldata"
EXAMPLE = ROOT / "examples" / "kvlite"
QUERY_BODY_CHARS = 1500  # the triage chain's query: title + first 1,500 characters of the body


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file (blank lines skipped). Lines end at ``\n`` only: a
    record's strings may hold U+2028 and other characters ``str.splitlines`` breaks at."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def triage_query(title: str, body: str) -> str:
    """The retrieval query the triage chain builds from an issue (assistant/chains/triage_reply)."""
    return f"{title}\n{body[:QUERY_BODY_CHARS]}".strip()


# ------------------------------------------------------------------------------ docs QA


@dataclass
class Question:
    """One docs QA item."""

    id: str
    language: str
    query: str
    gold_en: list[str]
    gold_zh: list[str]


def load_questions(data: Path) -> list[Question]:
    """The docs QA questions; the query is title + question excerpt, never the answer."""
    return [Question(id=item["id"], language=item["question_language"],
                     query=triage_query(item["title"], item["question_excerpt"]),
                     gold_en=list(item["gold_doc_paths"]),
                     gold_zh=list(item.get("gold_doc_paths_zh") or []))
            for item in read_jsonl(data / "docs_qa_dev.jsonl")]


def apisix_docs(data: Path) -> Path:
    """The APISIX docs corpus root (holding ``docs/{en,zh}/latest``)."""
    return data / "docs_corpus" / "apache-apisix"


def zh_of(path: str) -> str:
    """The ZH page of an EN docs path."""
    return path.replace("docs/en/", "docs/zh/", 1)


_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def stage_docs(corpus: Path, langs: Iterable[str], target: Path, pages: set[str] | None,
               strip_comments: bool) -> None:
    """Copy (part of) the docs trees to a temporary folder, optionally without HTML comments.

    Only used for a subset of pages and the strip-HTML-comments what-if; the copy lives in a
    temporary directory.
    """
    for lang in langs:
        base = corpus / "docs" / lang / "latest"
        for path in sorted(base.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(corpus).as_posix()
            if pages is not None and rel not in pages:
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            if strip_comments and path.suffix == ".md":
                out.write_text(_HTML_COMMENT.sub("", path.read_text(encoding="utf-8")),
                               encoding="utf-8")
            else:
                shutil.copyfile(path, out)


def quick_pages(corpus: Path, questions: list[Question], others: int = 20) -> set[str]:
    """Every gold page plus the first ``others`` other pages of each language tree."""
    gold = {g for q in questions for g in q.gold_en + q.gold_zh}
    pages = set(gold)
    for lang in ("en", "zh"):
        found = sorted(p.relative_to(corpus).as_posix()
                       for p in (corpus / "docs" / lang / "latest").rglob("*.md"))
        pages |= set([p for p in found if p not in gold][:others])
    return pages


# ------------------------------------------------------------------------------ GitBugs


@dataclass
class Report:
    """One bug report of a duplicates pool."""

    id: str
    title: str
    description: str
    created_ts: int
    resolution: str = ""


@dataclass
class DupProject:
    """A duplicates pool and its (query, target) pairs."""

    name: str
    reports: dict[str, Report]
    pairs: list[tuple[str, str]]
    resolutions: dict[str, str] = field(default_factory=dict)  # the whole pool's


DUP_PROJECTS = ("hadoop", "seamonkey")
_TIME_FORMATS = ("%d/%b/%y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def parse_created(text: str) -> int:
    """Unix seconds of a ``created`` value: ISO 8601 (SeaMonkey) or JIRA's 24/Aug/22 16:10 (UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"unknown created format: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def load_duplicates(data: Path, name: str) -> DupProject:
    """A GitBugs pool and its pairs; query = the later report, target = the earlier one."""
    folder = data / "duplicates"
    reports = {}
    for item in read_jsonl(folder / f"{name}_pool.jsonl"):
        reports[str(item["id"])] = Report(
            str(item["id"]), item.get("title") or "", item.get("description") or "",
            parse_created(item["created"]), str(item.get("resolution") or ""),
        )
    pairs = [(str(item["query_id"]), str(item["target_id"]))
             for item in read_jsonl(folder / f"{name}_pairs.jsonl")]
    return DupProject(name, reports, pairs, {i: r.resolution for i, r in reports.items()})


def quick_duplicates(project: DupProject, pairs: int = 8, others: int = 150) -> DupProject:
    """A small, fixed subset for a smoke check: a few pairs plus the oldest other reports."""
    kept_pairs = project.pairs[:pairs]
    ids = {i for pair in kept_pairs for i in pair}
    rest = sorted((r for r in project.reports.values() if r.id not in ids),
                  key=lambda r: (r.created_ts, r.id))[:others]
    ids |= {r.id for r in rest}
    return DupProject(project.name, {i: project.reports[i] for i in sorted(ids)}, kept_pairs,
                      project.resolutions)


# ------------------------------------------------------------------------------ NLBSE'24


def load_nlbse(data: Path, split: str) -> list[dict[str, Any]]:
    """The NLBSE'24 issue classification split ("train" or "test")."""
    return read_jsonl(data / "issue_classification" / f"nlbse24_issues_{split}.jsonl")


# ------------------------------------------------------------------------------ example project


def example_issues() -> list[dict[str, Any]]:
    """The example project's past issues and PRs (GitHub REST shape)."""
    return json.loads((EXAMPLE / "issues.json").read_text())


def example_incoming() -> list[dict[str, Any]]:
    """The example project's incoming issues, in file order."""
    return [json.loads(p.read_text()) for p in sorted((EXAMPLE / "incoming").glob("*.json"))]
