"""The application context: settings plus the providers built from them, created on first use."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.errors import NotFound
from assistant.providers.chat import build_chat_model
from assistant.providers.embeddings import NamedEmbeddings, build_embedder
from assistant.providers.model_files import Progress
from assistant.providers.vector_index import VectorIndex
from assistant.retrieval.retriever import Retriever
from assistant.settings import Settings
from assistant.store.drafts import DraftStore


@dataclass
class AppContext:
    """What services need, built lazily from one Settings object (tests may inject fakes)."""

    settings: Settings
    chat: BaseChatModel | None = None
    embedder: NamedEmbeddings | None = None
    store: DraftStore | None = None
    _indexes: dict[str, VectorIndex] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def chat_model(self, progress: Progress | None = None) -> BaseChatModel:
        with self._lock:
            if self.chat is None:
                self.chat = build_chat_model(self.settings, progress)
            return self.chat

    def embeddings(self) -> NamedEmbeddings:
        with self._lock:
            if self.embedder is None:
                self.embedder = build_embedder(self.settings)
            return self.embedder

    def project_name(self, project: str | None = None) -> str:
        """The name of a configured project (the default one always is); any other name is
        refused before anything is created for it (a search once made a collection per name)."""
        name = project or self.settings.project
        if name != self.settings.project and name not in self.settings.projects:
            known = ", ".join(sorted({self.settings.project, *self.settings.projects}))
            raise NotFound(f"Project {name!r} is not configured.",
                           fix=f"use one of: {known}, or add it under `projects:` in the config "
                               "file")
        return name

    def index(self, project: str | None = None) -> VectorIndex:
        """A configured project's index, created on first use (unknown names are refused)."""
        name = self.project_name(project)
        with self._lock:
            if name not in self._indexes:
                self._indexes[name] = VectorIndex.open(self.settings, self.embeddings(), name)
            return self._indexes[name]

    def retriever(self, project: str | None = None) -> Retriever:
        """Search over a project's index, the configured way (dense, BM25 or hybrid)."""
        return Retriever(self.index(project), self.settings.retrieval)

    def drafts(self) -> DraftStore:
        with self._lock:
            if self.store is None:
                self.store = DraftStore.open(self.settings)
            return self.store
