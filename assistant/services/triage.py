"""Triage drafting as a service: run the chain on an issue, store the result for review."""

from __future__ import annotations

from assistant.context import AppContext
from assistant.project_files import load_project_files
from assistant.prompting import load_prompt
from assistant.providers.model_files import Progress
from assistant.services.drafting import DraftResult, draft_now
from assistant.store.drafts import DraftContent, DraftRecord
from assistant.store.models import DraftKind
from assistant.triage.chain import TriagePrompts, draft_triage
from assistant.triage.models import IssueInput, TriageDraft


def triage_prompts(ctx: AppContext) -> TriagePrompts:
    """The configured (or newest) versions of the triage prompt files."""
    pinned = ctx.settings.prompt_versions
    return TriagePrompts(*(load_prompt(name, pinned.get(name))
                           for name in ("triage_reply", "triage_summary", "translate")))


def triage_content(draft: TriageDraft) -> DraftContent:
    """Revision 1 of a triage draft: the reply, its translation, labels and duplicates."""
    return DraftContent(
        text=draft.reply_markdown if draft.reply_needed else "",
        translation=draft.reply_en,
        labels=[label.name for label in draft.labels],
        duplicates=[dup.number for dup in draft.duplicates],
    )


def draft_issue(
    ctx: AppContext, issue: IssueInput, project: str, progress: Progress | None = None
) -> DraftResult:
    """Run the triage chain on one issue."""
    prompts = triage_prompts(ctx)
    index = ctx.index(project)
    draft = draft_triage(
        issue, settings=ctx.settings, index=index, chat_model=ctx.chat_model(progress),
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


def create_triage_draft(
    ctx: AppContext, issue: IssueInput, project: str | None = None,
    progress: Progress | None = None, requested_by: str = "cli",
) -> DraftRecord:
    """Draft a triage reply now (no queue) and put it in the review queue.

    A failure is stored with the draft, then raised.
    """
    issue.require_text()
    project = project or ctx.settings.project
    return draft_now(ctx, kind=DraftKind.TRIAGE, project=project,
                     title=issue.title or issue.body[:80], data=issue.model_dump(),
                     run=lambda: draft_issue(ctx, issue, project, progress),
                     requested_by=requested_by)
