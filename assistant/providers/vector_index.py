"""The vector index: one Chroma collection per project, local folder or Chroma server.

Embeddings are always computed by our own embedder and handed to Chroma, and the
collection gets that embedder as its embedding function: Chroma's built-in
default (which downloads a model) is never used.

Every add, delete and metadata update also appends one entry (the ids it touched) to a
small companion collection, the change log, so a BM25 view in any process can apply
just what changed since it last looked (``changes_since``) instead of listing all ids.
Entries have unique ids, so concurrent writers never overwrite each other's.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import IndexMismatchError, ProviderUnavailable
from assistant.private_files import private_dir
from assistant.providers.embeddings import NamedEmbeddings
from assistant.settings import Settings

Metadata = dict[str, str | int | float | bool]
LOG_SUFFIX = "-changes"
LOG_RETENTION_NS = 24 * 3600 * 10**9  # change-log entries older than this are pruned
QUERY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Change:
    """One change-log entry: when (writer's clock, ns) and which passage ids it touched."""

    entry: str
    seq: int
    ids: tuple[str, ...]


class QueryVectorCache:
    """An LRU of query embeddings, keyed by embedder identity and text (thread-safe)."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vector(self, embedder: NamedEmbeddings, text: str) -> np.ndarray:
        """The embedder's query vector for a text, computed once per (identity, text)."""
        key = (embedder.identity, text)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        vector = np.asarray(embedder.embed_query(text), dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            self._items[key] = vector
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vector


QUERY_VECTORS = QueryVectorCache()


@dataclass
class Chunk:
    """A passage to index, with a stable id (a content hash) and flat metadata."""

    id: str
    text: str
    metadata: Metadata = field(default_factory=dict)


@dataclass
class Hit:
    """A retrieved passage and its cosine similarity to the query."""

    id: str
    text: str
    metadata: Metadata
    score: float
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return str(self.metadata.get("url", ""))

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))


def collection_name(prefix: str, project: str) -> str:
    """A Chroma-valid collection name for a project."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", project).strip("-_") or "default"
    return f"{prefix}-{slug}"[:63]


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    url = settings.vectorstore.chroma_url
    if url:
        parsed = urlparse(url)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise ProviderUnavailable(
                f"Cannot reach the Chroma server at {url}: {type(exc).__name__}.",
                fix="start it (`chroma run --path DIR`) or unset DEVREL_VECTORSTORE__CHROMA_URL",
            ) from None
    private_dir(settings.data_dir)  # 0700 (ingested text), whatever the umask
    private_dir(settings.chroma_dir)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class _Unbound(NamedEmbeddings):
    """Stands in for the embedder when Chroma rebuilds a collection on its own."""

    def __init__(self, identity: str) -> None:
        self.identity = identity

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise ProviderUnavailable(
            f"This collection needs the {self.identity} embedder, passed explicitly.",
            fix="open it through VectorIndex.open",
        )

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class _ChromaEmbeddingFunction:
    """Adapter giving Chroma our embedder (so it never falls back to its own default)."""

    def __init__(self, embedder: NamedEmbeddings) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        vectors = self._embedder.embed_documents(list(input))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:
        return [np.asarray(self._embedder.embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        return "devrel-assistant"

    def get_config(self) -> dict[str, Any]:
        return {"identity": self._embedder.identity}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _ChromaEmbeddingFunction:
        return _ChromaEmbeddingFunction(_Unbound(str(config.get("identity", "unknown"))))

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _cached_client(settings: Settings) -> Any:
    key = settings.vectorstore.chroma_url or str(settings.chroma_dir)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = _client(settings)
        return _CLIENTS[key]


class VectorIndex:
    """A project's passages in Chroma: add, delete, list ids, search."""

    def __init__(
        self, collection: Any, embedder: NamedEmbeddings, project: str, location: str = "",
        client: Any = None,
    ) -> None:
        self._collection = collection
        self._client = client
        self.embedder = embedder
        self.project = project
        self.key = f"{location}#{getattr(collection, 'name', project)}"
        self._log_collection: Any = None
        self._pruned_at = 0

    @classmethod
    def open(cls, settings: Settings, embedder: NamedEmbeddings, project: str) -> VectorIndex:
        """Open (or create) the project's collection, checking it was built by this embedder."""
        client = _cached_client(settings)
        name = collection_name(settings.vectorstore.collection_prefix, project)
        collection = client.get_or_create_collection(
            name=name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder.identity, "project": project},
            embedding_function=_ChromaEmbeddingFunction(embedder),  # type: ignore[arg-type]
        )
        built_with = (collection.metadata or {}).get("embedder")
        if built_with and built_with != embedder.identity:
            raise IndexMismatchError(
                f"The index of project {project!r} was built with {built_with}, "
                f"but the settings select {embedder.identity}.",
                fix=f"switch the embedder back or run `devrel index reset --project {project}` "
                "and ingest again",
            )
        location = settings.vectorstore.chroma_url or str(settings.chroma_dir)
        return cls(collection, embedder, project, location, client)

    @staticmethod
    def _log_name(name: str) -> str:
        return f"{name[: 63 - len(LOG_SUFFIX)]}{LOG_SUFFIX}"

    def _log(self) -> Any:
        """The change-log collection (None for a bare collection without its client)."""
        if self._client is None:
            return None
        if self._log_collection is None:
            self._log_collection = self._client.get_or_create_collection(
                name=self._log_name(self._collection.name),
                metadata={"change_log_of": self._collection.name},
                embedding_function=_ChromaEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
            )
        return self._log_collection

    def _record(self, ids: Sequence[str]) -> None:
        """Append a change-log entry for passages just written; prune old entries."""
        log = self._log()
        if log is None or not ids:
            return
        now = time.time_ns()
        log.add(ids=[uuid.uuid4().hex], documents=["\n".join(ids)],
                metadatas=[{"seq": now}], embeddings=[np.ones(1, dtype=np.float32)])
        if now - self._pruned_at > LOG_RETENTION_NS // 24:
            log.delete(where={"seq": {"$lt": now - LOG_RETENTION_NS}})
            self._pruned_at = now

    @property
    def has_change_log(self) -> bool:
        """Whether this index records its changes (always, unless opened without a client)."""
        return self._client is not None

    def changes_since(self, seq: int) -> list[Change]:
        """Change-log entries stamped at or after ``seq`` (ns), oldest first."""
        log = self._log()
        if log is None:
            return []
        got = log.get(where={"seq": {"$gte": int(seq)}}, include=["documents", "metadatas"])
        changes = [
            Change(entry, int((meta or {}).get("seq", 0)), tuple((doc or "").split("\n")))
            for entry, doc, meta in zip(got["ids"], got["documents"], got["metadatas"],
                                        strict=True)
        ]
        return sorted(changes, key=lambda c: (c.seq, c.entry))

    def passages(self, ids: Sequence[str]) -> dict[str, tuple[str, Metadata]]:
        """Text and metadata of those passages that exist, by id."""
        found: dict[str, tuple[str, Metadata]] = {}
        for start in range(0, len(ids), 5000):
            got = self._collection.get(ids=list(ids[start : start + 5000]),
                                       include=["documents", "metadatas"])
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                found[i] = (d or "", dict(m or {}))
        return found

    def passages_with_vectors(
        self, ids: Sequence[str]
    ) -> dict[str, tuple[str, Metadata, np.ndarray]]:
        """Text, metadata and stored embedding of those passages that exist, by id."""
        found: dict[str, tuple[str, Metadata, np.ndarray]] = {}
        for start in range(0, len(ids), 5000):
            got = self._collection.get(ids=list(ids[start : start + 5000]),
                                       include=["documents", "metadatas", "embeddings"])
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"],
                                  got["embeddings"], strict=True):
                found[i] = (d or "", dict(m or {}), np.asarray(e, dtype=np.float32))
        return found

    @staticmethod
    def drop(settings: Settings, project: str) -> None:
        """Delete a project's collection."""
        client = _cached_client(settings)
        name = collection_name(settings.vectorstore.collection_prefix, project)
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for doomed in (name, VectorIndex._log_name(name)):
            if doomed in names:
                client.delete_collection(doomed)

    def _fresh_metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (another worker may have changed it)."""
        if self._client is None:
            return dict(self._collection.metadata or {})
        fresh = self._client.get_collection(
            name=self._collection.name,
            embedding_function=_ChromaEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
        )
        return dict(fresh.metadata or {})

    def get_state(self, key: str) -> str | None:
        """A small value kept with the collection, e.g. an issue-sync cursor."""
        value = self._fresh_metadata().get(f"state:{key}")
        return str(value) if value is not None else None

    def set_state(self, key: str, value: str) -> None:
        """Keep a value with the collection; it goes when the index is reset, as it should."""
        metadata = {k: v for k, v in self._fresh_metadata().items() if not k.startswith("hnsw:")}
        metadata[f"state:{key}"] = value
        self._collection.modify(metadata=metadata)

    def count(self) -> int:
        return int(self._collection.count())

    def _pages(self, where: dict[str, Any] | None, include: list[str]) -> Iterator[Any]:
        """``collection.get`` results, page by page (Chroma caps one response)."""
        offset, page = 0, 5000
        while True:
            got = self._collection.get(where=where, include=include, limit=page, offset=offset)
            yield got
            if len(got["ids"]) < page:
                return
            offset += page

    def ids(self, where: dict[str, Any] | None = None) -> set[str]:
        """Ids of the passages matching a metadata filter (all when None)."""
        return {i for got in self._pages(where, []) for i in got["ids"]}

    def entries(self, where: dict[str, Any] | None = None) -> dict[str, Metadata]:
        """Id → metadata of the matching passages."""
        return {
            i: dict(m or {})
            for got in self._pages(where, ["metadatas"])
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def documents(
        self, where: dict[str, Any] | None = None
    ) -> tuple[list[str], list[str], list[Metadata]]:
        """Ids, texts and metadata of the matching passages, in a stable order."""
        rows = sorted(
            (i, d or "", dict(m or {}))
            for got in self._pages(where, ["documents", "metadatas"])
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        )
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def documents_with_vectors(
        self,
    ) -> tuple[list[str], list[str], list[Metadata], np.ndarray]:
        """Every passage's id, text, metadata and stored embedding (one row each), by id."""
        rows = sorted(
            (i, d or "", dict(m or {}), e)
            for got in self._pages(None, ["documents", "metadatas", "embeddings"])
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"],
                                  got["embeddings"], strict=True)
        )
        if not rows:
            return [], [], [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.asarray(np.stack([r[3] for r in rows]), dtype=np.float32)
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], matrix

    def vectors(
        self, where: dict[str, Any] | None = None
    ) -> tuple[list[str], np.ndarray, list[Metadata]]:
        """Ids, stored embeddings (one row each) and metadata of the matching passages, by id."""
        rows = sorted(
            (
                (i, np.asarray(e, dtype=np.float32), dict(m or {}))
                for got in self._pages(where, ["embeddings", "metadatas"])
                for i, e, m in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True)
            ),
            key=lambda row: row[0],
        )
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32), []
        return [r[0] for r in rows], np.stack([r[1] for r in rows]), [r[2] for r in rows]

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        """Replace the metadata of existing passages without embedding them again."""
        for start in range(0, len(ids), 1000):
            self._collection.update(
                ids=list(ids[start : start + 1000]),
                metadatas=list(metadatas[start : start + 1000]),
            )
            self._record(ids[start : start + 1000])

    def add(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        """Upsert passages with precomputed embeddings."""
        if not chunks:
            return
        self._collection.upsert(
            ids=[c.id for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[c.metadata for c in chunks],
            embeddings=[np.asarray(e, dtype=np.float32) for e in embeddings],
        )
        self._record([c.id for c in chunks])

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 5000):
            self._collection.delete(ids=ids[start : start + 5000])
            self._record(ids[start : start + 5000])

    def search(self, query: str, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """The k passages nearest to the query, best first (none from an empty index)."""
        vector = QUERY_VECTORS.vector(self.embedder, query)
        got = self._collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=i, text=doc or "", metadata=dict(meta or {}), score=round(1.0 - float(dist), 4),
                scores={"dense": round(1.0 - float(dist), 4)})
            for i, doc, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],
                strict=True,
            )
        ]
