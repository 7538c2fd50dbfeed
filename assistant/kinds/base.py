"""What a draft kind is: a name, one input model, a title, and ``draft``.

Every face (API, CLI, review desk, webhooks, workers) reaches a kind through the registry
(``assistant.drafting.registry``) and this interface, never through the kind's internals.
A kind imports its heavy libraries inside ``draft``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from assistant.providers.model_files import Progress
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind

if TYPE_CHECKING:
    from assistant.context import AppContext

__all__ = ["DraftResult", "Kind", "Progress"]
InputT = TypeVar("InputT", bound=BaseModel)


@dataclass
class DraftResult:
    """What a kind's ``draft`` hands back for the store."""

    output: dict[str, Any]
    sources: list[dict[str, Any]]
    content: DraftContent
    prompt_name: str | None
    prompt_version: int | None
    model: str
    confidence: float | None
    language: str | None


class Kind(ABC, Generic[InputT]):
    """One kind of draft.

    ``input_model`` is the whole input: the API's request body is that model plus the project
    (nested under ``body_field`` when set, as triage's ``issue``), the CLI fills it from its
    options, the desk's create form from its fields.
    """

    name: ClassVar[DraftKind]
    input_model: ClassVar[type[BaseModel]]
    summary: ClassVar[str]  # one line: the API route's description, the desk's form help
    body_field: ClassVar[str | None] = None
    examples: ClassVar[tuple[dict[str, Any], ...]] = ()  # API request bodies for the docs
    progress_label: ClassVar[str] = "Drafting"

    @property
    def route(self) -> str:
        """The API path segment: ``/v1/drafts/<route>``."""
        return self.name.value.replace("_", "-")

    def check(self, request: InputT) -> None:
        """Checks beyond the input model's own (raise ``InvalidInput`` with the fix)."""

    @abstractmethod
    def title(self, request: InputT) -> str:
        """The draft's title in the queue."""

    @abstractmethod
    def draft(self, ctx: AppContext, request: InputT, project: str,
              progress: Progress | None = None) -> DraftResult:
        """Draft for review: structure from code, phrasing from the model, all checked."""
