"""The newcomer-guide kind: a cited step-by-step guide and good-first issues, for review."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from assistant.chains.guards import clean_line
from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.kinds.newcomer_guide.models import GuideInput, GuideOptions
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind

if TYPE_CHECKING:
    from assistant.context import AppContext

PROMPT = "newcomer_step"


class NewcomerGuide(Kind[GuideInput]):
    """A guide for an interest in EN or ZH; every step cites an ingested page. ``options``
    and ``now`` replace the defaults (a project's labels, a fixed clock in tests)."""

    name = DraftKind.NEWCOMER_GUIDE
    input_model = GuideInput
    summary = "Queue a newcomer guide for an interest, in English or Chinese."
    progress_label = "Writing the guide"

    def __init__(self, *, options: GuideOptions | None = None,
                 now: datetime | None = None) -> None:
        self.options, self.now = options, now

    def title(self, request: GuideInput) -> str:
        interest = clean_line(request.interest, 60)
        return f"Newcomer guide ({request.language})" + (f": {interest}" if interest else "")

    def draft(self, ctx: AppContext, request: GuideInput, project: str,
              progress: Progress | None = None) -> DraftResult:
        from assistant.kinds.newcomer_guide.chain import draft_guide
        from assistant.prompting import load_prompt

        prompt = load_prompt(PROMPT, ctx.settings.prompt_versions.get(PROMPT))
        guide = draft_guide(project=project, interest=request.interest,
                            language=request.language, settings=ctx.settings,
                            index=ctx.index(project), chat_model=ctx.chat_model(), prompt=prompt,
                            options=self.options, now=self.now, progress=progress)
        return DraftResult(
            output=guide.model_dump(mode="json"),
            sources=[step.source.model_dump(mode="json") for step in guide.steps],
            content=DraftContent(text=guide.markdown),
            prompt_name=prompt.name, prompt_version=prompt.version, model=guide.model,
            confidence=guide.confidence, language=request.language)


KIND = NewcomerGuide()
