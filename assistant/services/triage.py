"""Triage drafting as a service: store the request, run the chain, record the result."""

from __future__ import annotations

from assistant.context import AppContext
from assistant.errors import DevrelError
from assistant.project_files import load_project_files
from assistant.prompting import load_prompt
from assistant.providers.model_files import Progress
from assistant.store.drafts import DraftRecord
from assistant.store.models import DraftKind, DraftStatus
from assistant.triage.chain import TriagePrompts, draft_triage
from assistant.triage.models import IssueInput


def triage_prompts(ctx: AppContext) -> TriagePrompts:
    """The configured (or newest) versions of the triage prompt files."""
    pinned = ctx.settings.prompt_versions
    return TriagePrompts(*(load_prompt(name, pinned.get(name))
                           for name in ("triage_reply", "triage_summary", "translate")))


def create_triage_draft(
    ctx: AppContext, issue: IssueInput, project: str | None = None,
    progress: Progress | None = None,
) -> DraftRecord:
    """Draft a triage reply and put it in the review queue; a failure is stored, then raised."""
    issue.require_text()
    project = project or ctx.settings.project
    store = ctx.drafts()
    title = issue.title or issue.body[:80]
    record = store.create(
        kind=DraftKind.TRIAGE, project=project, title=title,
        input=issue.model_dump(), status=DraftStatus.DRAFTING,
    )
    try:
        prompts = triage_prompts(ctx)
        index = ctx.index(project)
        draft = draft_triage(
            issue, settings=ctx.settings, index=index, chat_model=ctx.chat_model(progress),
            prompts=prompts, files=load_project_files(index),
        )
    except DevrelError as exc:
        store.fail(record.id, str(exc))
        raise
    return store.complete(
        record.id,
        output=draft.model_dump(mode="json", exclude={"docs"}),
        sources=[d.model_dump(mode="json") for d in draft.docs],
        prompt_name=prompts.reply.name,
        prompt_version=prompts.reply.version,
        model=draft.model,
        language=draft.language,
        confidence=draft.confidence,
    )
