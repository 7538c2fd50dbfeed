"""Newcomer guides as a service: a cited step-by-step guide and good-first issues, for review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.chains.guards import clean_line
from assistant.context import AppContext
from assistant.guide.chain import draft_guide
from assistant.guide.models import GuideInput, GuideOptions
from assistant.prompting import load_prompt
from assistant.providers.model_files import Progress
from assistant.services.drafting import DraftResult
from assistant.store.drafts import DraftContent

PROMPT = "newcomer_step"


def parse_guide(data: dict[str, Any]) -> GuideInput:
    """The checked input of a newcomer-guide draft (extra keys such as project are ignored)."""
    return GuideInput.model_validate(data)


def guide_title(request: GuideInput) -> str:
    """The draft's title in the queue."""
    interest = clean_line(request.interest, 60)
    return f"Newcomer guide ({request.language})" + (f": {interest}" if interest else "")


def draft_newcomer_guide(
    ctx: AppContext, data: dict[str, Any], project: str, progress: Progress | None = None, *,
    options: GuideOptions | None = None, now: datetime | None = None,
) -> DraftResult:
    """Draft a newcomer guide for an interest in EN or ZH; every step cites an ingested page."""
    request = parse_guide(data)
    prompt = load_prompt(PROMPT, ctx.settings.prompt_versions.get(PROMPT))
    guide = draft_guide(project=project, interest=request.interest, language=request.language,
                        settings=ctx.settings, index=ctx.index(project),
                        chat_model=ctx.chat_model(), prompt=prompt, options=options, now=now,
                        progress=progress)
    return DraftResult(
        output=guide.model_dump(mode="json"),
        sources=[step.source.model_dump(mode="json") for step in guide.steps],
        content=DraftContent(text=guide.markdown),
        prompt_name=prompt.name, prompt_version=prompt.version, model=guide.model,
        confidence=guide.confidence, language=request.language)
