"""The triage kind: labels, likely duplicates, the docs that answer, what is missing, and a
short reply in the reporter's language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from assistant.forge.shapes import IssueInput
from assistant.kinds.base import DraftResult, Kind, Progress
from assistant.prompting import load_prompt
from assistant.store.drafts import DraftContent
from assistant.store.models import DraftKind

if TYPE_CHECKING:
    from assistant.context import AppContext
    from assistant.kinds.triage.chain import TriagePrompts
    from assistant.kinds.triage.models import TriageDraft


def triage_prompts(ctx: AppContext) -> TriagePrompts:
    """The configured (or newest) versions of the triage prompt files."""
    from assistant.kinds.triage.chain import TriagePrompts

    pinned = ctx.settings.prompt_versions
    return TriagePrompts(*(load_prompt(name, pinned.get(name))
                           for name in ("triage_reply", "triage_summary", "translate",
                                         "triage_choose")))


def triage_content(draft: TriageDraft) -> DraftContent:
    """Revision 1 of a triage draft: the reply, its translation, labels and duplicates."""
    return DraftContent(
        text=draft.reply_markdown if draft.reply_needed else "",
        translation=draft.reply_en,
        labels=[label.name for label in draft.labels if label.source != "applied"],
        duplicates=[dup.number for dup in draft.duplicates],
    )


class Triage(Kind[IssueInput]):
    name = DraftKind.TRIAGE
    input_model = IssueInput
    summary = "Queue a triage draft for an issue (labels, duplicates, docs, missing info, reply)."
    body_field: ClassVar[str | None] = "issue"
    examples: ClassVar[tuple[dict[str, Any], ...]] = ({
        "project": "kvlite",
        "issue": {"title": "database is locked after a crash",
                  "body": "kvlite 0.4.1 on Linux: after kill -9 every open() fails with "
                          "'database is locked'.", "author": "alice",
                  "repo": "example-org/kvlite", "number": 101},
    },)
    progress_label = "Drafting the triage reply"

    def check(self, request: IssueInput) -> None:
        request.require_text()

    def title(self, request: IssueInput) -> str:
        return request.title or request.body[:80]

    def draft(self, ctx: AppContext, request: IssueInput, project: str,
              progress: Progress | None = None) -> DraftResult:
        from assistant.kinds.triage.chain import draft_triage
        from assistant.project_files import load_project_files

        prompts = triage_prompts(ctx)
        index = ctx.index(project)
        draft = draft_triage(
            request, settings=ctx.settings, index=index, chat_model=ctx.chat_model(),
            prompts=prompts, files=load_project_files(index),
        )
        return DraftResult(
            output=draft.model_dump(mode="json", exclude={"docs"}),
            sources=[d.model_dump(mode="json") for d in draft.docs],
            content=triage_content(draft),
            prompt_name=prompts.reply.name,
            prompt_version=prompts.reply.version,
            model=draft.model,
            confidence=draft.confidence,
            language=draft.language,
        )


KIND = Triage()
