"""Test helpers shared by several test modules."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

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


class Sent(NamedTuple):
    """One message of a prompt as the chat model received it."""

    role: str  # "system", "human", "ai", …
    content: str


class RecordingChatModel(FakeListChatModel):
    """Canned ``responses`` (cycled, as FakeListChatModel does), plus a ``history`` of every
    prompt received: one list of :class:`Sent` messages per call, in call order."""

    history: list[list[Sent]] = Field(default_factory=list)

    def _record(self, messages: list[BaseMessage]) -> None:
        self.history.append([Sent(m.type, str(m.content)) for m in messages])

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        self._record(messages)
        return super()._call(messages, *args, **kwargs)

    def _stream(self, messages: list[BaseMessage], *args: Any,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self._record(messages)
        yield from super()._stream(messages, *args, **kwargs)

    def prompts(self) -> list[str]:
        """Each call's messages joined into one text (system first, as sent)."""
        return ["\n".join(m.content for m in call) for call in self.history]

    def texts(self, role: str) -> list[str]:
        """Per call, the joined content of its messages of one role ("system" or "human")."""
        return ["\n".join(m.content for m in call if m.role == role) for call in self.history]


def fenced(text: str, tag: str) -> list[str]:
    """The blocks of ``text`` inside ``<tag>…</tag>`` as :func:`assistant.prompting.fence`
    writes them (tags on their own lines), tags included."""
    name = re.escape(tag)
    return re.findall(rf"<{name}>\n.*?\n</{name}>", text, flags=re.DOTALL)


def outside_fences(text: str, *tags: str) -> str:
    """``text`` with every fenced block of the given tags cut out."""
    for tag in tags:
        for block in fenced(text, tag):
            text = text.replace(block, "")
    return text


def race_claims(store: Any, draft_id: int, workers: int) -> list[int]:
    """``workers`` threads claim one draft at the same moment; the numbers of those that won."""
    barrier, wins = threading.Barrier(workers), []

    def race(n: int) -> None:
        barrier.wait()
        if store.claim(draft_id, lease_s=30, worker=f"w{n}"):
            wins.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins
