"""Test helpers shared by several test modules."""

from __future__ import annotations

from assistant.context import AppContext
from assistant.providers.embeddings import NamedEmbeddings
from assistant.settings import Settings


class CountingEmbedder(NamedEmbeddings):
    """Wraps the real embedder and counts what it is asked to embed; can fail on demand."""

    def __init__(self, inner: NamedEmbeddings, fail_after: int | None = None) -> None:
        self.inner, self.identity = inner, inner.identity
        self.embedded: list[str] = []
        self.fail_after = fail_after

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and len(self.embedded) >= self.fail_after:
            raise KeyboardInterrupt("killed mid-ingest")
        self.embedded += texts
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def counting_ctx(settings: Settings, **kw) -> tuple[AppContext, CountingEmbedder]:
    """A context whose embedder counts (and may fail); the real embedder underneath."""
    ctx = AppContext(settings)
    counting = CountingEmbedder(ctx.embeddings(), **kw)
    ctx.embedder = counting
    return ctx, counting
