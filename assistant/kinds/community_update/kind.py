"""The community-update kind: a short bilingual update for a period, figures and thanks
placed by code, the opening sentence phrased by the model and checked."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, model_validator

from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind

if TYPE_CHECKING:
    from assistant.context import AppContext

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2100, 12, 31)  # the periods activity covers
# The same range for JSON Schema, which bounds no dates.
DAY_PATTERN = r"^(19[7-9][0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class ActivityInput(BaseModel):
    """A period of activity (days included, UTC)."""

    since: date = Field(..., ge=FIRST_DAY, le=LAST_DAY, examples=["2026-10-01"],
                        json_schema_extra={"pattern": DAY_PATTERN},
                        description="First day of the period (YYYY-MM-DD).")
    until: date = Field(..., ge=FIRST_DAY, le=LAST_DAY, examples=["2026-10-31"],
                        json_schema_extra={"pattern": DAY_PATTERN},
                        description="Last day of the period, included.")
    unanswered_days: int = Field(7, ge=0, le=3650, description="An open issue without a first "
                                 "response for longer than this is listed as unanswered.")

    @model_validator(mode="after")
    def _ordered(self) -> ActivityInput:
        if self.until < self.since:
            raise ValueError(f"until ({self.until}) is before since ({self.since})")
        return self


class CommunityUpdate(Kind[ActivityInput]):
    name = DraftKind.COMMUNITY_UPDATE
    input_model = ActivityInput
    summary = "Queue a bilingual community update (activity figures for a period)."
    progress_label = "Writing the update"

    def title(self, request: ActivityInput) -> str:
        return f"Community update {request.since} – {request.until}"

    def draft(self, ctx: AppContext, request: ActivityInput, project: str,
              progress: Progress | None = None) -> DraftResult:
        """A short community update in English and Chinese: figures and thanks placed by
        code, the opening sentence phrased by the model (checked: no number that is not in
        the figures), or a template when the model's fails twice."""
        from assistant.chains.generate import Usage, generate
        from assistant.kinds.community_update.history import load_items
        from assistant.kinds.community_update.metrics import compute_metrics
        from assistant.kinds.community_update.update import (
            allowed_numbers,
            check_intro,
            facts,
            fallback_intro,
            render_update,
        )
        from assistant.language import LANGUAGE_NAMES
        from assistant.prompting import load_prompt
        from assistant.providers.chat import chat_model_name

        metrics = compute_metrics(load_items(ctx, project), project, request.since, request.until,
                                  unanswered_days=request.unanswered_days)
        prompt = load_prompt(self.name, ctx.settings.prompt_versions.get(self.name))
        chat = ctx.chat_model()
        usage = Usage()
        allowed = allowed_numbers(metrics)
        fact_text = "\n".join(facts(metrics))
        texts: dict[str, str] = {}
        from_model: dict[str, bool] = {}
        rejected: dict[str, list[str]] = {}
        for step, language in enumerate(("en", "zh")):
            if progress:
                progress(step, 2)
            messages = prompt.render(project=project, language_name=LANGUAGE_NAMES[language],
                                     facts=fact_text)
            generation = generate(
                chat, messages, settings=ctx.settings, max_tokens=prompt.max_tokens,
                check=lambda text, lang=language: check_intro(text, allowed, lang), usage=usage)
            from_model[language] = generation.text is not None
            rejected[language] = generation.problems
            texts[language] = render_update(
                metrics, generation.text or fallback_intro(metrics, language), language)
        if progress:
            progress(2, 2)
        output = {"metrics": metrics.model_dump(mode="json"), "markdown_en": texts["en"],
                  "markdown_zh": texts["zh"], "intro_from_model": from_model,
                  "intro_problems": rejected, "usage": usage.model_dump()}
        return DraftResult(
            output=output, sources=[],
            content=DraftContent(text=texts["en"], translation=texts["zh"]),
            prompt_name=prompt.name, prompt_version=prompt.version, model=chat_model_name(chat),
            confidence=round(sum(from_model.values()) / 2, 3), language="en")


KIND = CommunityUpdate()
