"""One small, guarded job for the chat model: call, clean, check, retry once, or give up.

The 1.5B local model loops and invents structure when asked for much at once, so every
chain gives it one short job at a time and validates what comes back; on a second failure
the caller falls back to a template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from assistant.providers.chat import invoke_error
from assistant.settings import Settings


class Usage(BaseModel):
    """Tokens and calls a draft cost."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    # prompt tokens the model evaluated, for a model that reports them (the local model: those
    # it could not take from its prompt cache); 0 for a model that does not
    prompt_tokens_processed: int = 0

    def count(self, reply: Any) -> None:
        """Add one model call's tokens (from its usage and response metadata)."""
        meta = getattr(reply, "usage_metadata", None) or {}
        self.input_tokens += int(meta.get("input_tokens", 0))
        self.output_tokens += int(meta.get("output_tokens", 0))
        self.calls += 1
        response = getattr(reply, "response_metadata", None) or {}
        self.prompt_tokens_processed += int(response.get("prompt_tokens_processed") or 0)


@dataclass
class Checked:
    """What a checker made of one model output."""

    text: str
    problems: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)


@dataclass
class Generation:
    """The accepted text (None when every attempt failed its checks) and what it cost."""

    text: str | None
    cited: list[int] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    attempts: int = 0


def generate(
    chat_model: BaseChatModel,
    messages: list[BaseMessage],
    *,
    settings: Settings,
    max_tokens: int | None,
    check: Callable[[str], Checked],
    usage: Usage,
    attempts: int = 2,
) -> Generation:
    """Call the model, check its output, retry once greedily; count tokens into ``usage``."""
    budget = min(settings.llm.max_tokens, max_tokens or settings.llm.max_tokens)
    result = Generation(text=None)
    for attempt in range(attempts):
        options: dict[str, float | int] = {"max_tokens": budget}
        if attempt:
            options["temperature"] = 0.0
        try:
            reply = chat_model.invoke(messages, **options)
        except Exception as exc:
            raise invoke_error(exc, settings) from None
        usage.count(reply)
        result.attempts += 1
        checked = check(str(reply.content))
        result.removed += checked.removed
        if not checked.problems:
            result.text, result.cited = checked.text, checked.cited
            return result
        result.problems += checked.problems
    return result
